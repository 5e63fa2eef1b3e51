"""Face crops for Animate models: one square crop of the face per frame, as Wan2.2-Animate's preprocessing makes.

Its preprocessing finds the face's keypoints, takes their box, grows it 1.3 times about its centre, makes it
square and resizes the crop to 512x512, the face encoder's input. Here the box comes from the pose backend's 68
face landmarks, or from the head's body joints (nose, eyes, ears) in a frame where no landmark is confident. A
frame with neither keeps the box of the frame before (or, at the start, the first box found), so the crops stay
one per frame.
"""

from __future__ import annotations

import numpy as np

FACE_BOX_SCALE = 1.3
FACE_SIZE = 512
HEAD_JOINTS = (0, 14, 15, 16, 17)  # OpenPose-18: nose, eyes, ears


def face_box(person, threshold: float, scale: float = FACE_BOX_SCALE) -> tuple[float, float, float] | None:
    """(centre x, centre y, side) of the square around one person's face, grown `scale` times, or None."""
    if person is None:
        return None
    points = person.face[person.face[:, 2] >= threshold, :2]
    if len(points) < 3:
        head = person.body[list(HEAD_JOINTS)]
        points = head[head[:, 2] >= threshold, :2]
        if len(points) < 2:
            return None
    low, high = points.min(axis=0), points.max(axis=0)
    centre = (low + high) / 2
    side = float(max(high - low)) * scale
    return float(centre[0]), float(centre[1]), max(side, 8.0)


def face_crops(frames: np.ndarray, track: list, threshold: float, size: int = FACE_SIZE) -> np.ndarray | None:
    """uint8 [T, size, size, 3] crops of the tracked person's face in `frames` [T, H, W, 3], or None when no frame
    shows a face or a head."""
    boxes = [face_box(person, threshold) for person in track]
    found = [box for box in boxes if box is not None]
    if not found:
        return None
    last = found[0]
    crops = []
    for frame, box in zip(frames, boxes):
        last = box or last
        crops.append(crop_square(frame, last, size))
    return np.stack(crops)


def crop_square(frame: np.ndarray, box: tuple[float, float, float], size: int) -> np.ndarray:
    """The square `box` of `frame`, black where it leaves the frame, resized to size x size."""
    from PIL import Image

    x, y, side = box
    left, top = int(round(x - side / 2)), int(round(y - side / 2))
    image = Image.fromarray(frame).crop((left, top, left + int(round(side)), top + int(round(side))))
    return np.asarray(image.resize((size, size), Image.BICUBIC))
