"""engine/pose/person_mask.py: replace-mode inputs for Animate from MediaPipe's person segmentation."""

import numpy as np

from engine import media
from engine.pose.person_mask import grow_masks, person_masks, replace_inputs
from tests.conftest import ASSETS


def test_grow_masks_dilates_by_a_square_of_the_given_pixels():
    masks = np.zeros((1, 9, 9), bool)
    masks[0, 4, 4] = True
    grown = grow_masks(masks, 2)
    assert grown[0, 2:7, 2:7].all() and grown.sum() == 25


def test_the_background_loses_the_grown_person_and_the_mask_is_white_there():
    frames = np.full((2, 50, 50, 3), 200, np.uint8)
    masks = np.zeros((2, 50, 50), bool)
    masks[:, 20:30, 20:30] = True
    background, mask = replace_inputs(frames, masks)
    assert (background[:, 20:30, 20:30] == 0).all() and (background[:, :5, :5] == 200).all()
    assert (mask[:, 20:30, 20:30] == 255).all() and (mask[:, :5, :5] == 0).all()
    assert (mask[..., 0] == 255).sum() > masks.sum()  # grown, so a new outline fits inside


def test_mediapipe_finds_the_person_in_the_sample_clip():
    frames = media.read_video(ASSETS / "person.mp4").frames[:3]
    masks = person_masks(frames)
    assert masks.shape == frames.shape[:3]
    assert 0.05 < masks.mean() < 0.5  # a dancer, not the whole frame and not nothing
