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
    ({"guidance_stop": 1.5}, "guidance_stop must be a noise level from 0 .guide every step. to 1, got 1.5"),
    ({"guidance_stop": -0.1}, "guidance_stop must be a noise level"),
    ({"control_fit": "zoom"}, "control_fit"),
    ({"conditioning_scale": [1.0, math.inf]}, "conditioning_scale"),
])
def test_bad_numbers_are_named(files, changes, message):
    with pytest.raises(ValueError, match=message):
        GenerationRequest(**files, **changes)


@pytest.mark.parametrize("changes, message", [
    ({"sampler": "ddim"}, "sampler must be one of unipc, euler, got 'ddim'"),
    ({"sigmas": [1.0, 0.5, 0.75], "num_inference_steps": 3}, "sigmas must decrease from high noise to low, got 1, 0.5, 0.75"),
    ({"sigmas": [1.5, 0.5], "num_inference_steps": 2}, r"sigmas must be numbers in \(0, 1\]"),
    ({"sigmas": [1.0, 0.0], "num_inference_steps": 2}, r"sigmas must be numbers in \(0, 1\]"),
    ({"sigmas": [1.0, 0.5]}, "sigmas has 2 values but num_inference_steps is 50; set num_inference_steps=2 too"),
    ({"sigmas": [1.0, 0.5], "num_inference_steps": 2, "step_cache": 0.1}, "step_cache and explicit sigmas do not mix"),
])
def test_bad_sampling_settings_are_named(files, changes, message):
    with pytest.raises(ValueError, match=message):
        GenerationRequest(**files, **changes)


def test_explicit_sigmas_are_kept_as_floats_with_their_step_count(files):
    request = GenerationRequest(**files, sampler="euler", sigmas=[1, 0.75, 0.5, 0.25], num_inference_steps=4)
    assert request.sigmas == [1.0, 0.75, 0.5, 0.25] and request.num_inference_steps == 4
    assert GenerationRequest.parse_field("sigmas", "1, 0.75/0.5") == [1.0, 0.75, 0.5]
    assert GenerationRequest.parse_field("sigmas", "none") is None


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


# ---- the field table: each field is described once and every consumer reads that description ----------

# A value of each field that differs from its default, as --set writes it and as it parses.
SAMPLE_VALUES = {
    "prompt": ("a dancer", "a dancer"), "negative_prompt": ("blurry", "blurry"), "guidance_scale": ("7.5", 7.5),
    "guidance_stop": ("0.6", 0.6),
    "num_inference_steps": ("20", 20), "seed": ("3", 3), "lora": ("my.safetensors", "my.safetensors"),
    "lora_scale": ("0.7", 0.7), "conditioning_scale": ("1.0,0.5", [1.0, 0.5]), "flow_shift": ("5", 5.0),
    "height": ("256", 256), "width": ("448", 448), "num_frames": ("33", 33), "fps": ("8", 8),
    "control_fit": ("crop", "crop"), "step_cache": ("0.1", 0.1), "sampler": ("euler", "euler"),
    "sigmas": ("1, 0.5", [1.0, 0.5]), "window_frames": ("9", 9), "window_overlap": ("1", 1),
    "window_noise": ("0.05", 0.05), "window_color_match": ("0.5", 0.5), "window_discard": ("1", 1),
    "window_crossfade": ("1", 1), "window_context": ("latents", "latents"),
}


def test_every_field_is_described_once_with_a_label_help_and_type():
    from engine.request import request_fields

    infos = request_fields()
    assert list(infos) == GenerationRequest.field_names()
    labels = [info.label for info in infos.values()]
    assert len(labels) == len(set(labels)), "two fields share a label"
    for info in infos.values():
        assert info.label and info.help and info.label.isascii() and info.short.isascii()
        assert info.type in (int, float, str)


def test_every_field_goes_through_set_sweep_axes_headers_and_the_manifest(files, tmp_path):
    from engine.request import request_fields
    from services.axes import AXIS_FIELDS, parse_axis_values, value_label

    infos = request_fields()
    for name, info in infos.items():
        if name in ("control_video", "reference", "face_video", "driving_video", "background_video", "mask_video"):
            continue  # files: checked with real paths below
        text, parsed = SAMPLE_VALUES[name]
        assert GenerationRequest.parse_field(name, text) == parsed, name  # --set and the settings box
        if info.axis:
            assert name in AXIS_FIELDS, name
            axis_text = text.replace(",", "/") if info.kind == "scales" else text
            [value] = parse_axis_values(name, axis_text)
            assert value_label(name, value) == info.header(value)  # grid headers and legends
        else:
            assert name not in AXIS_FIELDS, name
    files = {**files, **{name: files["control_video"] for name in
                         ("face_video", "driving_video", "background_video", "mask_video")}}
    for name in ("control_video", "reference", "face_video", "driving_video", "background_video", "mask_video"):
        assert value_label(name, files[name]) == f"{infos[name].short} {files[name].rsplit('/', 1)[-1]}"
    # sigmas need a matching step count and no step cache: checked in their own test
    changes = {name: parsed for name, (_, parsed) in SAMPLE_VALUES.items() if name not in ("lora", "sigmas")}
    request = GenerationRequest(**files, **changes)
    assert set(request.to_dict()) == set(infos)  # the manifest records every field


def test_the_generate_tab_has_one_widget_per_field_labelled_from_the_table(tiny_engine):
    import gradio as gr

    from engine.request import request_fields
    from ui.generate_tab import build_generate_tab

    with gr.Blocks() as demo:
        build_generate_tab(tiny_engine, {})
    labels = [block.label for block in demo.blocks.values() if getattr(block, "label", None)]
    for info in request_fields().values():
        assert labels.count(info.label) == 1, info.label


def test_a_sweep_legend_and_cells_csv_use_the_table(tiny_engine, tmp_path):
    import csv

    from services.runner import SweepRunner
    from services.sweep_spec import SweepSpec

    spec = SweepSpec.from_dict({"name": "t", "x": {"field": "lora_scale", "values": "0.5, 1"},
                                "base": {"guidance_scale": 5.0, "lora": "none"}})
    runner = SweepRunner(tiny_engine, spec, tmp_path / "run")
    assert [cell.labels["x"] for cell in runner.cells] == ["LoRA strength 0.5", "LoRA strength 1"]
    legend = runner.legend(runner.cells, None)
    assert "CFG 5" in legend and "Seed 1" in legend and "CFG 5.0" not in legend
    runner.store.prepare()
    path = runner.store.write_cells_csv(runner.cells, {}, ["lora_scale"])
    with open(path, newline="") as handle:
        assert "lora_scale" in next(csv.reader(handle))  # columns are named by the field
