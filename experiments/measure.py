"""The measuring code behind `python -m experiments bench` and the scripts in benchmarks/: each side of a
comparison runs in the same process, alternating, so machine noise hits both alike."""

from __future__ import annotations

import statistics
import tempfile
import time

from services.runner import SweepRunner
from services.sweep_spec import SweepSpec

PROMPT = "A young man in a black t-shirt dances in a bright studio, photorealistic."


def bare_pipeline_call(pipe, request):
    """What a student writes by hand with diffusers: load inputs, call the pipeline, get frames."""
    import torch
    from diffusers.utils import load_image, load_video

    # Resized by hand to the exact output size: left to itself the pipeline shrinks an 832x480 clip to fit
    # 224x128 keeping its aspect (221 px, floored to 208) and conditions on a narrower video than it makes.
    size = (request.width, request.height)
    video = [frame.resize(size) for frame in load_video(request.control_video)[: request.num_frames]]
    reference = load_image(request.reference)
    return pipe(
        video=video, reference_images=[reference], prompt=request.prompt, negative_prompt=request.negative_prompt,
        guidance_scale=request.guidance_scale, num_inference_steps=request.num_inference_steps,
        height=request.height, width=request.width, num_frames=request.num_frames,
        generator=torch.Generator().manual_seed(request.seed), output_type="np",
    ).frames[0]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(engine, request, reps: int) -> dict:
    from diffusers import WanVACEPipeline

    bare = WanVACEPipeline.from_pretrained(engine.model_source())
    bare.to(engine.device)
    bare.set_progress_bar_config(disable=True)
    engine.load()
    # Warm both once (first-call costs: allocator, kernels, ffmpeg start-up).
    bare_pipeline_call(bare, request)
    engine.generate(request)

    bare_times, engine_times, first_times, second_times = [], [], [], []
    for rep in range(reps):
        bare_times.append(timed(lambda: bare_pipeline_call(bare, request)))
        engine.clear_caches()
        engine_times.append(timed(lambda: engine.generate(request)))
        # A fresh prompt per rep keeps the first request cold; the second differs only in guidance.
        first = request.replace(prompt=f"{PROMPT} take {rep}", seed=request.seed + rep)
        engine.clear_caches()
        first_times.append(timed(lambda: engine.generate(first)))
        second_times.append(timed(lambda: engine.generate(first.replace(guidance_scale=3.0))))

    median = statistics.median
    return {
        "size": f"{request.width}x{request.height}x{request.num_frames}",
        "steps": request.num_inference_steps,
        "bare_pipeline_s": median(bare_times),
        "engine_cold_s": median(engine_times),
        "engine_overhead_ratio": median(engine_times) / median(bare_times),
        # The fastest rep is the least disturbed by other work on the machine.
        "engine_overhead_ratio_min": min(engine_times) / min(bare_times),
        "first_request_s": median(first_times),
        "second_request_guidance_only_s": median(second_times),
        "cached_second_request_ratio": median(second_times) / median(first_times),
        "raw_s": {"bare": bare_times, "engine": engine_times, "first": first_times, "second": second_times},
    }


def measure_sweep(engine) -> dict:
    from diffusers import WanVACEPipeline

    spec = SweepSpec.from_dict({"name": "bench", "x": {"field": "guidance_scale", "values": "3,5,7.5"},
                                "y": {"field": "seed", "values": "1-3"}})
    with tempfile.TemporaryDirectory() as folder:
        runner = SweepRunner(engine, spec, folder)
        bare = WanVACEPipeline.from_pretrained(engine.model_source())
        bare.set_progress_bar_config(disable=True)
        engine.load()
        bare_pipeline_call(bare, runner.cells[0].request)  # warm both sides once
        engine.generate(runner.cells[0].request)
        engine.clear_caches()
        start = time.perf_counter()
        for cell in runner.cells:
            bare_pipeline_call(bare, cell.request)
        bare_seconds = time.perf_counter() - start
        start = time.perf_counter()
        runner.run()
        sweep_seconds = time.perf_counter() - start
    return {"cells": len(runner.cells), "bare_9_calls_s": bare_seconds, "sweep_s": sweep_seconds,
            "sweep_amortization_ratio": sweep_seconds / bare_seconds}
