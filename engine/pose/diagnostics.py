"""How good is an extraction? Detection rates, empty frames, jitter; and temporal smoothing.

Works on one person's track: a list with a Person (or None) per frame. Jitter is the mean size of the
second difference of each joint's position, |p[t-1] - 2 p[t] + p[t+1]| in pixels: smooth motion, even
fast, scores low, while a joint that flickers from frame to frame scores high. Motion (the mean first
difference) is reported beside it so the two can be told apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from engine.pose.format import BODY_JOINTS, Person

Track = list  # list[Person | None], one entry per frame


@dataclass
class PoseDiagnostics:
    frames: int
    frames_without_person: list[int]
    body_detection_rate: dict[str, float]
    """Per OpenPose joint, the fraction of frames where it was found above the threshold."""
    hand_detection_rate: dict[str, float]
    face_detection_rate: float
    jitter_px: float
    """Mean |second difference| of confident body joints, pixels per frame."""
    motion_px: float
    """Mean |first difference| of confident body joints, pixels per frame."""
    jitter_by_joint: dict[str, float]

    def to_json(self) -> dict:
        return asdict(self)

    def summary_lines(self) -> list[str]:
        found = self.frames - len(self.frames_without_person)
        lines = [f"A person was found in {found} of {self.frames} frames."]
        if self.frames_without_person:
            lines.append(f"No person in frames: {compact_ranges(self.frames_without_person)}.")
        weak = [name for name, rate in self.body_detection_rate.items() if rate < 0.5]
        if weak:
            lines.append(f"Found in under half the frames: {', '.join(weak)}.")
        hands = ", ".join(f"{side} hand {rate:.0%}" for side, rate in self.hand_detection_rate.items())
        lines.append(f"Hands: {hands}; face {self.face_detection_rate:.0%}.")
        lines.append(f"Jitter {self.jitter_px:.2f} px/frame against motion {self.motion_px:.2f} px/frame.")
        return lines


def compact_ranges(indices: list[int]) -> str:
    """[0, 1, 2, 5, 7, 8] -> '0-2, 5, 7-8'."""
    parts, start = [], None
    for position, index in enumerate(indices):
        if start is None:
            start = index
        following = indices[position + 1] if position + 1 < len(indices) else None
        if following != index + 1:
            parts.append(str(start) if start == index else f"{start}-{index}")
            start = None
    return ", ".join(parts)


def stack(track: Track) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrays [T, 18, 3], [T, 2, 21, 3], [T, 68, 3]; frames without a person are all zeros."""
    empty = Person()
    people = [person or empty for person in track]
    return (np.stack([p.body for p in people]), np.stack([p.hands for p in people]),
            np.stack([p.face for p in people]))


def unstack(body: np.ndarray, hands: np.ndarray, face: np.ndarray, like: Track) -> Track:
    return [None if original is None else Person(body[t].copy(), hands[t].copy(), face[t].copy())
            for t, original in enumerate(like)]


def diagnose(track: Track, threshold: float) -> PoseDiagnostics:
    body, hands, face = stack(track)
    found = body[..., 2] >= threshold
    step, jerk = joint_motion(body, threshold)
    return PoseDiagnostics(
        frames=len(track),
        frames_without_person=[t for t, person in enumerate(track) if person is None or not found[t].any()],
        body_detection_rate={name: float(found[:, j].mean()) for j, name in enumerate(BODY_JOINTS)},
        hand_detection_rate={side: float((hands[:, slot, :, 2] >= threshold).any(axis=1).mean())
                             for slot, side in enumerate(("left", "right"))},
        face_detection_rate=float((face[..., 2] >= threshold).any(axis=1).mean()),
        jitter_px=_mean(jerk),
        motion_px=_mean(step),
        jitter_by_joint={name: _mean(jerk[:, j]) for j, name in enumerate(BODY_JOINTS)},
    )


def joint_motion(points: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """|first difference| [T-1, K] and |second difference| [T-2, K]; NaN where a joint was missing."""
    xy = np.where((points[..., 2] >= threshold)[..., None], points[..., :2], np.nan)
    step = np.linalg.norm(np.diff(xy, axis=0), axis=-1) if len(xy) > 1 else np.empty((0, points.shape[1]))
    jerk = (np.linalg.norm(xy[:-2] - 2 * xy[1:-1] + xy[2:], axis=-1) if len(xy) > 2
            else np.empty((0, points.shape[1])))
    return step, jerk


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else 0.0


def smooth_points(points: np.ndarray, sigma: float, threshold: float) -> np.ndarray:
    """Gaussian smoothing over time of [T, ..., 3] points, weighted by which frames found each point.

    Missing points neither move nor pull their neighbours; confidences are kept as they were.
    """
    if sigma <= 0 or len(points) < 2:
        return points.copy()
    radius = max(1, int(round(3 * sigma)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    found = (points[..., 2] >= threshold).astype(np.float64)
    weighted = points[..., :2] * found[..., None]
    total_xy = np.zeros_like(weighted)
    total_w = np.zeros_like(found)
    length = len(points)
    for offset, weight in zip(offsets, kernel):
        source = np.clip(np.arange(length) + offset, 0, length - 1)
        total_xy += weight * weighted[source]
        total_w += weight * found[source]
    out = points.copy()
    ok = (found > 0) & (total_w > 0)
    out[..., :2][ok] = (total_xy[ok] / total_w[ok][..., None]).astype(points.dtype)
    return out


def smooth_track(track: Track, sigma: float, threshold: float) -> Track:
    if sigma <= 0:
        return track
    body, hands, face = stack(track)
    return unstack(smooth_points(body, sigma, threshold), smooth_points(hands, sigma, threshold),
                   smooth_points(face, sigma, threshold), track)

