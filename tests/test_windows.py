import numpy as np
import pytest

from engine.windows import (LongVideo, Window, add_context_noise, make_in_windows, crossfade, lab_to_rgb, match_colors, plan_windows, rgb_to_lab, segment_plan,
                            round_up_to_window_length, seam_positions, window_control)


def covered(windows):
    frames = []
    for w in windows:
        frames += list(range(w.start + w.keep_from, w.start + w.keep_to))
    return frames


@pytest.mark.parametrize("num_frames, window, overlap, discard", [
    (193, 81, 5, 0), (193, 81, 17, 8), (33, 17, 5, 0), (49, 17, 1, 4), (18, 17, 5, 0), (97, 17, 9, 0)])
def test_windows_cover_every_frame_once_in_order(num_frames, window, overlap, discard):
    windows = plan_windows(num_frames, window, overlap, discard)
    assert covered(windows) == list(range(num_frames))
    for before, after in zip(windows, windows[1:]):
        assert after.start == before.start + before.keep_to - overlap  # continues the frames just made
        assert after.keep_from == overlap
    assert all(w.length % 4 == 1 and w.length <= window for w in windows)


def test_a_twelve_second_clip_takes_three_wan_windows():
    windows = plan_windows(193, 81, 5)
    assert [(w.start, w.length) for w in windows] == [(0, 81), (76, 81), (152, 41)]
    assert seam_positions(windows) == [81, 157]


@pytest.mark.parametrize("window, overlap, discard, message", [
    (16, 5, 0, r"window_frames must be 4n\+1"),
    (17, 4, 0, r"window_overlap must be 4n\+1 \(1, 5, 9, ...\), got 4; nearest valid: 1 or 5"),
    (17, 17, 0, r"window_overlap \(17\) must be smaller than the window \(17 frames\)"),
    (17, 13, 2, "each window must add at least 4 new frames"),
    (17, 5, -1, "window_discard must be >= 0"),
])
def test_bad_window_settings_are_named(window, overlap, discard, message):
    with pytest.raises(ValueError, match=message):
        plan_windows(100, window, overlap, discard)


def test_later_windows_start_with_the_frames_made_masked_to_keep():
    control = np.stack([np.full((4, 4, 3), i, np.uint8) for i in range(20)])
    made = np.full((20, 4, 4, 3), 200, np.uint8)
    frames, mask = window_control(control, made, Window(12, 9, 5, 8))
    assert mask == [0.0] * 5 + [1.0] * 4
    assert (frames[:5] == 200).all() and [int(f[0, 0, 0]) for f in frames[5:]] == [17, 18, 19, 19]  # last repeats
    first, first_mask = window_control(control, None, Window(0, 9, 0, 9))
    assert first_mask == [1.0] * 9 and np.array_equal(first, control[:9])


def test_colour_matching_moves_the_lab_statistics_by_its_strength():
    rng = np.random.default_rng(0)
    target = rng.integers(60, 200, (3, 8, 8, 3)).astype(np.uint8)
    drifted = np.clip(target.astype(int) + [40, -20, 10], 0, 255).astype(np.uint8)
    gap = lambda frames: np.abs(rgb_to_lab(frames).mean((0, 1, 2)) - rgb_to_lab(target).mean((0, 1, 2))).sum()
    assert gap(match_colors(drifted, target, 1.0)) < 0.1 * gap(drifted)
    assert 0.3 * gap(drifted) < gap(match_colors(drifted, target, 0.5)) < 0.7 * gap(drifted)
    assert match_colors(drifted, target, 0.0) is drifted
    assert np.array_equal(lab_to_rgb(rgb_to_lab(target)), target)


def test_context_noise_is_seeded_and_off_at_zero():
    frames = np.full((2, 8, 8, 3), 128, np.uint8)
    assert add_context_noise(frames, 0.0, 1) is frames
    noisy = add_context_noise(frames, 0.05, 1)
    assert np.array_equal(noisy, add_context_noise(frames, 0.05, 1)) and 8 < noisy.astype(float).std() < 18


def test_round_up_to_window_length():
    assert [round_up_to_window_length(n) for n in (5, 6, 8, 9, 10)] == [5, 9, 9, 9, 13]


def test_a_crossfade_ramps_the_overlap_from_the_earlier_window_to_the_later():
    earlier = np.zeros((5, 2, 2, 3), np.uint8)
    later = np.full((5, 2, 2, 3), 240, np.uint8)
    faded = crossfade(earlier, later, 3)
    assert [int(frame[0, 0, 0]) for frame in faded] == [0, 0, 60, 120, 180]  # weights 1/4, 2/4, 3/4
    np.testing.assert_array_equal(crossfade(earlier, later, 0), earlier)


class Plain:
    """The request fields make_in_windows reads, all steps between windows off."""
    seed, num_inference_steps = 0, 2
    window_noise = window_color_match = window_crossfade = 0
    window_context = "control"


def test_each_window_fills_its_new_frames_and_a_stop_keeps_the_finished_ones():
    """Windows write only their own new frames; the model failing in window 3 leaves windows 1-2 in place."""
    plan = plan_windows(41, 17, 5)
    seen_masks = []

    def run_window(index, control, mask, kept):
        seen_masks.append(mask)
        if index == 2:
            raise KeyboardInterrupt  # stands in for a stop between steps
        times = dict(condition_encode=0.0, denoise=1.0, decode=0.0, pipeline_call=1.0)
        return np.full((len(control), 8, 8, 3), 50 * (index + 1), np.uint8), times

    video = LongVideo.empty(41, 8, 8)
    with pytest.raises(KeyboardInterrupt):
        make_in_windows(video, plan, np.zeros((41, 8, 8, 3), np.uint8), run_window, Plain())
    assert video.finished_windows == 2 and video.finished_frames(plan) == plan[1].start + plan[1].keep_to
    assert (video.frames[:plan[0].keep_to] == 50).all()
    assert (video.frames[plan[1].start + plan[1].keep_from: video.finished_frames(plan)] == 100).all()
    assert seen_masks[0] is None and seen_masks[1] is not None  # only later windows continue frames


def test_with_latent_context_later_windows_get_the_pose_and_the_made_frames_apart():
    """window_context=latents: every window's control is its slice of the pose video, unmasked; the frames
    already made go to the model separately, to be held as latents."""
    plan = plan_windows(29, 17, 5)
    pose = np.arange(29, dtype=np.uint8)[:, None, None, None].repeat(8, 1).repeat(8, 2).repeat(3, 3)
    calls = []

    def run_window(index, control, mask, kept):
        calls.append((control.copy(), mask, None if kept is None else kept.copy()))
        times = dict(condition_encode=0.0, denoise=1.0, decode=0.0, pipeline_call=1.0)
        return np.full((len(control), 8, 8, 3), 200, np.uint8), times

    class Latents(Plain):
        window_context = "latents"

    make_in_windows(LongVideo.empty(29, 8, 8), plan, pose, run_window, Latents())
    (first_control, first_mask, first_kept), (control, mask, kept) = calls
    assert first_mask is None and first_kept is None and mask is None
    np.testing.assert_array_equal(control, pose[plan[1].start: plan[1].start + plan[1].length])
    assert kept.shape == (plan[1].keep_from, 8, 8, 3) and (kept == 200).all()  # the first window's frames


@pytest.mark.parametrize("num_frames, segment, carried", [(77, 77, 1), (81, 77, 1), (161, 77, 5), (21, 9, 1),
                                                            (33, 17, 5), (200, 77, 1), (9, 17, 1)])
def test_a_segment_plan_has_as_many_segments_as_animates_pipeline_runs(num_frames, segment, carried):
    plan = segment_plan(num_frames, segment, carried)
    # WanAnimatePipeline pads the pose to whole segments past the first frames carried, then counts them.
    step = min(segment, num_frames) - carried
    padded = num_frames + (-(num_frames - carried) % step)
    assert len(plan) == (1 if num_frames <= segment else padded // step)
    assert sum(w.new_frames for w in plan) == num_frames
    assert all(w.length == min(segment, num_frames) for w in plan)


def test_a_segment_that_carries_half_its_frames_or_more_is_refused():
    with pytest.raises(ValueError, match="under half the segment"):
        segment_plan(81, 17, 9)
