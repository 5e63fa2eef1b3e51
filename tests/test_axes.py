import pytest

from services.axes import parse_axis_values, value_label


@pytest.mark.parametrize("field, text, expected", [
    ("guidance_scale", "3, 5, 7.5", [3.0, 5.0, 7.5]),
    ("num_inference_steps", "20,30,50", [20, 30, 50]),
    ("seed", "1-5", [1, 2, 3, 4, 5]),
    ("seed", "1-5 (+2)", [1, 3, 5]),
    ("seed", "10-1 (-3)", [10, 7, 4, 1]),
    ("seed", "5-1", [5, 4, 3, 2, 1]),
    ("guidance_scale", "1-10 [5]", [1.0, 3.25, 5.5, 7.75, 10.0]),
    ("num_inference_steps", "1-10 [5]", [1, 3, 6, 8, 10]),
    ("lora_scale", "0.3, 0.7, 1-1.5 [2]", [0.3, 0.7, 1.0, 1.5]),
    ("lora_scale", "0-1 (+0.25)", [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("guidance_scale", "7", [7.0]),
    ("num_inference_steps", "1-2 [5]", [1, 2]),  # integer rounding repeats are dropped
    ("conditioning_scale", "1.0, 0.5/1.0", [1.0, [0.5, 1.0]]),
    ("prompt", "Detailed Default, Identity-Focused", ["Detailed Default", "Identity-Focused"]),
])
def test_axis_syntax(field, text, expected):
    assert parse_axis_values(field, text) == expected


def test_integer_fields_get_integers():
    assert all(isinstance(v, int) for v in parse_axis_values("num_inference_steps", "1-10 [4]"))
    assert all(isinstance(v, int) for v in parse_axis_values("seed", [1.0, "2"]))


def test_yaml_lists_are_accepted():
    assert parse_axis_values("guidance_scale", [3, 5.0, "7.5"]) == [3.0, 5.0, 7.5]
    assert parse_axis_values("conditioning_scale", [[1, 0.5], 1]) == [[1.0, 0.5], 1.0]


@pytest.mark.parametrize("field, text, message", [
    ("guidance", "3,5", "unknown axis field 'guidance'"),
    ("guidance_scale", "3,,5", "empty value"),
    ("guidance_scale", "3,x", "'x' is not a number or range"),
    ("seed", "1-5 (+0)", "step 0 never gets"),
    ("seed", "1-5 (-1)", "step -1 never gets from 1 to 5"),
    ("seed", "1-1000", "more than 100"),
    ("seed", "1-5 [0]", "at least 1"),
    ("guidance_scale", "nan", "not a finite number"),
    ("guidance_scale", "", "empty value"),
])
def test_axis_syntax_errors(field, text, message):
    with pytest.raises(ValueError, match=message):
        parse_axis_values(field, text)


def test_labels_read_like_the_blogs_headers():
    assert value_label("guidance_scale", 5.0) == "CFG 5"
    assert value_label("guidance_scale", 7.5) == "CFG 7.5"
    assert value_label("lora_scale", 0.7) == "LoRA strength 0.7"
    assert value_label("num_inference_steps", 30) == "Steps 30"
    assert value_label("seed", 3) == "Seed 3"
    assert value_label("conditioning_scale", [0.5, 1.0]) == "Control 0.5/1"
    assert value_label("reference", "/a/b/me.png") == "Ref: me.png"
    assert value_label("lora", "runs/dancer/checkpoint-000050/pytorch_lora_weights.safetensors") == "LoRA checkpoint-000050"
    assert value_label("lora", "none") == "Pretrained"


def test_grid_labels_are_plain_ascii_because_the_grid_font_has_no_greek():
    from engine.request import request_fields

    assert all(info.short.isascii() and info.label.isascii() for info in request_fields().values())
