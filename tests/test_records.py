import json

import torch
from safetensors.torch import save_file

from engine import records


def test_sha256_changes_with_content(tmp_path):
    path = tmp_path / "a.safetensors"
    save_file({"x.lora_A.weight": torch.zeros(2, 2)}, path)
    first = records.sha256_file(path)
    save_file({"x.lora_A.weight": torch.ones(2, 2)}, path)
    assert records.sha256_file(path) != first and len(first) == 64


def test_package_versions_name_the_stack():
    versions = records.package_versions()
    assert versions["diffusers"] == "0.42.1" and versions["torch"].startswith("2.13.0")
    assert versions["python"]


def test_write_json_leaves_no_temporary_file(tmp_path):
    path = records.write_json({"a": 1, "path": tmp_path}, tmp_path / "manifest.json")
    assert json.loads(path.read_text()) == {"a": 1, "path": str(tmp_path)}
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]
