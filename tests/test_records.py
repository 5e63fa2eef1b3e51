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


def test_a_copied_pose_video_finds_the_sidecar_of_the_same_video_in_the_labs_folders(tmp_path):
    from engine.paths import workspace
    from engine.records import find_sidecar

    original = workspace() / "outputs" / "pose" / "run-1" / "pose.mp4"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"same video bytes")
    (original.parent / "keypoints.json").write_text("{}")
    copy = tmp_path / "gradio-cache" / "abc" / "pose.mp4"  # what an upload or a tab-to-tab send gives
    copy.parent.mkdir(parents=True)
    copy.write_bytes(b"same video bytes")
    assert find_sidecar(copy, "keypoints.json") == original.parent / "keypoints.json"
    copy.write_bytes(b"other video bytes!")
    assert find_sidecar(copy, "keypoints.json") is None
