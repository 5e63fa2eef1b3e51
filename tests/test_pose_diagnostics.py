"""Detection rates, empty frames, jitter against motion, and smoothing that removes jitter only."""

import numpy as np

from engine.pose.diagnostics import compact_ranges, diagnose, joint_motion, smooth_points, smooth_track
from engine.pose.format import Person


def walking_track(frames=40, noise=0.0, seed=0):
    """A body sliding right 2 px per frame, with optional per-frame jitter."""
    rng = np.random.default_rng(seed)
    track = []
    for t in range(frames):
        person = Person()
        person.body[:, 0] = 100 + 2 * t + np.arange(18) + rng.normal(0, noise, 18)
        person.body[:, 1] = 200 + rng.normal(0, noise, 18)
        person.body[:, 2] = 1.0
        track.append(person)
    return track


def test_detection_rate_and_frames_without_person():
    track = walking_track(10)
    track[3] = None
    track[4] = None
    track[7].body[4, 2] = 0.1  # right wrist unsure in one frame
    report = diagnose(track, threshold=0.3)
    assert report.frames_without_person == [3, 4]
    assert report.body_detection_rate["neck"] == 0.8 and report.body_detection_rate["right_wrist"] == 0.7
    assert "No person in frames: 3-4." in report.summary_lines()


def test_jitter_separates_shaking_from_moving():
    smooth = diagnose(walking_track(), 0.3)
    shaky = diagnose(walking_track(noise=3.0), 0.3)
    assert abs(smooth.motion_px - 2.0) < 1e-4
    assert smooth.jitter_px < 1e-4 and shaky.jitter_px > 3.0


def test_missing_joints_do_not_count_as_motion():
    body = np.zeros((3, 18, 3), np.float32)
    body[:, :, 2] = 1
    body[1, 0, 2] = 0  # the nose vanishes in the middle frame
    step, jerk = joint_motion(body, 0.3)
    assert np.isnan(step[0, 0]) and np.isnan(jerk[0, 0]) and step[0, 1] == 0


def test_smoothing_cuts_jitter_keeps_motion_and_leaves_missing_points_alone():
    track = walking_track(noise=3.0)
    track[5].body[2, 2] = 0.0
    track[5].body[2, :2] = (0, 0)
    smoothed = smooth_track(track, sigma=2.0, threshold=0.3)
    before, after = diagnose(track, 0.3), diagnose(smoothed, 0.3)
    assert after.jitter_px < before.jitter_px / 3
    assert abs(after.motion_px - 2.0) < 0.5
    assert smoothed[5].body[2].tolist() == [0, 0, 0]


def test_zero_sigma_is_a_no_op():
    points = np.random.default_rng(1).random((6, 18, 3)).astype(np.float32)
    assert np.array_equal(smooth_points(points, 0, 0.3), points)


def test_compact_ranges():
    assert compact_ranges([0, 1, 2, 5, 7, 8]) == "0-2, 5, 7-8"
    assert compact_ranges([]) == ""
