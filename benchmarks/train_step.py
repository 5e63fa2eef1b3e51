"""The trainer's step time against a bare forward/backward loop, side by side in one run; and, on CUDA, s/step
and peak memory of the real architecture.

    python -m benchmarks.train_step [--steps 20] [--reps 3] [--json PATH]    # CPU: tiny model, overhead ratio
    python -m benchmarks.train_step --gpu [--json PATH]                      # CUDA: 1.3B, random weights
    python -m benchmarks.train_step --toy-batching [--steps 6] [--json PATH] # shared forward vs one by one

Overhead: Trainer.train_step (sampler, dropout draws, accelerate, loss bookkeeping) against the same
work written by hand: one forward of the same LoRA'd transformer on the same cached latents, MSE,
backward, AdamW. Reps alternate so machine noise hits both alike; medians of per-step times.

--toy-batching trains the shipped toy transformer (every weight, as `toy train` does) on 16 encoded world
clips at batch 4 and 8, with the micro-batch in one forward pass (the trainer) against one sample at a time
(how it trained before), alternating; seconds per sample.

--gpu builds WanVACETransformer3DModel from presets/models/wan-vace-1.3b.yaml on the GPU with random
weights (nothing is downloaded), adds the main-blocks rank-32 LoRA, and times training steps at 320x576x49
and 480x832x81 on random latents of the right shapes, with gradient checkpointing and bf16, reporting
peak memory and the fraction of the FLOP floor (engine/train/estimate.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("bench")


def tiny_dataset(folder: Path) -> Path:
    import numpy as np

    from engine.train.metadata_csv import ClipRow, write_metadata_csv
    from tests.helpers import write_video

    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (128, 224, 3), dtype=np.uint8) for _ in range(17)]
    write_video(folder / "clip.mp4", frames, 16)
    write_video(folder / "pose.mp4", frames[::-1], 16)
    write_metadata_csv([ClipRow("clip.mp4", "a dancer", "pose.mp4", "")], folder / "metadata.csv")
    return folder


def bare_step(transformer, optimizer, sample, generator, layers):
    """What one writes by hand: noise the latents, predict the velocity, MSE, backward, AdamW."""
    import torch

    sigma = float(torch.rand(1, generator=generator))
    noise = torch.randn(sample.target.shape, generator=generator)
    noisy = (1 - sigma) * sample.target + sigma * noise
    prediction = transformer(hidden_states=noisy, timestep=torch.tensor([sigma * 1000]),
                             encoder_hidden_states=sample.prompt_embeds, control_hidden_states=sample.conditioning,
                             control_hidden_states_scale=torch.ones(layers), return_dict=False)[0]
    loss = torch.nn.functional.mse_loss(prediction[:, :, 1:], (noise - sample.target)[:, :, 1:])
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def cpu_overhead(steps: int, reps: int) -> dict:
    import torch

    from engine.tiny import build_tiny_pipeline
    from engine.train.trainer import Trainer, TrainConfig, add_lora

    config = TrainConfig(height=128, width=224, num_frames=17, max_steps=10_000, sampler="uniform",
                         reference_dropout=0, prompt_dropout=0, checkpoint_every=10_000)
    with tempfile.TemporaryDirectory() as folder:
        trainer = Trainer(config, tiny_dataset(Path(folder)), Path(folder) / "run", model="tiny")
        trainer.load_model()
        trainer.prepare_data()
        trainer.make_optimizer()
        bare = build_tiny_pipeline().transformer
        add_lora(bare, config)
        bare.train()
        optimizer = torch.optim.AdamW([p for p in bare.parameters() if p.requires_grad], lr=config.learning_rate)
        layers = len(bare.config.vace_layers)
        sample = trainer.encoded[0]
        generator = torch.Generator().manual_seed(0)
        timings = {"trainer": [], "bare": []}
        step = 0
        for _ in range(reps):
            for name in ("trainer", "bare"):
                for _ in range(steps):
                    started = time.perf_counter()
                    if name == "trainer":
                        trainer.train_step(step)
                        step += 1
                    else:
                        bare_step(bare, optimizer, sample, generator, layers)
                    timings[name].append(time.perf_counter() - started)
    trainer_s = statistics.median(timings["trainer"])
    bare_s = statistics.median(timings["bare"])
    return {"size": "224x128x17", "trainer_s_per_step": trainer_s, "bare_s_per_step": bare_s,
            "train_overhead_ratio": trainer_s / bare_s}


def toy_batching(steps: int, reps: int, batch_sizes=(4, 8)) -> list[dict]:
    from engine.toy.factory.build import default_transformer_config, engine_for
    from engine.toy.world import training_seeds
    from engine.toy.factory.training import encode_world
    from engine.train.trainer import Trainer

    engine = engine_for("toy")
    samples = encode_world(engine, training_seeds(16), foreground_weight=10.0)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for batch_size in batch_sizes:
            config = default_transformer_config().with_changes(batch_size=batch_size, max_steps=10_000,
                                                               checkpoint_every=10_000)
            trainer = Trainer(config, Path(folder) / "data", Path(folder) / "run", engine=engine)
            trainer.load_model()
            trainer.encoded = samples
            trainer.empty_prompt = engine.prompt_embedding("").float().cpu()
            trainer.make_optimizer()
            shared = trainer.same_shape_groups
            one_by_one = lambda entries, draws: [[entry] for entry in entries]  # noqa: E731
            timings = {"shared_forward": [], "one_by_one": []}
            step = 0
            for _ in range(reps):
                for name, grouping in (("shared_forward", shared), ("one_by_one", one_by_one)):
                    trainer.same_shape_groups = grouping
                    for _ in range(steps):
                        started = time.perf_counter()
                        trainer.train_step(step)
                        step += 1
                        timings[name].append((time.perf_counter() - started) / batch_size)
            shared_s = statistics.median(timings["shared_forward"])
            alone_s = statistics.median(timings["one_by_one"])
            rows.append({"batch_size": batch_size, "shared_forward_s_per_sample": shared_s,
                         "one_by_one_s_per_sample": alone_s, "speedup": alone_s / shared_s})
    return rows


def gpu_steps(sizes=((320, 576, 49), (480, 832, 81)), steps: int = 5) -> list[dict]:
    import torch
    import yaml
    from diffusers import WanVACETransformer3DModel

    from engine.paths import PRESETS_DIR
    from engine.train.config import TrainConfig
    from engine.train.trainer import add_lora
    from engine.train.estimate import count_tokens, estimate_step

    model_config = yaml.safe_load((PRESETS_DIR / "models" / "wan-vace-1.3b.yaml").read_text())["transformer_config"]
    with torch.device("cuda"):
        transformer = WanVACETransformer3DModel.from_config(model_config).to(torch.bfloat16)
    config = TrainConfig.from_preset("main-blocks").with_changes(gradient_checkpointing=True)
    trainable = add_lora(transformer, config)
    transformer.enable_gradient_checkpointing()
    transformer.train()
    optimizer = torch.optim.AdamW([p for p in transformer.parameters() if p.requires_grad], lr=1e-4)
    results = []
    for height, width, frames in sizes:
        latent_frames = (frames - 1) // 4 + 2  # + the reference
        shape = (1, 16, latent_frames, height // 8, width // 8)
        target = torch.randn(shape, device="cuda", dtype=torch.bfloat16)
        conditioning = torch.randn((1, 96, *shape[2:]), device="cuda", dtype=torch.bfloat16)
        prompt = torch.randn((1, 512, 4096), device="cuda", dtype=torch.bfloat16)
        torch.cuda.reset_peak_memory_stats()
        times = []
        for index in range(steps + 1):
            torch.cuda.synchronize()
            started = time.perf_counter()
            noise = torch.randn_like(target)
            with torch.autocast("cuda", dtype=torch.bfloat16):
                prediction = transformer(hidden_states=0.5 * target + 0.5 * noise, timestep=torch.tensor([500.0], device="cuda"),
                                         encoder_hidden_states=prompt, control_hidden_states=conditioning,
                                         control_hidden_states_scale=torch.ones(15, device="cuda"), return_dict=False)[0]
            loss = torch.nn.functional.mse_loss(prediction.float(), (noise - target).float())
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            if index:  # the first step pays for kernel selection
                times.append(time.perf_counter() - started)
        estimate = estimate_step(model_config, height, width, frames, trainable, True)
        seconds = statistics.median(times)
        results.append({"size": f"{height}x{width}x{frames}", "tokens": count_tokens(model_config, height, width, frames),
                        "s_per_step": seconds, "peak_memory_gb": torch.cuda.max_memory_allocated() / 1e9,
                        "estimated_memory_gb": estimate.total_gb, "tflop_per_step": estimate.tflop_per_step,
                        "fraction_of_floor": estimate.floor_seconds / seconds, "device": torch.cuda.get_device_name()})
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--gpu", action="store_true", help="the real 1.3B architecture on CUDA")
    parser.add_argument("--toy-batching", action="store_true",
                        help="the toy transformer's micro-batch in one forward pass against one sample at a time")
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.gpu:
        results = {"gpu": gpu_steps()}
        for row in results["gpu"]:
            logger.info("%s: %.2f s/step, peak %.1f GB (estimated %.1f), %.0f%% of the FLOP floor", row["size"],
                        row["s_per_step"], row["peak_memory_gb"], row["estimated_memory_gb"],
                        100 * row["fraction_of_floor"])
    elif args.toy_batching:
        results = {"toy_batching": toy_batching(args.steps, args.reps)}
        for row in results["toy_batching"]:
            logger.info("toy, batch %d: %.3f s/sample in one forward pass, %.3f one by one (%.2fx)",
                        row["batch_size"], row["shared_forward_s_per_sample"], row["one_by_one_s_per_sample"],
                        row["speedup"])
    else:
        results = cpu_overhead(args.steps, args.reps)
        logger.info("tiny model, %s: trainer %.4f s/step, bare loop %.4f s/step, overhead ratio %.2f",
                    results["size"], results["trainer_s_per_step"], results["bare_s_per_step"],
                    results["train_overhead_ratio"])
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
