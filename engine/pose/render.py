"""Draw skeletons the way Wan-VACE saw them in training: DWPose / OpenPose style on black.

Body limbs are filled ellipses in the OpenPose colour of each limb, dimmed to 60%, with joints drawn on
top at full colour. Hand bones take colours round the hue wheel with blue joints; the face is white dots.
Sizes are given for a 512-pixel short side and scale with the frame, so a 480p and a 720p pose video
look alike.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass

import numpy as np

from engine.pose.format import Person

# OpenPose-18 limbs (joint pairs) in drawing order; limb i has colour BODY_COLOURS[i], joint j BODY_COLOURS[j].
BODY_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)
BODY_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)
LIMB_BRIGHTNESS = 0.6
HAND_BONES = (
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10), (10, 11), (11, 12),
    (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19), (19, 20),
)
HAND_COLOURS = tuple(
    tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(index / len(HAND_BONES), 1.0, 1.0))
    for index in range(len(HAND_BONES))
)
HAND_JOINT_COLOUR = (0, 0, 255)
FACE_COLOUR = (255, 255, 255)
REFERENCE_SIDE = 512  # the sizes below are for this short side
STICK_HALF_WIDTH, JOINT_RADIUS, HAND_LINE, HAND_RADIUS, FACE_RADIUS = 4, 4, 2, 4, 3


@dataclass
class RenderOptions:
    body: bool = True
    hands: bool = False
    face: bool = True
    """VACE's own pose annotator draws body and face; hands are one click away."""
    threshold: float = 0.3
    """Points less confident than this are not drawn."""


def scaled(size: int, height: int, width: int) -> int:
    return max(1, int(round(size * min(height, width) / REFERENCE_SIDE)))


def render_pose(people: list[Person], height: int, width: int, options: RenderOptions) -> np.ndarray:
    """A uint8 [H, W, 3] skeleton image of everyone in one frame."""
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    if options.body:
        for person in people:
            draw_limbs(canvas, person.body, options.threshold)
        canvas = (canvas * LIMB_BRIGHTNESS).astype(np.uint8)
        for person in people:
            draw_joints(canvas, person.body, options.threshold)
    if options.hands:
        for person in people:
            for hand in person.hands:
                draw_hand(canvas, hand, options.threshold)
    if options.face:
        for person in people:
            draw_face(canvas, person.face, options.threshold)
    return canvas


def overlay(frame: np.ndarray, skeleton: np.ndarray, dim: float = 0.7) -> np.ndarray:
    """The skeleton drawn over a slightly darkened source frame, so both stay readable."""
    out = (frame.astype(np.float32) * dim).astype(np.uint8)
    drawn = (skeleton[..., 0] | skeleton[..., 1] | skeleton[..., 2]) > 0  # faster than any(axis=-1)
    out[drawn] = skeleton[drawn]
    return out


def _point(xy) -> tuple[int, int]:
    return int(round(float(xy[0]))), int(round(float(xy[1])))


def draw_limbs(canvas: np.ndarray, body: np.ndarray, threshold: float):
    import cv2

    height, width = canvas.shape[:2]
    half_width = scaled(STICK_HALF_WIDTH, height, width)
    for index, (a, b) in enumerate(BODY_LIMBS):
        if body[a, 2] < threshold or body[b, 2] < threshold:
            continue
        (xa, ya), (xb, yb) = body[a, :2], body[b, :2]
        centre = _point(((xa + xb) / 2, (ya + yb) / 2))
        half_length = int(round(math.hypot(xb - xa, yb - ya) / 2))
        angle = int(round(math.degrees(math.atan2(yb - ya, xb - xa))))
        polygon = cv2.ellipse2Poly(centre, (half_length, half_width), angle, 0, 360, 1)
        cv2.fillConvexPoly(canvas, polygon, BODY_COLOURS[index])


def draw_joints(canvas: np.ndarray, body: np.ndarray, threshold: float):
    import cv2

    radius = scaled(JOINT_RADIUS, *canvas.shape[:2])
    for index, (x, y, confidence) in enumerate(body):
        if confidence >= threshold:
            cv2.circle(canvas, _point((x, y)), radius, BODY_COLOURS[index], thickness=-1)


def draw_hand(canvas: np.ndarray, hand: np.ndarray, threshold: float):
    import cv2

    line = scaled(HAND_LINE, *canvas.shape[:2])
    radius = scaled(HAND_RADIUS, *canvas.shape[:2])
    for index, (a, b) in enumerate(HAND_BONES):
        if hand[a, 2] >= threshold and hand[b, 2] >= threshold:
            cv2.line(canvas, _point(hand[a]), _point(hand[b]), HAND_COLOURS[index], thickness=line)
    for x, y, confidence in hand:
        if confidence >= threshold:
            cv2.circle(canvas, _point((x, y)), radius, HAND_JOINT_COLOUR, thickness=-1)


def draw_face(canvas: np.ndarray, face: np.ndarray, threshold: float):
    import cv2

    radius = scaled(FACE_RADIUS, *canvas.shape[:2])
    for x, y, confidence in face:
        if confidence >= threshold:
            cv2.circle(canvas, _point((x, y)), radius, FACE_COLOUR, thickness=-1)
