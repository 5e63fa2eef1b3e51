"""The unseen walk: a skeleton the toy model never saw (keyframes of our own, drawn as plain cv2 sticks, not
by the lab's renderer) crossing the frame at a known speed. Does the generated figure follow it, at that
speed? engine/toy/factory/evaluate.py reports the ratio; research/toy_walk.py tries other speeds and renderers.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.toy import world
from engine.toy.world import HELDOUT_SEED_START
from engine.toy.scoring import grow, placement_mask


def walk_keypoints(num_frames: int = world.NUM_FRAMES, speed: float = 4.0, start: float = 40.0) -> np.ndarray:
    """[T, 18, 3] keypoints of a walk across the frame, from keyframes of our own (not the world's motion
    library): hips move `speed` pixels a frame from x = `start`."""
    frames = []
    for t in range(num_frames):
        x0 = start + speed * t
        swing = 12 * math.sin(t * 0.7)
        p = {1: (x0, 40), 0: (x0 + 2, 28), 14: (x0 + 4, 26), 15: (x0 - 1, 26), 16: (x0 + 5, 28), 17: (x0 - 3, 28),
             2: (x0 - 3, 42), 5: (x0 + 3, 42), 3: (x0 - 3 - swing / 2, 58), 6: (x0 + 3 + swing / 2, 58),
             4: (x0 - 2 - swing, 72), 7: (x0 + 2 + swing, 72), 8: (x0 - 2, 76), 11: (x0 + 2, 76),
             9: (x0 - 2 + swing, 96), 12: (x0 + 2 - swing, 96), 10: (x0 - 2 + 1.5 * swing, 117),
             13: (x0 + 2 - 1.5 * swing, 117)}
        frames.append([[*p[joint], 1.0] for joint in range(18)])
    return np.array(frames, dtype=np.float32)


def hip_x(keypoints: np.ndarray) -> np.ndarray:
    return keypoints[:, [world.R_HIP, world.L_HIP], 0].mean(axis=1)


def stick_walk(num_frames: int = world.NUM_FRAMES, height: int = world.HEIGHT, width: int = world.WIDTH,
               speed: float = 4.0, start: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """The walk drawn as plain 2-pixel sticks in OpenPose colours by cv2 (not the lab's renderer):
    (pose video, hip x per frame)."""
    import cv2

    from engine.pose.render import BODY_COLOURS, BODY_LIMBS

    keypoints = walk_keypoints(num_frames, speed, start)
    video = np.zeros((num_frames, height, width, 3), np.uint8)
    for canvas, points in zip(video, keypoints):
        for index, (a, b) in enumerate(BODY_LIMBS):
            cv2.line(canvas, tuple(int(v) for v in points[a, :2]), tuple(int(v) for v in points[b, :2]),
                     BODY_COLOURS[index], 2)
    return video, hip_x(keypoints)


def walk_figure(frames: np.ndarray, background: np.ndarray, pose_video: np.ndarray) -> np.ndarray:
    """The drawn figure's pixels, bool [T, H, W], found against the background the model drew (measured away
    from the skeleton), so that a floor in the wrong colour does not count as figure everywhere."""
    return placement_mask(frames, background, grow(pose_video.max(axis=-1) > 0, 12))


def figure_speed(frames: np.ndarray, background: np.ndarray, pose_video: np.ndarray) -> float | None:
    """Pixels a frame the drawn figure's centre (walk_figure) moves, or None if no figure is found."""
    drawn = walk_figure(frames, background, pose_video)
    centres = np.array([np.nonzero(mask)[1].mean() if mask.any() else np.nan for mask in drawn])
    valid = ~np.isnan(centres)
    if valid.sum() < 3:
        return None
    return float(np.polyfit(np.arange(len(frames))[valid], centres[valid], 1)[0])


def trail_pixels(frames: np.ndarray, background: np.ndarray, pose_video: np.ndarray, margin: int = 6) -> list[int]:
    """Per frame, the figure pixels (walk_figure) more than `margin` pixels from that frame's skeleton: a copy
    of the figure left behind, which pulls the measured centre back along the path."""
    off = ~grow(pose_video.max(axis=-1) > 0, margin)
    return [int(count) for count in (walk_figure(frames, background, pose_video) & off).sum(axis=(1, 2))]


def generate_walk(engine, tmp: Path, video: np.ndarray) -> tuple[np.ndarray, world.ToySample]:
    """Generate over a walk's pose video, with a held-out clip's reference and prompt: (frames, that clip)."""
    from PIL import Image

    from engine import media

    sample = world.make_sample(HELDOUT_SEED_START + 999)
    folder = tmp / "walk"
    folder.mkdir(parents=True, exist_ok=True)
    media.write_mp4(video, folder / "pose.mp4", world.FPS)
    Image.fromarray(sample.reference).save(folder / "reference.png")
    request = engine.default_request(control_video=str(folder / "pose.mp4"), reference=str(folder / "reference.png"),
                                     prompt=sample.prompt, num_frames=len(video), height=world.HEIGHT,
                                     width=world.WIDTH, fps=world.FPS)
    return engine.generate(request).frames, sample


def walk_speeds(frames: np.ndarray, sample: world.ToySample, video: np.ndarray, hips: np.ndarray) -> dict:
    speed = figure_speed(frames, sample.background, video)
    if speed is None:
        return {"speed_ratio": None, "note": "no figure found"}
    skeleton_speed = float(np.polyfit(np.arange(len(hips)), hips, 1)[0])
    return {"speed_ratio": speed / skeleton_speed, "figure_px_per_frame": speed,
            "skeleton_px_per_frame": skeleton_speed}


def unseen_walk(engine, tmp: Path) -> dict:
    """Does the figure follow a skeleton the model never saw (the cv2 stick walk), at the right speed?"""
    video, hips = stick_walk()
    frames, sample = generate_walk(engine, tmp, video)
    return walk_speeds(frames, sample, video, hips)
