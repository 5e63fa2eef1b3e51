"""oneDNN 3D convolutions against PyTorch's own kernel choice for the VAE on a CPU, side by side in one run.

    python -m benchmarks.cpu_conv3d [--model toy] [--reps 3] [--json PATH]

PyTorch sends a batch-1 Conv3d with few channels to its slow reference kernel (engine/cpu_conv.py says why);
the engine routes the VAE's convolutions through oneDNN on a CPU. Measured here, alternating the two so
machine noise hits both alike (medians):
- the VAE alone: decode of one clip's latents, encode of one clip;
- one default generation on a held-out world clip never seen before in the run (the engine's caches cannot
  help: the control and reference are encoded, 10 steps with guidance, decoded);
- the largest difference between the two sides' outputs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from engine.cpu_conv import use_onednn_conv3d, use_pytorch_conv3d
    from engine.toy.factory import evaluate
    from engine.toy import world
    from engine.records import device_label
    from engine.toy.factory.build import engine_for

    engine = engine_for(args.model)
    vae = engine.load().vae
    sides = {"pytorch": use_pytorch_conv3d, "onednn": use_onednn_conv3d}
    times = {f"{side}_{what}": [] for side in sides for what in ("decode", "encode", "generation")}
    clip = torch.rand(1, 3, world.NUM_FRAMES, world.HEIGHT, world.WIDTH) * 2 - 1
    seeds = iter(world.heldout_seeds(1 + 2 * args.reps))
    outputs = {}
    with torch.no_grad(), tempfile.TemporaryDirectory() as tmp:
        latents = vae.encode(clip).latent_dist.mode()  # the decode's input, in the VAE's own latent shape
        evaluate.generate(engine, world.make_sample(next(seeds)), Path(tmp) / "warm-up")
        for rep in range(args.reps):
            for side, route in sides.items():
                route(vae)
                times[f"{side}_decode"].append(seconds(lambda: outputs.__setitem__(side, vae.decode(latents).sample)))
                times[f"{side}_encode"].append(seconds(lambda: vae.encode(clip)))
                sample = world.make_sample(next(seeds))
                times[f"{side}_generation"].append(
                    seconds(lambda: evaluate.generate(engine, sample, Path(tmp) / f"{side}-{rep}")))
    use_onednn_conv3d(vae)  # as the engine left it
    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "machine": device_label(engine.device), "model": args.model, "reps": args.reps,
        "seconds_median": {name: round(value, 3) for name, value in medians.items()},
        **{f"{what}_ratio": round(medians[f"onednn_{what}"] / medians[f"pytorch_{what}"], 3)
           for what in ("decode", "encode", "generation")},
        "decode_max_abs_difference": float(np.abs((outputs["onednn"] - outputs["pytorch"]).numpy()).max()),
    }
    print(f"{result['machine']}, model {args.model}, {args.reps} reps (medians, oneDNN / PyTorch's choice)")
    for what in ("decode", "encode", "generation"):
        print(f"  {what:>10}: {medians[f'pytorch_{what}']:6.2f} s -> {medians[f'onednn_{what}']:6.2f} s "
              f"(ratio {result[f'{what}_ratio']:.2f})")
    print(f"  largest decode difference: {result['decode_max_abs_difference']:.1e}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
