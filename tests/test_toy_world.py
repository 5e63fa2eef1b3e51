"""The puppet world: deterministic, varied, and its answers (keypoints, part masks, colours) agree with
its pixels."""

import json

import numpy as np
import pytest

from engine.toy import world


def test_the_same_seed_gives_the_same_clip_and_others_differ():
    a, b, c = world.make_sample(11), world.make_sample(11), world.make_sample(12)
    np.testing.assert_array_equal(a.video, b.video)
    assert a.prompt == b.prompt and a.look == b.look
    assert np.abs(a.video.astype(int) - c.video.astype(int)).mean() > 5


def test_the_world_is_varied_enough_that_it_cannot_be_memorised():
    samples = [world.make_sample(seed) for seed in range(60)]
    assert {s.motion for s in samples} == set(world.MOTIONS)
    assert len({s.look.top for s in samples}) >= 8 and len({s.look.background for s in samples}) >= 8
    assert {s.look.pattern for s in samples} == set(world.PATTERNS)
    heights = [np.ptp(s.keypoints[0, [world.NECK, world.R_ANK], 1]) for s in samples]
    assert max(heights) > 1.3 * min(heights)  # scale variety
    walks = [s for s in samples if s.motion == "walk"]
    assert all(abs(s.keypoints[-1, world.NECK, 0] - s.keypoints[0, world.NECK, 0]) > 10 for s in walks)


def test_the_prompt_names_the_clothes_action_and_background():
    sample = world.make_sample(3)
    look = sample.look
    for word in (look.top, look.bottom_colour, look.bottom, look.background, world.VERBS[sample.motion]):
        assert word in sample.prompt


def test_the_reference_is_the_figure_on_white_in_another_pose():
    sample = world.make_sample(5)
    corners = sample.reference[[0, 0, -1, -1], [0, -1, 0, -1]]
    assert (corners == 255).all()
    assert np.abs(sample.reference_keypoints[:, :2] - sample.keypoints[0, :, :2]).max() > 5


def test_part_masks_match_the_pixels_and_keypoints_lie_on_the_figure():
    sample = world.make_sample(8)
    colours = sample.look.part_colours()
    for part in ("top", "bottom"):
        pixels = sample.video[sample.parts == world.PART_INDEX[part]].astype(float)
        assert np.median(np.linalg.norm(pixels - colours[part], axis=1)) < 10, part
    background = sample.parts == 0
    assert np.abs(sample.video[background].astype(int) - np.broadcast_to(sample.background, sample.video.shape)[background]).mean() < 3
    for t in (0, 8, 16):
        for joint in (world.NECK, world.R_HIP, world.L_KNEE):
            x, y = np.round(sample.keypoints[t, joint, :2]).astype(int)
            assert sample.parts[t, y, x] > 0


def test_the_pose_video_is_drawn_by_the_labs_renderer_where_the_joints_are():
    sample = world.make_sample(2)
    x, y = np.round(sample.keypoints[4, world.NECK, :2]).astype(int)
    assert sample.pose_video[4, y - 1:y + 2, x - 1:x + 2].max() > 100  # a joint dot at the neck
    assert sample.pose_video[4, 0, 0].max() == 0  # black elsewhere


def test_seen_from_behind_the_face_points_are_not_confident():
    turning = next(world.make_sample(seed) for seed in range(200) if world.make_sample(seed).motion == "turn")
    assert turning.keypoints[:, world.NOSE, 2].min() == 0 and turning.keypoints[:, world.NECK, 2].min() == 1


def test_a_written_sample_can_be_read_back_from_its_pose_video(tmp_path):
    sample = world.make_sample(21, num_frames=9)
    files = world.write_sample(sample, tmp_path / "s")
    for name in ("video.mp4", "pose.mp4", "reference.png", "prompt.txt", "keypoints.json", "parts.npz", "toy.json"):
        assert (tmp_path / "s" / name).is_file()
    again = world.read_sample_record(files["pose_video"])
    np.testing.assert_array_equal(again.video, sample.video)
    keypoints = json.loads((tmp_path / "s" / "keypoints.json").read_text())
    assert len(keypoints["frames"]) == 9 and keypoints["fps"] == 16
    assert world.read_sample_record(tmp_path / "elsewhere" / "pose.mp4") is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recolouring_keeps_the_motion(seed):
    sample = world.make_sample(seed)
    other = world.recoloured(sample, world.with_look(sample.look, top="red" if sample.look.top != "red" else "blue"))
    np.testing.assert_array_equal(other.keypoints, sample.keypoints)
    assert other.look.top != sample.look.top


def test_a_reference_from_a_frame_is_that_frames_figure_on_white():
    import cv2

    sample = world.make_sample(7)
    aligned = world.make_sample(7, reference_frame=9)
    np.testing.assert_array_equal(aligned.video, sample.video)
    np.testing.assert_array_equal(aligned.reference_keypoints[:, :2], sample.keypoints[9, :, :2])
    kernel = np.ones((5, 5), np.uint8)  # edges mix with the floor (antialiased): compare inside them
    inner = cv2.erode((sample.parts[9] > 0).astype(np.uint8), kernel) > 0
    outside = cv2.erode((sample.parts[9] == 0).astype(np.uint8), kernel) > 0
    same = (aligned.reference[inner] == sample.video[9][inner]).all(axis=-1)
    assert inner.sum() > 300 and same.mean() > 0.99  # a few pixels where two parts' antialiased edges meet
    assert (aligned.reference[outside] == 255).all()
    other = world.recoloured(aligned, world.with_look(aligned.look, top="red" if aligned.look.top != "red" else "blue"))
    assert other.reference_frame == 9  # recoloured in the same pose, for the reference-use benchmark


def test_the_scene_prompt_names_the_floor_and_leaves_the_clothes_to_the_reference():
    sample = world.make_sample(11)
    prompt = world.scene_prompt(sample.look, sample.motion)
    assert prompt.endswith(f"{sample.look.background} background")
    assert sample.look.top not in prompt.split() or sample.look.top == sample.look.background
    assert world.VERBS[sample.motion] in prompt and world.VERBS[sample.motion] in sample.prompt


def test_the_dancer_prompt_names_the_clothes_and_action_but_not_the_background():
    sample = world.make_sample(11)
    prompt = world.dancer_prompt(sample.look, sample.motion)
    assert sample.prompt.startswith(prompt) and prompt != sample.prompt
    assert "background" not in prompt and world.VERBS[sample.motion] in prompt


@pytest.mark.parametrize("seed,speed", [(3, 4.0), (11, -2.5), (12, 5.0)])
def test_a_travelling_clip_crosses_the_frame_at_its_speed_and_stays_in_it(seed, speed):
    """The seed's own look, motion and timing, its root carried `speed` pixels a frame from a start that keeps
    the whole path inside the frame."""
    sample = world.make_sample(seed)
    travelling = world.make_sample(seed, travel=speed)
    assert (travelling.look, travelling.motion, travelling.prompt) == (sample.look, sample.motion, sample.prompt)
    hips = travelling.keypoints[:, [world.R_HIP, world.L_HIP], 0].mean(axis=1)
    assert np.mean(np.diff(hips)) == pytest.approx(speed, abs=0.6)  # a dance sways around its path
    assert (travelling.parts > 0).any(axis=(1, 2)).all()
    assert 0 < hips.min() and hips.max() < world.WIDTH
    assert world.recoloured(travelling, travelling.look).travel == speed


def test_without_travel_a_clip_is_the_seeds_own():
    """travel=None draws nothing more, so every clip the shipped toy learned is unchanged."""
    np.testing.assert_array_equal(world.make_sample(4, travel=None).video, world.make_sample(4).video)
