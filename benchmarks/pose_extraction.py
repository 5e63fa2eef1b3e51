"""Pose extraction speed per backend at 480p, and drawing time per frame, measured in one run.

    python -m benchmarks.pose_extraction [--frames 33] [--json PATH]

Frames come from assets/person.mp4 (a real person), fitted to 832x480 as the Pose tab does.
- mediapipe: MediaPipe Holistic, the real model from the wheel.
- dwpose: DWPose's real ONNX models when they are on disk (see engine/pose/backends.py); otherwise the
  same rtmlib code path with tiny stand-in models, which measures rtmlib's own pre/post-processing only
  and is labelled so.
- render: drawing one frame's skeleton (body + face, and body + hands + face).
- end to end: extract_pose with MediaPipe, per output frame (decode, detect, draw, encode, write).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from engine import media  # noqa: E402
from engine.paths import ASSETS_DIR  # noqa: E402
from engine.pose.extract import PoseRequest, extract_pose  # noqa: E402
from engine.pose.backends import DWPoseBackend, MediaPipeBackend, local_dwpose_models  # noqa: E402
from engine.pose.render import RenderOptions, render_pose  # noqa: E402

logger = logging.getLogger("bench")
WIDTH, HEIGHT = 832, 480


def frames_at_480p(count: int) -> np.ndarray:
    window = media.read_video_window(ASSETS_DIR / "person.mp4", 0, 16, count,
                                     prepare=lambda frame: media.fit_frame(frame, HEIGHT, WIDTH, "pad"))
    return np.stack(window.frames)


def frames_per_second(backend, frames) -> tuple[float, list]:
    backend.detect(frames[0])  # first call sets up the graph; not what a clip pays per frame
    started = time.perf_counter()
    people = [backend.detect(frame) for frame in frames]
    return len(frames) / (time.perf_counter() - started), people


def stand_in_dwpose():
    from tests.helpers import export_fake_dwpose

    return export_fake_dwpose(Path(tempfile.mkdtemp()) / "dwpose")


def render_ms(people, options, reps=3) -> float:
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        for found in people:
            render_pose(found, HEIGHT, WIDTH, options)
        best = min(best, (time.perf_counter() - started) / len(people))
    return 1000 * best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=33)
    parser.add_argument("--json", help="also write the numbers here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    frames = frames_at_480p(args.frames)
    results = {"frames": len(frames), "size": f"{WIDTH}x{HEIGHT}"}

    backend = MediaPipeBackend()
    results["mediapipe_frames_per_s"], people = frames_per_second(backend, frames)
    backend.close()

    models = local_dwpose_models()
    results["dwpose_models"] = "real" if models else "tiny stand-ins (rtmlib overhead only)"
    results["dwpose_frames_per_s"], _ = frames_per_second(DWPoseBackend(models or stand_in_dwpose()), frames)

    with_everything = [[p] for found in people for p in found]
    results["render_ms_body_face"] = render_ms(with_everything, RenderOptions())
    results["render_ms_body_hands_face"] = render_ms(with_everything, RenderOptions(hands=True))

    with tempfile.TemporaryDirectory() as out:
        request = PoseRequest(video=str(ASSETS_DIR / "person.mp4"), backend="mediapipe", num_frames=args.frames,
                              width=WIDTH, height=HEIGHT)
        started = time.perf_counter()
        extract_pose(request, out)
        results["end_to_end_ms_per_frame"] = 1000 * (time.perf_counter() - started) / args.frames

    logger.info("pose extraction at %s, %d frames of assets/person.mp4", results["size"], results["frames"])
    logger.info("  mediapipe            %6.1f frames/s", results["mediapipe_frames_per_s"])
    logger.info("  dwpose (%s) %6.1f frames/s", results["dwpose_models"], results["dwpose_frames_per_s"])
    logger.info("  render body+face     %6.2f ms/frame", results["render_ms_body_face"])
    logger.info("  render +hands        %6.2f ms/frame", results["render_ms_body_hands_face"])
    logger.info("  end to end (mediapipe) %6.1f ms/frame", results["end_to_end_ms_per_frame"])
    if args.json:
        Path(args.json).write_text(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                               for k, v in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
