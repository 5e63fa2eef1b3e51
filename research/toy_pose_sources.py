"""Which skeleton steers the toy best: the world's own, one drawn larger and fitted down, or one the Pose tab
extracts from the clip. Side by side, clip by clip.

    python -m research.toy_pose_sources [--model toy] [--seeds 6] [--size 832x480] [--json PATH]

Each held-out clip is generated with its own reference and prompt from three skeletons:
- the world's pose video, drawn by the lab's renderer at the toy's 224x128 (what the toy was trained on);
- the same keypoints drawn at --size (Wan's 832x480) and fitted down as Generate fits a control (pad): why
  the Pose tab starts at the model's size;
- the skeleton the Pose tab extracts from the true clip (MediaPipe, at the toy's size, its default settings;
  MediaPipe finds no face on a puppet, so drawing the face or not gives the same video).
The toy's ground-truth scores are compared, with the share of the world's bone pixels each skeleton keeps.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

MEASURES = ("precision", "placement", "colour_match", "bone_pixels_shared")


def drawn_large_then_fitted(sample, width: int, height: int) -> np.ndarray:
    """The clip's skeleton drawn in a width x height frame (by the world's own drawing) where pad fitting maps
    it back onto the clip, then fitted down as Generate fits a control."""
    from engine.media import fit_frame, fit_geometry
    from engine.toy.world import draw_pose_video

    clip_height, clip_width = sample.video.shape[1:3]
    scale, offset = fit_geometry(height, width, clip_height, clip_width, "pad")
    large = sample.keypoints.copy()
    large[..., :2] = (sample.keypoints[..., :2] - offset) / scale
    return np.stack([fit_frame(frame, clip_height, clip_width, "pad")
                     for frame in draw_pose_video(large, height, width)])


def extracted_by_the_pose_tab(sample, folder: Path) -> np.ndarray:
    """The skeleton `experiments pose` / the Pose tab draws from the clip's true video, at the clip's size."""
    from engine import media
    from engine.pose.extract import PoseRequest, extract_pose

    folder.mkdir(parents=True, exist_ok=True)
    media.write_mp4(sample.video, folder / "video.mp4", sample.fps)
    frames, height, width = sample.video.shape[:3]
    request = PoseRequest(video=str(folder / "video.mp4"), fps=sample.fps, num_frames=frames, width=width,
                          height=height, backend="mediapipe")
    result = extract_pose(request, folder / "pose")
    return media.read_video(result.pose_video).frames


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

    from engine.records import device_label
    from engine.toy.factory.build import engine_for
    from engine.toy.world import heldout_seeds
    from engine.toy.factory.evaluate import generate
    from engine.toy.scoring import score_clip
    from engine.toy.world import make_sample

    width, height = (int(side) for side in args.size.lower().split("x"))
    engine = engine_for(args.model)
    settings = ("the world's, at the toy's size", f"the world's, {width}x{height} fitted down", "extracted by the Pose tab")
    rows = {name: [] for name in settings}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in heldout_seeds(args.seeds):
            sample = make_sample(seed)
            skeletons = (sample.pose_video, drawn_large_then_fitted(sample, width, height),
                         extracted_by_the_pose_tab(sample, Path(tmp) / f"pose-{seed}"))
            for index, (name, skeleton) in enumerate(zip(settings, skeletons)):
                given = dataclasses.replace(sample, pose_video=skeleton)
                scores = score_clip(generate(engine, given, Path(tmp) / f"{seed}-{index}"), sample)
                rows[name].append({"seed": seed, "precision": scores.silhouette_precision,
                                   "placement": scores.placement_precision, "colour_match": scores.colour_match,
                                   "bone_pixels_shared": bones_shared(sample.pose_video, given.pose_video)})
    results = {"model": engine.spec.name, "machine": device_label(engine.device), "clips": args.seeds,
               "settings": {name: {measure: float(np.mean([row[measure] for row in rows[name]]))
                                   for measure in MEASURES} | {"clips": rows[name]} for name in settings}}
    print(f"{args.seeds} held-out clips, model {engine.spec.name}, {results['machine']}")
    print(f"{'skeleton':<36}" + "".join(f"{measure:>20}" for measure in MEASURES))
    for name in settings:
        print(f"{name:<36}" + "".join(f"{results['settings'][name][measure]:>20.3f}" for measure in MEASURES))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
