import pytest
import torch
from safetensors.torch import save_file

from engine import lora


def test_resolve_by_path_and_by_name_in_loras_folder(tmp_path, monkeypatch, lora_files):
    monkeypatch.setattr(lora, "lora_dirs", lambda: [tmp_path])
    (tmp_path / "mine.safetensors").write_bytes(lora_files["diffsynth"].read_bytes())
    assert lora.resolve_lora(str(lora_files["diffsynth"])) == lora_files["diffsynth"]
    assert lora.resolve_lora("mine.safetensors") == tmp_path / "mine.safetensors"
    assert lora.resolve_lora("mine") == tmp_path / "mine.safetensors"
    assert lora.list_loras() == [tmp_path / "mine.safetensors"]
    with pytest.raises(ValueError, match="LoRA not found: yours"):
        lora.resolve_lora("yours")


def test_pickled_files_are_refused_without_being_opened(lora_files, monkeypatch):
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("a LoRA must never be unpickled"))
    with pytest.raises(ValueError, match="only .safetensors"):
        lora.resolve_lora(str(lora_files["pickled"]))


def test_files_of_other_tools_are_read_with_diffusers_names(lora_files):
    keys = list(lora.read_lora_state_dict(lora_files["diffsynth"]))
    assert keys and all(k.startswith("transformer.blocks.") for k in keys)
    assert set(keys) == set(lora.read_lora_state_dict(lora_files["diffusers"]))


def test_unreadable_and_empty_files(tmp_path):
    (tmp_path / "junk.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}")
    with pytest.raises(ValueError, match="junk.safetensors: not a readable safetensors file"):
        lora.read_lora_state_dict(tmp_path / "junk.safetensors")
    save_file({"weight": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="no LoRA weights"):
        lora.read_lora_state_dict(tmp_path / "plain.safetensors")
