from pathlib import Path

import pytest
import yaml

from engine.request import GenerationRequest
from services.sweep_spec import SweepSpec, expand, preset_names


def make_request(**fields):
    return GenerationRequest(**{"height": 64, "width": 112, "num_frames": 9, **fields})


def test_every_sweep_preset_loads_and_expands(lora_files):
    from engine.profiles import model_profiles
    from engine.spec import ModelSpec

    assert {"blog-guidance", "blog-steps", "blog-prompts", "blog-lora-strength", "seeds"} <= set(preset_names())
    profiles = model_profiles(ModelSpec.from_preset("toy"))  # the toy presets sweep the toy's profiles
    for name in preset_names():
        spec = SweepSpec.from_preset(name)
        cells = expand(spec, make_request, lora=str(lora_files["diffusers"]), profiles=profiles,
                       model_requests=lambda name: make_request)
        assert len(cells) == spec.num_cells


def test_the_toy_blog_grid_names_the_shipped_files_wherever_the_lab_runs(monkeypatch, tmp_path):
    from engine.paths import REPO_ROOT

    monkeypatch.chdir(tmp_path)
    cells = expand(SweepSpec.from_preset("toy-blog-strength"), make_request)
    assert len(cells) == 8 and {c.request.lora_scale for c in cells} == {0.0, 0.5, 1.0, 1.5}
    for cell in cells:
        for path in (cell.request.lora, cell.request.control_video, cell.request.reference):
            assert Path(path).is_file() and Path(path).is_relative_to(REPO_ROOT)


def test_blog_presets_have_the_blogs_values(lora_files):
    guidance = SweepSpec.from_preset("blog-guidance")
    assert guidance.x.values == [3.0, 5.0, 7.5] and guidance.y.values == ["none", "$lora"]
    assert SweepSpec.from_preset("blog-steps").x.values == [20, 30, 50]
    assert SweepSpec.from_preset("blog-lora-strength").x.values == [0.3, 0.7, 1.0, 1.5]
    prompts = SweepSpec.from_preset("blog-prompts").prompts
    assert prompts["Identity-Focused"].startswith("Detailed portrait-style video of a man with almond-shaped eyes")
    cells = expand(guidance, make_request, lora=str(lora_files["diffusers"]))
    assert all(c.request.seed == 1 and c.request.num_inference_steps == 50 for c in cells)


def test_expansion_labels_and_lora_choice(lora_files):
    spec = SweepSpec.from_preset("blog-guidance")
    cells = expand(spec, make_request, lora=str(lora_files["diffusers"]))
    by_position = {(c.position["x"], c.position["y"]): c for c in cells}
    assert by_position[(1, 0)].labels == {"x": "CFG 5", "y": "Pretrained"}
    assert by_position[(1, 0)].request.lora is None and by_position[(1, 1)].request.lora == str(lora_files["diffusers"])
    # A file saved by diffusers is always pytorch_lora_weights.safetensors: it is named by its folder.
    assert by_position[(2, 1)].labels == {"x": "CFG 7.5", "y": "LoRA diffusers"}
    with pytest.raises(ValueError, match="this sweep uses a LoRA"):
        expand(spec, make_request, lora=None)


def test_cells_are_ordered_so_costly_switches_happen_least(lora_files):
    spec = SweepSpec.from_dict({"name": "t", "x": {"field": "guidance_scale", "values": "3,5"},
                                "y": {"field": "lora", "values": ["none", "$lora"]},
                                "z": {"field": "tier", "values": ["preview", "480p"]}})
    cells = expand(spec, make_request, lora=str(lora_files["diffusers"]))
    switches = sum(1 for a, b in zip(cells, cells[1:]) if a.request.lora != b.request.lora)
    resizes = sum(1 for a, b in zip(cells, cells[1:]) if a.request.height != b.request.height)
    assert switches == 1 and resizes == 3  # the LoRA loads once; each LoRA group resizes once, plus the boundary


def test_unknown_keys_caps_and_mistakes_are_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown key"):
        SweepSpec.from_dict({"name": "t", "xaxis": {}})
    with pytest.raises(ValueError, match="more than max_cells=64"):
        SweepSpec.from_dict({"name": "t", "x": {"field": "seed", "values": "1-10"},
                             "y": {"field": "guidance_scale", "values": "1-10"}})
    with pytest.raises(ValueError, match="one axis only"):
        SweepSpec.from_dict({"name": "t", "x": {"field": "seed", "values": "1,2"}, "y": {"field": "seed", "values": "3"}})
    with pytest.raises(ValueError, match="prompts do not define"):
        SweepSpec.from_dict({"name": "t", "x": {"field": "prompt", "values": "Fancy"}})
    with pytest.raises(ValueError, match="exactly 'field' and 'values'"):
        SweepSpec.from_dict({"name": "t", "x": {"field": "seed"}})
    with pytest.raises(ValueError, match="unknown field"):
        SweepSpec.from_dict({"name": "t", "base": {"cfg": 5}})
    (tmp_path / "bad.yaml").write_text(": not yaml : [")
    with pytest.raises(ValueError, match="bad.yaml: not valid YAML"):
        SweepSpec.from_yaml(tmp_path / "bad.yaml")
    with pytest.raises(ValueError, match="unknown sweep preset"):
        SweepSpec.from_preset("../../etc/passwd")


def test_command_line_axes_override_a_preset():
    spec = SweepSpec.from_preset("seeds").with_changes(axes={"y": "guidance_scale=3,5"}, base={"num_inference_steps": 4})
    assert spec.num_cells == 8 and spec.base["num_inference_steps"] == 4
    with pytest.raises(ValueError, match="expects FIELD=VALUES"):
        SweepSpec.from_preset("seeds").with_changes(axes={"y": "guidance_scale"})
    spec_yaml = yaml.safe_dump(spec.to_dict())
    assert SweepSpec.from_dict(yaml.safe_load(spec_yaml)).num_cells == 8


def test_cell_key_changes_with_the_request():
    spec = SweepSpec.from_dict({"name": "t", "x": {"field": "seed", "values": "1,2"}})
    first, second = expand(spec, make_request)
    assert first.key != second.key
    assert expand(spec, make_request)[0].key == first.key


def test_a_blog_preset_without_a_lora_runs_its_pretrained_half_and_says_so():
    from services.sweep_spec import lora_or_fallback

    spec = SweepSpec.from_preset("blog-guidance")
    assert spec.needs_lora
    half, lora, note = lora_or_fallback(spec, None)
    assert lora is None and half.y.values == ["none"] and half.num_cells == 3
    assert "pretrained half" in note


def test_a_shipped_lora_fills_in_for_a_missing_one_and_a_chosen_one_wins(tmp_path):
    from services.sweep_spec import lora_or_fallback

    shipped = tmp_path / "blog.safetensors"
    shipped.write_bytes(b"x")
    spec = SweepSpec.from_preset("blog-lora-strength")
    assert lora_or_fallback(spec, None, shipped)[1] == str(shipped)
    assert lora_or_fallback(spec, "mine.safetensors", shipped) == (spec, "mine.safetensors", "")
    same, lora, note = lora_or_fallback(spec, None)  # the LoRA is the whole sweep: nothing to fall back on
    assert lora is None and note == "" and same.pretrained_half() is None


def test_a_profile_axis_sets_each_cells_sampling_fields():
    from engine.profiles import model_profiles
    from engine.spec import ModelSpec

    profiles = model_profiles(ModelSpec.from_preset("wan-vace-1.3b"))
    spec = SweepSpec.from_dict({"name": "t", "x": {"field": "profile", "values": "default, causvid-4step"},
                                "base": {"guidance_scale": 7.5, "step_cache": 0.1}})
    default, causvid = sorted(expand(spec, make_request, profiles=profiles), key=lambda c: c.position["x"])
    assert causvid.labels == {"x": "Profile causvid-4step"}
    assert (causvid.request.sampler, causvid.request.sigmas, causvid.request.guidance_scale) == (
        "euler", [1.0, 0.75, 0.5, 0.25], 1.0)
    assert causvid.request.step_cache is None  # the profile turns the cache off rather than fight it
    assert (default.request.sampler, default.request.num_inference_steps, default.request.guidance_scale) == (
        "unipc", 50, 5.0)
    with pytest.raises(ValueError, match="unknown profile 'turbo'"):
        expand(SweepSpec.from_dict({"name": "t", "x": {"field": "profile", "values": "turbo"}}), make_request,
               profiles=profiles)


def test_a_preset_says_its_prompts_again_for_the_toy_and_only_for_the_toy():
    from engine.toy.model import unknown_words

    for name in preset_names():
        spec = SweepSpec.from_preset(name)
        on_toy, note = spec.for_model("toy")
        prompts = [on_toy.base.get("prompt", ""), *on_toy.prompts.values()]
        # Every prompt a preset gives the toy is in the toy's words: the blog's own read as noise there.
        assert [unknown_words(p) for p in prompts if unknown_words(p)] == [], name
        assert bool(note) == bool(spec.models)
        assert spec.for_model("wan-vace-1.3b") == (spec, "")
    blog = SweepSpec.from_preset("blog-prompts").for_model("toy")[0]
    assert blog.prompts["Simple"] == "a person dances" and set(blog.prompts) == set(SweepSpec.from_preset("blog-prompts").prompts)


def test_the_users_settings_win_over_a_presets_toy_prompt():
    spec, _ = SweepSpec.from_preset("seeds").for_model("toy")
    mine = spec.with_changes(base={"prompt": "a person waves"})
    assert mine.base["prompt"] == "a person waves" and mine.base["num_inference_steps"] == 50


def test_a_presets_model_section_may_set_only_its_note_base_and_prompts(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("x: {field: seed, values: 1-2}\nmodels:\n  toy:\n    axes: {}\n")
    with pytest.raises(ValueError, match="sweep models.toy may set only note, base, prompts"):
        SweepSpec.from_yaml(bad)
    bad.write_text("x: {field: seed, values: 1-2}\nmodels:\n  toy:\n    base: {colour: red}\n")
    with pytest.raises(ValueError, match=r"sweep models.toy.base has unknown field\(s\) \['colour'\]"):
        SweepSpec.from_yaml(bad)


def test_a_prompt_set_is_swept_on_a_free_axis_unless_one_already_sweeps_prompts():
    from services.sweep_spec import prompt_axis_name

    assert prompt_axis_name([None, None, None]) == "x"
    assert prompt_axis_name(["seed", "", None]) == "y"
    assert prompt_axis_name(["seed", "lora", "prompt"]) == "z"
    assert prompt_axis_name(["seed", "lora", "guidance_scale"]) == "x"
    prompts = {"floor": "a person dances on a grey background", "clothes": "a person in a red top dances"}
    spec = SweepSpec(name="s").with_changes(axes={"x": "seed=1,2"}).with_prompt_set(prompts)
    assert (spec.y.field, spec.y.values) == ("prompt", ["floor", "clothes"])
    chosen = SweepSpec(name="s", prompts={"mine": "a person waves"}).with_changes(axes={"x": "prompt=mine"})
    spec = chosen.with_prompt_set(prompts)
    assert spec.x.values == ["mine"] and spec.y is None and set(spec.prompts) == {"mine", "floor", "clothes"}


def test_the_command_lines_prompt_set_reads_the_variants_json_without_its_unbuilt_variants(tmp_path):
    import argparse
    import json

    from experiments.cli import sweep_spec_from_args

    path = tmp_path / "set.json"
    path.write_text(json.dumps({"Toy: floor only": "a person dances on a grey background", "Detailed Default": ""}))
    args = argparse.Namespace(preset=None, overrides=[], reference=None, control=None, face=None, driving=None,
                              x=None, y=None, z=None, max_cells=None, prompt_set=str(path))
    spec = sweep_spec_from_args(args, "toy")
    assert (spec.x.field, spec.x.values) == ("prompt", ["Toy: floor only"])


def test_a_model_axis_gives_each_cell_its_models_own_defaults_unless_the_sweep_sets_them():
    from functools import partial

    defaults = {"vace": {"guidance_scale": 5.0}, "animate": {"guidance_scale": 1.0, "flow_shift": 5.0}}
    spec = SweepSpec.from_dict({"name": "t", "x": "model=vace,animate", "base": {"flow_shift": 3.0}})
    cells = expand(spec, make_request, model_requests=lambda name: partial(make_request, **defaults[name]))
    by_model = {cell.model: cell for cell in cells}
    assert by_model["animate"].request.guidance_scale == 1.0 and by_model["vace"].request.guidance_scale == 5.0
    assert by_model["animate"].request.flow_shift == 3.0  # the sweep's own setting wins
    assert by_model["animate"].labels == {"x": "Model animate"}
    assert by_model["vace"].key != by_model["vace"].__class__(**{**by_model["vace"].__dict__, "model": "other"}).key
    with pytest.raises(ValueError, match="a model axis needs the lab's engines"):
        expand(spec, make_request)
