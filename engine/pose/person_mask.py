"""Replace-mode inputs for Animate models: where the person is in each frame, and the clip without them.

Wan2.2-Animate's replace mode puts the animated character into the driving clip's own scene. It takes the scene
with the person taken out (the background video) and a mask of where the new character may be drawn (white) and
what stays as it was (black). Wan2.2's preprocessing segments the person and grows the mask so that the new
character, whose outline differs, fits inside it. Here MediaPipe Holistic's person segmentation (its model ships
inside the mediapipe wheel, so it works offline) gives the person, grown by MASK_GROW of the frame's shorter side.
"""

from __future__ import annotations

import numpy as np

MASK_THRESHOLD = 0.5
MASK_GROW = 0.04
"""Dilation of the person's mask, as a share of the frame's shorter side."""


def person_masks(frames: np.ndarray, should_stop=None) -> np.ndarray:
    """bool [T, H, W]: the person in each of `frames` [T, H, W, 3] (uint8 RGB), by MediaPipe's segmentation."""
    try:
        from mediapipe.python.solutions import holistic
    except ImportError as err:
        raise ValueError(f"person masks need mediapipe==0.10.21 ({err})") from None
    masks = []
    # model_complexity=1 is the model the wheel ships; tracking between frames keeps the mask steady.
    with holistic.Holistic(static_image_mode=False, model_complexity=1, enable_segmentation=True,
                           refine_face_landmarks=False) as model:
        for frame in frames:
            if should_stop is not None and should_stop():
                raise InterruptedError("stopped")
            result = model.process(np.ascontiguousarray(frame))
            segmentation = result.segmentation_mask
            masks.append(np.zeros(frame.shape[:2], bool) if segmentation is None
                         else segmentation > MASK_THRESHOLD)
    return np.stack(masks)


def grow_masks(masks: np.ndarray, pixels: int) -> np.ndarray:
    """Each mask dilated by a square of `pixels` on every side (separable running maximum)."""
    grown = masks.copy()
    for axis in (1, 2):
        shifted = grown.copy()
        for step in range(1, pixels + 1):
            shifted |= np.roll(grown, step, axis=axis) | np.roll(grown, -step, axis=axis)
        grown = shifted
    return grown


def replace_inputs(frames: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(background, mask) videos, uint8 [T, H, W, 3]: the frames with the grown person painted black, and the grown
    person in white on black."""
    grown = grow_masks(masks, max(1, round(MASK_GROW * min(frames.shape[1:3]))))
    background = np.where(grown[..., None], 0, frames).astype(np.uint8)
    mask = np.repeat((grown * 255).astype(np.uint8)[..., None], 3, axis=-1)
    return background, mask
