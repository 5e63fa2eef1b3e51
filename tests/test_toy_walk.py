"""The unseen walk's skeleton and the speed read from a figure crossing the frame."""

import numpy as np

from engine.toy.factory import walk
from engine.toy import world


def test_the_unseen_walk_moves_at_its_stated_speed():
    video, hips = walk.stick_walk(speed=4.0)
    assert video.shape == (world.NUM_FRAMES, world.HEIGHT, world.WIDTH, 3)
    assert np.allclose(np.diff(hips), 4.0)


def test_figure_speed_reads_a_figure_crossing_a_wrongly_coloured_floor():
    video, hips = walk.stick_walk(speed=3.0)
    background = np.full(video.shape[1:], 130, np.uint8)
    frames = np.where(video.max(axis=-1, keepdims=True) > 0, 255, 40).astype(np.uint8)  # dark floor, not grey
    assert abs(walk.figure_speed(frames, background, video) - 3.0) < 0.2
    still = np.repeat(frames[:1], len(frames), axis=0)
    assert abs(walk.figure_speed(still, background, video)) < 0.2


def test_trail_pixels_count_a_copy_of_the_figure_left_behind_the_skeleton():
    video, _ = walk.stick_walk(speed=4.0)
    background = np.full(video.shape[1:], 130, np.uint8)
    on_skeleton = np.where(video.max(axis=-1, keepdims=True) > 0, 255, 130).astype(np.uint8)
    assert walk.trail_pixels(on_skeleton, background, video) == [0] * len(video)
    with_trail = on_skeleton.copy()
    with_trail[8:] = np.maximum(on_skeleton[8:], np.roll(on_skeleton[8:], -32, axis=2))  # 8 frames behind
    trail = walk.trail_pixels(with_trail, background, video)
    assert trail[:8] == [0] * 8 and min(trail[9:]) > 50
