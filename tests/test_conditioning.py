import numpy as np

from engine.conditioning import build_conditions, condition_key, condition_notes, preview_indices
from engine.request import GenerationRequest
from tests.helpers import numbered_frames, write_video


def request_for(clip, reference=None, **changes):
    fields = dict(control_video=str(clip), reference=str(reference) if reference else None,
                  height=64, width=112, num_frames=9, fps=16)
    return GenerationRequest(**{**fields, **changes})


def test_control_video_is_resampled_to_the_request_fps(tmp_path, reference_png):
    # 32 fps source whose frame i has brightness 8*i: at 16 fps every second frame must be taken.
    clip = write_video(tmp_path / "fast.mp4", numbered_frames(24, 64, 112), fps=32)
    request = request_for(clip, reference_png)
    conditions = build_conditions(request, condition_key(request))
    assert conditions.control_frames.shape == (9, 64, 112, 3)
    brightness = conditions.control_frames.reshape(9, -1).mean(axis=1)
    np.testing.assert_allclose(brightness, [16 * i for i in range(9)], atol=4)
    assert conditions.source_fps == 32 and conditions.source_frames == 24 and conditions.padded_frames == 0
    assert any("resampled from 32 fps to 16 fps" in note for note in condition_notes(request, conditions))


def test_short_clip_is_padded_and_says_so(tmp_path):
    clip = write_video(tmp_path / "short.mp4", numbered_frames(5, 64, 112), fps=16)
    request = request_for(clip)
    conditions = build_conditions(request, condition_key(request))
    assert conditions.padded_frames == 4
    np.testing.assert_array_equal(conditions.control_frames[-1], conditions.control_frames[4])
    notes = condition_notes(request, conditions)
    assert any("covers 5 of 9 frames" in note for note in notes)
    assert any("No reference image" in note for note in notes)


def test_key_follows_content_and_geometry_not_the_path(tmp_path, pose_mp4, reference_png):
    copy = tmp_path / "same.mp4"
    copy.write_bytes(pose_mp4.read_bytes())
    base = request_for(pose_mp4, reference_png)
    assert condition_key(base) == condition_key(request_for(copy, reference_png))
    assert condition_key(base) != condition_key(request_for(pose_mp4, reference_png, num_frames=13))
    assert condition_key(base) != condition_key(request_for(pose_mp4, reference_png, control_fit="crop"))
    assert condition_key(base) != condition_key(request_for(pose_mp4, None))
    # Guidance, steps, seed and prompt do not change what the VAE encodes.
    assert condition_key(base) == condition_key(base.replace(guidance_scale=2.0, seed=9, prompt="other"))


def test_preview_indices_span_the_clip():
    assert preview_indices(81) == [0, 27, 53, 80]
    assert preview_indices(2) == [0, 1]
    assert preview_indices(1) == [0]
