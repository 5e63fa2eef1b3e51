"""Does the generated video follow the pose? PCK of the skeleton found in it against the control's.

When the control video came from the Pose tab (or `experiments pose`), its keypoints.json lies beside
pose.mp4. Those keypoints are mapped onto the generated frames exactly as the engine mapped the control
video (resampled by timestamp, fitted by control_fit), MediaPipe finds the person in each generated frame,
and PCK counts the body joints that land within a fraction of the person's size of where the control put
them. Controls without keypoints get no score (None), not a made-up one.
"""

from __future__ import annotations


import numpy as np

from engine import media
from engine.metrics import MetricInfo
from engine.pose.format import Person

PCK_FRACTION = 0.2  # of the control person's box diagonal: the usual PCK@0.2
POSE_METRICS = {"pose_adherence": MetricInfo("pose PCK", "the share of body joints found within 0.2 of the person's "
                                             "size of where the control put them (PCK@0.2)", headline=True)}
CONFIDENCE = 0.3


def control_keypoints(control_video: str) -> dict | None:
    """The keypoints.json written beside a pose video (or beside the same video where the lab wrote it), or None."""
    from engine.pose.extract import read_keypoints_json
    from engine.records import find_sidecar

    path = find_sidecar(control_video, "keypoints.json")
    if path is None:
        return None
    try:
        return read_keypoints_json(path)
    except (OSError, ValueError, KeyError, TypeError):  # not one of ours: no score rather than a wrong one
        return None


def control_track(keypoints: dict, request) -> list[Person | None]:
    """The control's (first) person at each generated frame, in generated-frame pixels."""
    indices, _ = media.resample_indices(len(keypoints["frames"]), keypoints["fps"], request.fps, request.num_frames)
    scale, offset = media.fit_geometry(keypoints["height"], keypoints["width"], request.height, request.width,
                                       request.control_fit)
    return [keypoints["frames"][i][0].transformed(scale, offset) if keypoints["frames"][i] else None for i in indices]


def pck(expected: list[Person | None], found: list[Person | None], fraction: float = PCK_FRACTION) -> float | None:
    """Share of the control's confident body joints that the generated person has within reach."""
    hits = total = 0
    for want, got in zip(expected, found):
        if want is None:
            continue
        points = want.confident_body(CONFIDENCE)
        if len(points) < 2:
            continue
        reach = fraction * float(np.linalg.norm(points.max(0) - points.min(0)))
        confident = want.body[:, 2] >= CONFIDENCE
        total += int(confident.sum())
        if got is None:
            continue
        near = np.linalg.norm(got.body[:, :2] - want.body[:, :2], axis=1) <= reach
        hits += int((confident & (got.body[:, 2] >= CONFIDENCE) & near).sum())
    return hits / total if total else None


def pose_adherence(frames: np.ndarray, request) -> float | None:
    """PCK of the generated frames against the control video's keypoints; None without keypoints."""
    keypoints = control_keypoints(request.control_video)
    if keypoints is None:
        return None
    from engine.pose.backends import MediaPipeBackend

    backend = MediaPipeBackend()
    try:
        found = []
        for frame in frames:
            people = backend.detect(frame)
            found.append(max(people, key=lambda person: person.box_area(CONFIDENCE)) if people else None)
    finally:
        backend.close()
    return pck(control_track(keypoints, request), found)
