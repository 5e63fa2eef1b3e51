"""Sweep cost against doing the same work by hand, and grid rendering cost, in one run.

    python -m benchmarks.sweep_amortization [--json PATH]

1. sweep_amortization_ratio: a 3x3 sweep (guidance 3/5/7.5 x seeds 1-3) through the runner, over the same
   9 requests as 9 bare WanVACEPipeline calls in one process (inputs loaded for each call, as a script
   would). Below 1 because the sweep shares prompt embeddings and conditioning latents between cells.
2. GIF render time and size for a 3x4 grid of 81-frame cells (the sample pose video looped), at the tiny
   engine's size and at 480x832 with tiles scaled to 1/4.
On a CPU these are ratios and relative costs; absolute seconds mean something only from a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from engine import Engine, media  # noqa: E402
from services import grid  # noqa: E402
from engine.paths import ASSETS_DIR  # noqa: E402
from experiments.measure import measure_sweep  # noqa: E402


def measure_gif(height: int, width: int, scale: float) -> dict:
    clip = media.read_video(ASSETS_DIR / "pose.mp4").frames
    frames = np.stack([media.fit_frame(clip[i % len(clip)], height, width, "pad") for i in range(81)])
    tiles = {(r, c): grid.Tile(frames=np.roll(frames, 3 * (4 * r + c), axis=0)) for r in range(3) for c in range(4)}
    rows, cols = ["Pretrained", "LoRA alpha 0.7", "LoRA alpha 1.0"], ["CFG 3.0", "CFG 5.0", "CFG 7.5", "CFG 9.0"]
    start = time.perf_counter()
    composed = grid.compose_frames(tiles, rows, cols, "model tiny · seed 1 · 50 steps", scale=scale)
    compose_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        size = grid.save_gif(composed, Path(folder) / "grid.gif", fps=16)
        gif_seconds = time.perf_counter() - start
    return {"cell_size": f"{width}x{height}", "tile_scale": scale, "grid_px": f"{composed.shape[2]}x{composed.shape[1]}",
            "frames": len(composed), "compose_s": compose_seconds, "gif_encode_s": gif_seconds, "gif_mb": size / 1e6}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    import diffusers

    diffusers.utils.logging.set_verbosity_error()
    diffusers.utils.logging.disable_progress_bar()
    engine = Engine.from_name("tiny")
    sweep = measure_sweep(engine)
    gifs = [measure_gif(128, 224, 1.0), measure_gif(480, 832, 0.25)]
    print(f"3x3 sweep: {sweep['sweep_s']:.2f} s vs 9 bare pipeline calls {sweep['bare_9_calls_s']:.2f} s "
          f"-> ratio {sweep['sweep_amortization_ratio']:.3f} (device {engine.device}, tiny engine)")
    for g in gifs:
        print(f"3x4 grid of 81-frame {g['cell_size']} cells, tiles x{g['tile_scale']}: {g['grid_px']}, "
              f"compose {g['compose_s']:.1f} s, GIF encode {g['gif_encode_s']:.1f} s, {g['gif_mb']:.1f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps({"sweep": sweep, "gif": gifs}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
