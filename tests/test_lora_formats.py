import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from engine import lora_formats
from engine.lora_formats import export_comfyui, read_lora_file


@pytest.mark.parametrize("fmt, name", [
    ("diffusers", lora_formats.DIFFUSERS), ("diffsynth", lora_formats.ORIGINAL),
    ("diffsynth_trainer", lora_formats.DIFFSYNTH), ("original", lora_formats.ORIGINAL),
    ("comfyui", lora_formats.COMFYUI), ("musubi", lora_formats.MUSUBI),
    ("vace_diffsynth_trainer", lora_formats.DIFFSYNTH), ("vace_comfyui", lora_formats.COMFYUI),
])
def test_each_format_is_recognised_and_named(lora_files, fmt, name):
    lora = read_lora_file(lora_files[fmt])
    assert lora.format == name
    assert len(lora.layers) == (30 if not fmt.startswith("vace") else 23)
    assert all(module.startswith(("blocks.", "vace_blocks.")) for module in lora.layers)


def test_vace_branch_projections_get_diffusers_names(lora_files):
    modules = set(read_lora_file(lora_files["vace_diffsynth_trainer"]).layers)
    assert {"vace_blocks.0.proj_in", "vace_blocks.0.proj_out", "vace_blocks.1.proj_out"} <= modules
    assert read_lora_file(lora_files["vace_diffsynth_trainer"]).summary().endswith("23 layers (VACE branch), rank 4")


def test_alpha_is_folded_into_the_down_matrix(lora_files):
    ours = read_lora_file(lora_files["diffusers"]).state_dict()
    comfy = read_lora_file(lora_files["comfyui"]).state_dict()
    for key, value in ours.items():
        # alpha = rank / 2 halves lora_A, the file's doubled lora_B restores the product
        product = comfy[key.replace("lora_A", "lora_B")] @ comfy[key] if "lora_A" in key else None
        if product is not None:
            torch.testing.assert_close(product, ours[key.replace("lora_A", "lora_B")] @ value)


def test_peft_lora_alpha_in_diffusers_metadata_is_applied(tmp_path, lora_files):
    state = read_lora_file(lora_files["diffusers"]).state_dict()
    bare = {k.removeprefix("transformer."): v for k, v in state.items()}
    save_file(bare, tmp_path / "alpha8.safetensors",
              metadata={"lora_adapter_metadata": '{"transformer.lora_alpha": 8, "transformer.r": 4}'})
    doubled = read_lora_file(tmp_path / "alpha8.safetensors").state_dict()
    key = next(k for k in state if "lora_A" in k)
    torch.testing.assert_close(doubled[key], 2 * state[key])


def test_whole_weight_and_norm_changes_are_listed_not_applied_and_biases_are(tmp_path, lora_files, caplog):
    state = dict(lora_files_state(lora_files["comfyui"]))
    state["diffusion_model.blocks.0.norm3.diff"] = torch.zeros(24)
    state["diffusion_model.blocks.0.self_attn.q.diff"] = torch.ones(24, 24)
    state["diffusion_model.blocks.0.self_attn.q.diff_b"] = torch.ones(24)
    save_file(state, tmp_path / "causvid_like.safetensors")
    lora = read_lora_file(tmp_path / "causvid_like.safetensors")
    assert len(lora.ignored) == 2 and "not applied" in caplog.text
    assert torch.equal(lora.state_dict()["transformer.blocks.0.attn1.to_q.lora_B.bias"], torch.ones(24))


def test_a_bias_strength_zero_is_the_base_video_and_one_changes_it(tmp_path, lora_files, tiny_engine, tiny_request):
    state = lora_files_state(lora_files["comfyui"])
    state["diffusion_model.blocks.1.ffn.2.diff_b"] = torch.full((24,), 0.5)
    save_file(state, tmp_path / "with_bias.safetensors")
    base = tiny_engine.generate(tiny_request).frames
    without = tiny_engine.generate(tiny_request.replace(lora=str(lora_files["comfyui"]), lora_scale=1.0)).frames
    with_bias = tiny_engine.generate(tiny_request.replace(lora=str(tmp_path / "with_bias.safetensors"), lora_scale=1.0))
    zero = tiny_engine.generate(tiny_request.replace(lora=str(tmp_path / "with_bias.safetensors"), lora_scale=0.0))
    assert not np.array_equal(with_bias.frames, without)
    np.testing.assert_array_equal(zero.frames, base)


def test_files_that_fit_nothing_say_what_they_look_like(tmp_path, lora_files):
    state = lora_files_state(lora_files["comfyui"])
    state["diffusion_model.blocks.0.self_attn.q_proj_extra.lora_down.weight"] = torch.zeros(4, 24)
    save_file(state, tmp_path / "odd.safetensors")
    with pytest.raises(ValueError, match=r"odd.safetensors: looks like a ComfyUI / Kohya \(lora_down / lora_up\) LoRA, "
                                         r"but 1 of its 91 keys are not a LoRA layer of Wan \(first: diffusion_model"):
        read_lora_file(tmp_path / "odd.safetensors")
    half = {k: v for k, v in lora_files_state(lora_files["musubi"]).items() if "lora_up" not in k or "blocks_0_" not in k}
    save_file(half, tmp_path / "half.safetensors")
    with pytest.raises(ValueError, match="half.safetensors: layer blocks.0.\\S+ has only one of its two LoRA matrices"):
        read_lora_file(tmp_path / "half.safetensors")
    with pytest.raises(ValueError, match="mixes LoRA formats in one file \\(original Wan names: .*; musubi names: "):
        read_lora_file(lora_files["mixed"])


def test_comfyui_export_uses_original_names_with_alpha_equal_to_rank(tmp_path, lora_files):
    exported = export_comfyui(lora_files["vace_diffusers"], tmp_path / "vace.safetensors")
    with safe_open(str(exported), framework="pt") as handle:
        keys = set(handle.keys())
        alpha = handle.get_tensor("diffusion_model.vace_blocks.0.before_proj.alpha")
        assert handle.metadata()["source_format"] == lora_formats.DIFFUSERS
    assert "diffusion_model.vace_blocks.1.after_proj.lora_up.weight" in keys
    assert "diffusion_model.vace_blocks.0.self_attn.q.lora_down.weight" in keys
    assert float(alpha) == 4.0
    assert read_lora_file(exported).format == lora_formats.COMFYUI


def lora_files_state(path):
    from safetensors.torch import load_file

    return load_file(str(path))


def test_animates_face_adapter_layers_are_lora_layers(tmp_path):
    state = {f"transformer.face_adapter.0.{name}.lora_{part}.weight": torch.zeros(4, 4)
             for name in ("to_q", "to_k", "to_v", "to_out") for part in "AB"}
    save_file(state, tmp_path / "face.safetensors")
    lora = read_lora_file(tmp_path / "face.safetensors")
    assert sorted(lora.layers) == [f"face_adapter.0.{name}" for name in ("to_k", "to_out", "to_q", "to_v")]
    assert "face adapter" in lora.summary()
