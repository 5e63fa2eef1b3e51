"""A skeleton drawn at the toy's size against the same skeleton drawn larger and fitted down, side by side.

    python benchmarks/toy_pose_size.py [--model toy] [--seeds 6] [--size 832x480] [--json PATH]

Why the Pose tab draws at the model's size: a pose video extracted at Wan's 832x480 reaches the toy fitted
down to 224x128 (Generate's pad fit), its bones anti-aliased into other widths and shades than the renderer
draws at 224x128, which is all the toy was trained on. Each held-out clip's keypoints are drawn both ways
(the larger one placed as the pad fit would place it) and generated with the clip's own reference and
prompt; the toy's ground-truth scores are compared. Interleaved clip by clip.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

MEASURES = ("precision", "placement", "colour_match", "bone_pixels_shared")


def drawn_large_then_fitted(sample, width: int, height: int) -> np.ndarray:
    """The clip's skeleton drawn in a width x height frame where pad fitting maps it back onto the clip."""
    from engine.media import fit_frame, fit_geometry
    from engine.pose.format import Person
    from engine.pose.render import RenderOptions, render_pose

    clip_height, clip_width = sample.video.shape[1:3]
    (scale_x, scale_y), (left, top) = fit_geometry(height, width, clip_height, clip_width, "pad")
    options = RenderOptions(body=True, hands=False, face=False)
    frames = []
    for points in sample.keypoints:
        large = points.copy()
        large[:, 0] = (points[:, 0] - left) / scale_x
        large[:, 1] = (points[:, 1] - top) / scale_y
        drawn = render_pose([Person(body=large)], height, width, options)
        frames.append(fit_frame(drawn, clip_height, clip_width, "pad"))
    return np.stack(frames)


def bones_shared(native: np.ndarray, other: np.ndarray) -> float:
    """The share of the natively drawn bone pixels that are bone pixels in the other drawing too."""
    native_bones, other_bones = native.max(-1) > 60, other.max(-1) > 60
    return float((native_bones & other_bones).sum() / max(1, native_bones.sum()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--seeds", type=int, default=6, help="held-out clips")
    parser.add_argument("--size", default="832x480", help="the larger drawing's WIDTHxHEIGHT")
    parser.add_argument("--json")
    args = parser.parse_args()

    from engine.toy.build import device_label, engine_for
    from engine.toy.evaluate import generate, heldout_seeds
    from engine.toy.scoring import score_clip
    from engine.toy.world import make_sample

    width, height = (int(side) for side in args.size.lower().split("x"))
    engine = engine_for(args.model)
    settings = ("the model's size", f"{width}x{height}, fitted down")
    rows = {name: [] for name in settings}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in heldout_seeds(args.seeds):
            sample = make_sample(seed)
            large = dataclasses.replace(sample, pose_video=drawn_large_then_fitted(sample, width, height))
            for name, given in zip(settings, (sample, large)):
                scores = score_clip(generate(engine, given, Path(tmp) / f"{seed}-{len(rows[name])}"), sample)
                rows[name].append({"seed": seed, "precision": scores.silhouette_precision,
                                   "placement": scores.placement_precision, "colour_match": scores.colour_match,
                                   "bone_pixels_shared": bones_shared(sample.pose_video, given.pose_video)})
    results = {"model": engine.spec.name, "machine": device_label(engine.device), "clips": args.seeds,
               "settings": {name: {measure: float(np.mean([row[measure] for row in rows[name]]))
                                   for measure in MEASURES} | {"clips": rows[name]} for name in settings}}
    print(f"{args.seeds} held-out clips, model {engine.spec.name}, {results['machine']}")
    print(f"{'skeleton drawn at':<28}" + "".join(f"{measure:>20}" for measure in MEASURES))
    for name in settings:
        print(f"{name:<28}" + "".join(f"{results['settings'][name][measure]:>20.3f}" for measure in MEASURES))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
