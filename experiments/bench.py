"""`python -m experiments bench`: how fast the lab is, where the time goes, and how close to the limit.

On a CPU it measures the tiny engine (ratios mean something there; absolute seconds do not). On CUDA it
also builds the real 1.3B transformer from its config with random weights (no download) and times it at
480x832x81 and 320x576x49, with peak memory and the fraction of the FLOP floor; with --families, then
Wan2.2-Animate and Wan-Animate-2 whole (transformer, text encoder, image encoder, VAE; random weights) through the
engine at their presets' default sizes and memory plans: s/step, decode, peak memory.

Everything is measured side by side in one run and written as a table and as JSON, with the keys
`engine_overhead_ratio`, `sweep_amortization_ratio` and `startup_seconds` for CI dashboards.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

logger = logging.getLogger("experiments.bench")

SIZES = ((480, 832, 81), (320, 576, 49))
QUICK_SIZE = (128, 224, 17)
# The tiny model's rotary embedding covers 32 patches per axis (512 px): its largest sizes stand in for
# the real ones, which the real architecture measures on CUDA.
TINY_SIZES = (QUICK_SIZE, (256, 448, 33))
REAL_MODEL = "wan-vace-1.3b"
REAL_FAMILIES = ("wan-animate-14b", "wan-animate-2-14b")  # beside VACE: built whole, run through the engine


def run_bench(quick: bool = False, model: str = "tiny", families: bool = False) -> dict:
    import torch

    from engine.paths import REPO_ROOT

    cuda = torch.cuda.is_available()
    results = {"device": torch.cuda.get_device_name() if cuda else "cpu", "quick": quick, "model": model,
               "startup_seconds": startup_seconds(REPO_ROOT)}
    missing = missing_video_reader()
    if missing:  # a bare GPU machine with only the wheels it was sent: measure what needs no video files
        logger.warning("skipping the engine's measures: %s", missing)
        results["skipped"] = {"engine measures": missing}
    else:
        results.update(engine_measures(model, quick))
    if cuda:
        results["real_architecture"] = real_architecture(quick)
        if families and missing:  # they run through the engine, which reads the sample videos
            results.setdefault("skipped", {})["real families"] = missing
        elif families:
            results["real_families"] = real_families(quick)
    return results


def missing_video_reader() -> str | None:
    """Why the engine cannot read the sample pose video here, or None when it can."""
    try:
        import imageio_ffmpeg

        imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as err:  # noqa: BLE001 - not installed (ImportError), or its ffmpeg binary missing
        return f"no ffmpeg from imageio-ffmpeg ({str(err).splitlines()[0][:120]}), so the sample pose video cannot be read"
    return None


def engine_measures(model: str, quick: bool) -> dict:
    """Stages, speed options and the engine's ratios on the sample inputs."""
    results = {}
    engine, request = tiny_engine_and_request(model, quick)
    sizes = TINY_SIZES if engine.family.small else SIZES
    results["stages"] = [stage_timings(engine, request.replace(height=h, width=w, num_frames=f))
                         for h, w, f in (sizes[:1] if quick else sizes)]
    small = request.replace(height=QUICK_SIZE[0], width=QUICK_SIZE[1], num_frames=QUICK_SIZE[2])
    results["speed_options"] = speed_options(engine, small)
    if not quick:
        results["speed_options"].append(compiled_blocks(model, small))
    from experiments.measure import measure, measure_sweep

    overhead = measure(engine, request.replace(height=QUICK_SIZE[0], width=QUICK_SIZE[1], num_frames=QUICK_SIZE[2]),
                       reps=2 if quick else 3)
    results["engine_overhead_ratio"] = overhead["engine_overhead_ratio"]
    results["cached_second_request_ratio"] = overhead["cached_second_request_ratio"]
    results["sweep_amortization_ratio"] = measure_sweep(engine)["sweep_amortization_ratio"]
    return results


def tiny_engine_and_request(model: str, quick: bool):
    from engine import Engine
    from engine.paths import ASSETS_DIR

    engine = Engine.from_name(model)
    engine.load()
    request = engine.default_request(control_video=str(ASSETS_DIR / "pose.mp4"),
                                     reference=str(ASSETS_DIR / "reference.png"),
                                     prompt="A young man dances in a bright studio.", num_inference_steps=2 if quick else 4)
    return engine, request


def generation_timings(engine, request) -> dict:
    """Prompt encode, conditioning encode, s/step, decode and peak memory for one request, caches cold."""
    engine.clear_caches()
    result = engine.generate(request)
    t = result.timings
    return {"size": f"{request.height}x{request.width}x{request.num_frames}", "steps": request.num_inference_steps,
            "prompt_encode_s": t["prompt_encode"], "condition_encode_s": t["condition_encode"],
            "s_per_step": t["s_per_step"], "decode_s": t["decode"], "peak_memory_mb": result.peak_memory_mb,
            "memory_kind": result.memory_kind}


def stage_timings(engine, request) -> dict:
    """generation_timings with the step's FLOPs and the rate they ran at."""
    row = generation_timings(engine, request)
    flops = step_flops(engine, request)
    row["tflop_per_step"] = flops / 1e12
    row["achieved_tflops"] = flops / row["s_per_step"] / 1e12
    return row


def step_flops(engine, request) -> float:
    """FLOPs of one denoising step: two transformer forwards with CFG (one without)."""
    from engine.train.estimate import count_tokens, forward_flops, transformer_parameters

    config = engine.spec.transformer_config or dict(engine.load().transformer.config)
    tokens = count_tokens(config, request.height, request.width, request.num_frames,
                          with_reference=request.reference is not None)
    return forward_flops(config, tokens, transformer_parameters(config)) * (2 if request.uses_cfg else 1)


def speed_options(engine, request) -> list[dict]:
    """Each option on and off, on the same request: s/step ratios (and what the option gave up)."""
    import numpy as np

    def run(r):
        engine.clear_caches()
        result = engine.generate(r)
        return result.timings["s_per_step"], result

    rows = []
    base_s, base = run(request)
    no_cfg_s, _ = run(request.replace(guidance_scale=1.0))
    rows.append({"option": "guidance <= 1 skips the unconditional pass", "on_s_per_step": no_cfg_s,
                 "off_s_per_step": base_s, "ratio": no_cfg_s / base_s})
    cached_s, cached = run(request.replace(step_cache=0.2, num_inference_steps=max(8, request.num_inference_steps)))
    plain_s, plain = run(request.replace(num_inference_steps=max(8, request.num_inference_steps)))
    rows.append({"option": "step cache 0.2", "on_s_per_step": cached_s, "off_s_per_step": plain_s,
                 "ratio": cached_s / plain_s, "skipped": cached.timings["step_cache_skipped"],
                 "mean_abs_pixel_difference": float(np.abs(cached.frames.astype(int) - plain.frames.astype(int)).mean())})
    return rows


def compiled_blocks(model: str, request) -> dict:
    """Regional torch.compile on and off: s/step after the first (compiling) call, and the compile time."""
    from engine import Engine

    timings = {}
    for name, changes in (("off", {}), ("on", {"compile_blocks": True})):
        engine = Engine.from_name(model, **changes)
        started = time.perf_counter()
        engine.generate(request)
        first = time.perf_counter() - started
        timings[name] = (engine.generate(request).timings["s_per_step"], first)
    return {"option": "regional torch.compile", "on_s_per_step": timings["on"][0], "off_s_per_step": timings["off"][0],
            "ratio": timings["on"][0] / timings["off"][0], "first_call_s": timings["on"][1]}


def startup_seconds(repo_root: Path) -> float:
    """Launch `python app.py` on a free port and time it until the page answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "VACE_LAB_HOME": tempfile.mkdtemp(prefix="bench-"), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--model", "tiny"], cwd=repo_root,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - started < 120:
            if process.poll() is not None:  # it could not start (a missing package, say): no time to report
                logger.warning("app.py exited with status %s before serving", process.returncode)
                return float("nan")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        return float("nan")
    finally:
        process.terminate()
        process.wait(timeout=30)


def real_architecture(quick: bool) -> list[dict]:
    """CUDA only: the 1.3B transformer (random weights, bf16) at the real sizes; s/step with CFG, peak
    memory, and the fraction of the FLOP floor at PEAK_TFLOPS."""
    import torch
    from diffusers import WanVACETransformer3DModel

    from engine.spec import ModelSpec
    from engine.train.estimate import PEAK_TFLOPS, count_tokens, forward_flops, transformer_parameters

    config = ModelSpec.from_preset(REAL_MODEL).transformer_config
    with torch.device("cuda"):
        transformer = WanVACETransformer3DModel.from_config(config).to(torch.bfloat16).eval()
    parameters = transformer_parameters(config)
    rows = []
    sizes = SIZES[1:] if quick else SIZES
    for height, width, frames in sizes:
        latent_frames = (frames - 1) // 4 + 2  # + the reference frame
        shape = (1, 16, latent_frames, height // 8, width // 8)
        latents = torch.randn(shape, device="cuda", dtype=torch.bfloat16)
        control = torch.randn((1, 96, *shape[2:]), device="cuda", dtype=torch.bfloat16)
        prompt = torch.randn((1, 512, 4096), device="cuda", dtype=torch.bfloat16)
        inputs = dict(hidden_states=latents, timestep=torch.tensor([500.0], device="cuda"),
                      encoder_hidden_states=prompt, control_hidden_states=control,
                      control_hidden_states_scale=torch.ones(len(config["vace_layers"]), device="cuda"),
                      return_dict=False)
        torch.cuda.reset_peak_memory_stats()
        seconds = cfg_step_seconds(transformer, inputs, reps=3)
        flops = 2 * forward_flops(config, count_tokens(config, height, width, frames), parameters)
        rows.append({"size": f"{height}x{width}x{frames}", "s_per_step": seconds,
                     "peak_memory_gb": torch.cuda.max_memory_allocated() / 1e9, "tflop_per_step": flops / 1e12,
                     "fraction_of_floor": flops / 1e12 / PEAK_TFLOPS / seconds, "attention_backend": "native"})
        if (height, width, frames) == sizes[-1]:
            rows += other_attention_backends(transformer, inputs, rows[-1])
    return rows


def real_families(quick: bool) -> list[dict]:
    """CUDA only: each Animate family's real architecture with random weights (experiments/random_models.py),
    through the engine at its preset's default size and memory plan: build time, stage times, peak memory. A
    family that cannot run here says why in its row."""
    import gc

    import torch

    rows = []
    for preset in REAL_FAMILIES:
        try:
            rows.append(family_generation(preset, steps=1 if quick else 2))
        except Exception as err:  # noqa: BLE001 - out of memory, a missing kernel: the row says which
            rows.append({"preset": preset, "unavailable": str(err).splitlines()[0][:200]})
        gc.collect()
        torch.cuda.empty_cache()
    return rows


def family_generation(preset: str, steps: int, device: str = "cuda", real_parts=None, **request_changes) -> dict:
    """One generation of a preset's model built in memory (random_pipeline: `real_parts`, default all, at their
    published size), placed as its memory plan says, on the preset's sample inputs at its default size."""
    from engine import Engine
    from engine.spec import ModelSpec
    from experiments.random_models import REAL_PARTS, random_pipeline

    spec = ModelSpec.from_preset(preset)
    started = time.perf_counter()
    pipe = random_pipeline(spec, REAL_PARTS if real_parts is None else real_parts)
    engine = Engine.with_pipeline(spec, pipe, device)
    built = time.perf_counter() - started
    request = engine.default_request(**engine.sample_inputs(), num_inference_steps=steps, **request_changes)
    row = {"preset": preset, "memory_plan": spec.memory_plan, "vae_tiling": spec.vae_tiling, "build_s": built,
           **generation_timings(engine, request)}
    engine.clear()
    return row


def cfg_step_seconds(transformer, inputs: dict, reps: int) -> float:
    """Median time of a classifier-free-guidance step (two forwards), after one warm-up step."""
    import torch

    times = []
    with torch.no_grad():
        for index in range(reps + 1):
            torch.cuda.synchronize()
            started = time.perf_counter()
            for _ in range(2):
                transformer(**inputs)
            torch.cuda.synchronize()
            if index:  # the first step pays for kernel selection
                times.append(time.perf_counter() - started)
    return statistics.median(times)


def other_attention_backends(transformer, inputs: dict, native: dict) -> list[dict]:
    """The same CFG step with each attention backend that is installed; the others say why not."""
    rows = []
    for backend in ("_native_cudnn", "flash", "_flash_3", "sage"):
        row = {"size": native["size"], "attention_backend": backend}
        try:
            transformer.set_attention_backend(backend)
            row["s_per_step"] = cfg_step_seconds(transformer, inputs, reps=2)
            row["ratio_to_native"] = row["s_per_step"] / native["s_per_step"]
        except Exception as err:  # noqa: BLE001 - a missing kernel raises ImportError, RuntimeError, ...
            row["unavailable"] = str(err).splitlines()[0][:160]
        rows.append(row)
    transformer.set_attention_backend("native")
    return rows


def print_table(results: dict):
    lines = [f"device {results['device']}, model {results['model']}, startup {results['startup_seconds']:.1f} s"]
    for what, why in results.get("skipped", {}).items():
        lines.append(f"skipped {what}: {why}")
    if "stages" in results:
        lines += engine_lines(results)
    for row in results.get("real_architecture", []):
        if "unavailable" in row:
            lines.append(f"1.3B {row['size']} {row['attention_backend']}: not available ({row['unavailable']})")
        elif "ratio_to_native" in row:
            lines.append(f"1.3B {row['size']} {row['attention_backend']}: {row['s_per_step']:.2f} s/step, "
                         f"{row['ratio_to_native']:.2f}x native")
        else:
            lines.append(f"1.3B {row['size']}: {row['s_per_step']:.2f} s/step, peak {row['peak_memory_gb']:.1f} GB, "
                         f"{row['fraction_of_floor']:.0%} of the FLOP floor")
    for row in results.get("real_families", []):
        if "unavailable" in row:
            lines.append(f"{row['preset']}: not run ({row['unavailable']})")
        else:
            lines.append(f"{row['preset']} {row['size']} (memory plan {row['memory_plan']}): "
                         f"{row['s_per_step']:.2f} s/step, decode {row['decode_s']:.1f} s, "
                         f"peak {row['peak_memory_mb'] / 1024:.1f} GB, built in {row['build_s']:.0f} s")
    print("\n".join(lines))


def engine_lines(results: dict) -> list[str]:
    lines = [f"{'size':>14} {'prompt s':>9} {'cond s':>7} {'s/step':>8} {'decode s':>9} {'peak MB':>8} {'TFLOP/step':>11}"]
    for row in results["stages"]:
        lines.append(f"{row['size']:>14} {row['prompt_encode_s']:>9.3f} {row['condition_encode_s']:>7.3f} "
                     f"{row['s_per_step']:>8.3f} {row['decode_s']:>9.3f} {row['peak_memory_mb']:>8.0f} "
                     f"{row['tflop_per_step']:>11.4f}")
    for row in results["speed_options"]:
        extra = f", skipped {row['skipped']:.0%}" if "skipped" in row else ""
        lines.append(f"{row['option']}: {row['ratio']:.2f}x the s/step{extra}")
    lines.append(f"engine_overhead_ratio {results['engine_overhead_ratio']:.2f}, "
                 f"sweep_amortization_ratio {results['sweep_amortization_ratio']:.2f}, "
                 f"cached second request {results['cached_second_request_ratio']:.2f}")
    return lines


def main(args) -> int:
    import diffusers

    diffusers.utils.logging.set_verbosity_error()
    results = run_bench(quick=args.quick, model=args.model, families=args.families)
    print_table(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=float))
    return 0
