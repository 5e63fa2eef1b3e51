"""Fit the driving skeleton to the person in the reference image.

Pose-driven models copy the skeleton's proportions: a tall dancer driving a short reference person
stretches that person. Two fits, both planned from the whole clip and applied the same way to every
frame, so the motion itself is untouched:

- scale: one scale and shift so the driving body is as big as the reference body and its neck starts
  where the reference's neck is;
- limbs: that, and then each bone is set to the reference's length, walking out from the neck, with
  hands carried along by their wrists and the face by the nose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.pose.format import BODY_JOINTS, Person

FIT_MODES = ("off", "scale", "limbs")
NECK, NOSE, LEFT_WRIST, RIGHT_WRIST = 1, 0, 7, 4
# (parent, child) from the neck outwards, so a parent is always placed before its children.
BONE_TREE = (
    (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
# Bones whose lengths say how big a body is (the face is left out: it is small and noisy).
SIZE_BONES = ((1, 8), (1, 11), (1, 2), (1, 5), (2, 3), (5, 6), (8, 9), (11, 12), (9, 10), (12, 13))


def bone_name(bone: tuple[int, int]) -> str:
    return f"{BODY_JOINTS[bone[0]]}-{BODY_JOINTS[bone[1]]}"


@dataclass
class SkeletonFit:
    mode: str
    scale: float
    offset: np.ndarray
    """Every driving point p becomes p * scale + offset (before any per-limb change)."""
    bone_ratios: dict[tuple[int, int], float] = field(default_factory=dict)
    """limbs mode: how much each scaled bone is stretched to match the reference."""

    def describe(self) -> str:
        text = f"Skeleton scaled by {self.scale:.2f} and moved by ({self.offset[0]:+.0f}, {self.offset[1]:+.0f}) px"
        if self.mode == "limbs" and self.bone_ratios:
            extremes = sorted(self.bone_ratios.items(), key=lambda item: abs(np.log(item[1])), reverse=True)[:2]
            text += "; limbs matched to the reference, most changed: " + ", ".join(
                f"{bone_name(bone)} x{ratio:.2f}" for bone, ratio in extremes)
        return text + "."

    def to_json(self) -> dict:
        return {"mode": self.mode, "scale": round(self.scale, 4), "offset": [round(float(v), 2) for v in self.offset],
                "bone_ratios": {bone_name(bone): round(ratio, 4) for bone, ratio in self.bone_ratios.items()}}


def bone_length(body: np.ndarray, bone: tuple[int, int], threshold: float) -> float:
    a, b = bone
    if body[a, 2] < threshold or body[b, 2] < threshold:
        return float("nan")
    return float(np.linalg.norm(body[a, :2] - body[b, :2]))


def typical_bone_lengths(track: list, threshold: float) -> dict[tuple[int, int], float]:
    """Median length of each bone over the frames where both its ends were found."""
    lengths = {}
    for bone in BONE_TREE:
        values = [bone_length(p.body, bone, threshold) for p in track if p is not None]
        values = [v for v in values if np.isfinite(v) and v > 0]
        if values:
            lengths[bone] = float(np.median(values))
    return lengths


def first_neck(track: list, threshold: float) -> np.ndarray:
    for person in track:
        if person is not None and person.body[NECK, 2] >= threshold:
            return person.body[NECK, :2].copy()
    raise ValueError("cannot fit the skeleton: the driving clip never shows a neck (both shoulders)")


def plan_fit(track: list, reference: Person, threshold: float, mode: str) -> SkeletonFit:
    if mode not in FIT_MODES[1:]:
        raise ValueError(f"fit mode must be one of {', '.join(FIT_MODES)}, got {mode!r}")
    if reference.body[NECK, 2] < threshold:
        raise ValueError("cannot fit the skeleton: no shoulders found on the reference person")
    driving = typical_bone_lengths(track, threshold)
    target = {bone: length for bone in BONE_TREE
              if np.isfinite(length := bone_length(reference.body, bone, threshold)) and length > 0}
    shared = [bone for bone in SIZE_BONES if bone in driving and bone in target]
    if not shared:
        raise ValueError("cannot fit the skeleton: the reference and the driving person share no visible bones")
    scale = float(np.median([target[bone] / driving[bone] for bone in shared]))
    offset = reference.body[NECK, :2] - scale * first_neck(track, threshold)
    ratios = {}
    if mode == "limbs":
        ratios = {bone: target[bone] / (scale * driving[bone]) for bone in BONE_TREE if bone in driving and bone in target}
    return SkeletonFit(mode=mode, scale=scale, offset=offset, bone_ratios=ratios)


def apply_fit(track: list, fit: SkeletonFit, threshold: float) -> list:
    fitted = []
    for person in track:
        if person is None:
            fitted.append(None)
            continue
        moved = person.transformed(fit.scale, fit.offset)
        fitted.append(retarget_limbs(moved, fit.bone_ratios, threshold) if fit.bone_ratios else moved)
    return fitted


def retarget_limbs(person: Person, ratios: dict[tuple[int, int], float], threshold: float) -> Person:
    """Stretch each bone by its ratio, keeping its direction; children follow their parents."""
    old = person.body
    new = old.copy()
    for parent, child in BONE_TREE:
        if old[parent, 2] < threshold or old[child, 2] < threshold:
            continue
        ratio = ratios.get((parent, child), 1.0)
        new[child, :2] = new[parent, :2] + (old[child, :2] - old[parent, :2]) * ratio
    hands = person.hands.copy()
    for slot, wrist in ((0, LEFT_WRIST), (1, RIGHT_WRIST)):
        hands[slot, :, :2] += new[wrist, :2] - old[wrist, :2]
    face = person.face.copy()
    face[:, :2] += new[NOSE, :2] - old[NOSE, :2]
    return Person(new, hands, face)
