import math

import pytest

from engine.request import GenerationRequest, nearest_valid_frame_counts


@pytest.fixture
def files(pose_mp4, reference_png):
    return dict(control_video=str(pose_mp4), reference=str(reference_png))


def test_defaults_are_the_blog_and_model_defaults(files):
    request = GenerationRequest(**files)
    assert (request.height, request.width, request.num_frames, request.fps) == (480, 832, 81, 16)
    assert (request.guidance_scale, request.num_inference_steps, request.seed) == (5.0, 50, 1)
    assert request.control_fit == "pad"


@pytest.mark.parametrize("frames, nearest", [(80, "77 or 81"), (82, "81 or 85"), (2, "1 or 5"), (0, "1 or 5")])
def test_frame_count_must_be_4n_plus_1_and_the_error_names_the_nearest(files, frames, nearest):
    with pytest.raises(ValueError, match=f"got {frames}; nearest valid: {nearest}"):
        GenerationRequest(**files, num_frames=frames)


def test_nearest_valid_frame_counts():
    assert nearest_valid_frame_counts(80) == (77, 81)
    assert nearest_valid_frame_counts(81) == (81, 85)


@pytest.mark.parametrize("field, value, nearest", [("height", 470, "464 or 480"), ("width", 830, "816 or 832"),
                                                     ("height", 8, "16 or 32")])
def test_size_must_be_a_multiple_of_16(files, field, value, nearest):
    with pytest.raises(ValueError, match=f"{field} must be a multiple of 16, got {value}; nearest valid: {nearest}"):
        GenerationRequest(**files, **{field: value})


def test_missing_files_are_named(files, tmp_path):
    with pytest.raises(ValueError, match="control video not found"):
        GenerationRequest(control_video=str(tmp_path / "nope.mp4"))
    with pytest.raises(ValueError, match="reference image not found"):
        GenerationRequest(control_video=files["control_video"], reference=str(tmp_path / "nope.png"))


@pytest.mark.parametrize("changes, message", [
    ({"guidance_scale": math.nan}, "guidance_scale must be a finite number"),
    ({"guidance_scale": -1}, "guidance_scale must be >= 0"),
    ({"num_inference_steps": 0}, "num_inference_steps"),
    ({"fps": 0}, "fps"),
    ({"seed": -3}, "seed"),
    ({"flow_shift": 0}, "flow_shift"),
    ({"control_fit": "zoom"}, "control_fit"),
    ({"conditioning_scale": [1.0, math.inf]}, "conditioning_scale"),
])
def test_bad_numbers_are_named(files, changes, message):
    with pytest.raises(ValueError, match=message):
        GenerationRequest(**files, **changes)


def test_uses_cfg_only_above_guidance_one(files):
    assert GenerationRequest(**files, guidance_scale=5).uses_cfg
    assert not GenerationRequest(**files, guidance_scale=1).uses_cfg


def test_parse_field_converts_command_line_text():
    assert GenerationRequest.parse_field("num_frames", "49") == 49
    assert GenerationRequest.parse_field("guidance_scale", "7.5") == 7.5
    assert GenerationRequest.parse_field("conditioning_scale", "0.5") == 0.5
    assert GenerationRequest.parse_field("conditioning_scale", "1,0.5") == [1.0, 0.5]
    assert GenerationRequest.parse_field("lora", "none") is None
    assert GenerationRequest.parse_field("prompt", "a man") == "a man"
    with pytest.raises(ValueError, match="num_frames must be an integer"):
        GenerationRequest.parse_field("num_frames", "4.5")
    with pytest.raises(ValueError, match="unknown field 'cfg'"):
        GenerationRequest.parse_field("cfg", "5")


def test_parse_overrides_types_each_pair_and_names_its_source():
    assert GenerationRequest.parse_overrides(["seed=3", "guidance_scale = 7.5"]) == {"seed": 3, "guidance_scale": 7.5}
    with pytest.raises(ValueError, match="each settings line expects FIELD=VALUE, got 'seed'"):
        GenerationRequest.parse_overrides(["seed"], source="each settings line")
