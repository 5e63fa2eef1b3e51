import pytest
import torch
import yaml

from engine.families import model_spec, resolve_model_name
from engine.spec import ModelSpec, preset_names


def test_every_model_preset_loads():
    names = preset_names()
    assert {"tiny", "wan-vace-1.3b", "wan-vace-14b"} <= set(names)
    for name in names:
        spec = ModelSpec.from_preset(name)
        assert spec.name == name


def test_real_presets_point_at_the_published_checkpoints_with_bf16_transformer_and_fp32_vae():
    spec = ModelSpec.from_preset("wan-vace-1.3b")
    assert spec.source == "Wan-AI/Wan2.1-VACE-1.3B-diffusers"
    assert (spec.transformer_dtype, spec.vae_dtype) == ("bfloat16", "float32")
    assert spec.defaults["height"] == 480 and spec.defaults["width"] == 832 and spec.defaults["num_frames"] == 81
    assert ModelSpec.from_preset("wan-vace-14b").source == "Wan-AI/Wan2.1-VACE-14B-diffusers"


def test_unknown_preset_key_is_an_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "source": "tiny", "cpu_offlaod": True}))
    with pytest.raises(ValueError, match="cpu_offlaod"):
        ModelSpec.from_yaml(path)


def test_bad_dtype_and_default_field_are_named():
    with pytest.raises(ValueError, match="transformer_dtype"):
        ModelSpec(name="x", source="tiny", transformer_dtype="int8")
    with pytest.raises(ValueError, match="guidance"):
        ModelSpec(name="x", source="tiny", defaults={"guidence": 1})


def test_hub_id_and_local_folder_and_garbage(tmp_path):
    assert ModelSpec.from_preset("someone/my-vace").source == "someone/my-vace"
    (tmp_path / "model_index.json").write_text("{}")
    assert ModelSpec.from_preset(str(tmp_path)).source == str(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="model_index.json"):
        ModelSpec.from_preset(str(empty))
    with pytest.raises(ValueError, match="unknown model"):
        ModelSpec.from_preset("no such model")


def test_a_toy_run_folder_runs_with_the_toys_settings_not_wans(tmp_path):
    """`toy eval --model RUN/pipeline` or `app.py --model RUN/pipeline`: Wan's 480x832 defaults and 512-token
    prompts would sample the toy's weights far off what they learned (backgrounds matched 0 of 8 that way)."""
    (tmp_path / "model_index.json").write_text("{}")
    (tmp_path / "toy_run.json").write_text("{}")
    spec, toy = model_spec(str(tmp_path)), ModelSpec.from_preset("toy")
    assert spec.source == str(tmp_path) and spec.name.startswith("toy-run") and spec.family == "toy"
    assert (spec.defaults, spec.max_sequence_length) == (toy.defaults, toy.max_sequence_length)


def test_only_the_toy_stops_guidance_early_by_default():
    """The toy's 0.6 was measured (benchmarks/guidance_stop.py); Wan's presets guide every step until it is
    measured there."""
    assert ModelSpec.from_preset("toy").defaults["guidance_stop"] == 0.6
    for name in ("tiny", "wan-vace-1.3b", "wan-vace-14b"):
        assert "guidance_stop" not in ModelSpec.from_preset(name).defaults, name


def test_auto_picks_the_toy_without_cuda_tiny_without_its_weights_and_1_3b_with_cuda(monkeypatch):
    monkeypatch.setattr("engine.families.cuda_available", lambda: False)
    monkeypatch.setattr("engine.toy.family.is_shipped", lambda: True)
    assert resolve_model_name("auto") == "toy"
    monkeypatch.setattr("engine.toy.family.is_shipped", lambda: False)
    assert resolve_model_name("auto") == "tiny"
    monkeypatch.setattr("engine.families.cuda_available", lambda: True)
    assert resolve_model_name("auto") == "wan-vace-1.3b"
    assert resolve_model_name("tiny") == "tiny"


def test_auto_picks_the_1_3b_on_a_zerogpu_space_where_the_starting_process_has_no_gpu(monkeypatch):
    monkeypatch.setattr("engine.families.cuda_available", lambda: False)
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert resolve_model_name("auto") == "wan-vace-1.3b"


def _meta_parameter_counts(name):
    from diffusers import WanVACETransformer3DModel

    config = ModelSpec.from_preset(name).transformer_config
    with torch.device("meta"):
        model = WanVACETransformer3DModel(**config)
    total = sum(p.numel() for p in model.parameters())
    vace = sum(p.numel() for n, p in model.named_parameters() if n.startswith("vace_"))
    return total, vace


def test_1_3b_preset_builds_the_real_architecture_with_2_15b_parameters():
    total, vace = _meta_parameter_counts("wan-vace-1.3b")
    assert total == pytest.approx(2.15e9, rel=0.01)
    assert vace == pytest.approx(0.73e9, rel=0.01)  # the VACE branch: 15 blocks


def test_14b_preset_builds_with_eight_vace_blocks():
    total, vace = _meta_parameter_counts("wan-vace-14b")
    assert 16e9 < total < 18e9
    assert len(ModelSpec.from_preset("wan-vace-14b").transformer_config["vace_layers"]) == 8


def test_speed_options_are_checked():
    from engine.spec import ModelSpec

    with pytest.raises(ValueError, match="attention_backend must be one of"):
        ModelSpec(name="x", source="tiny", attention_backend="warp-speed")
    with pytest.raises(ValueError, match="cpu_offload or group_offload"):
        ModelSpec(name="x", source="tiny", cpu_offload=True, group_offload=True)
    assert ModelSpec(name="x", source="tiny", attention_backend="flash").attention_backend == "flash"
