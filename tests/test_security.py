"""What the lab never does: serve files it was not given or did not write, let names climb out of their
folders, load YAML unsafely, unpickle, or run a model repository's code."""

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from engine.paths import workspace
from tests.conftest import REPO

PROJECT_CODE = [p for folder in ("engine", "experiments", "ui") for p in (REPO / folder).rglob("*.py")] + [REPO / "app.py"]


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


@pytest.mark.parametrize("path", [REPO / "README.md", REPO / "engine" / "paths.py", Path("/etc/passwd")])
def test_the_browser_cannot_read_files_outside_the_workspace(app_url, path):
    assert fetch(f"{app_url}gradio_api/file={path}") in (403, 404)


def test_the_browser_can_read_what_the_lab_wrote_in_its_workspace(app_url):
    written = workspace() / "outputs" / "note.txt"
    written.parent.mkdir(parents=True, exist_ok=True)
    written.write_text("hello")
    assert fetch(f"{app_url}gradio_api/file={written}") == 200


def test_run_preset_dataset_and_prompt_set_names_cannot_escape(tmp_path):
    from services.history import resolve_run
    from services.sweep_spec import SweepSpec
    from engine.train.config import TrainConfig
    from engine.presets import safe_name

    (tmp_path / "runs").mkdir()
    with pytest.raises(ValueError, match="no run"):
        resolve_run(tmp_path / "runs", "../../etc")
    with pytest.raises(ValueError, match="unknown sweep preset"):
        SweepSpec.from_preset("../../../etc/passwd")
    with pytest.raises(ValueError, match="unknown training preset"):
        TrainConfig.from_preset("../../etc/passwd")
    assert "/" not in safe_name("../../etc/passwd") and ".." not in safe_name("../..x")


def code_lines():
    for path in PROJECT_CODE:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            code = line.split("#", 1)[0]
            yield f"{path.relative_to(REPO)}:{number}", code


def test_yaml_is_only_safe_loaded():
    unsafe = [where for where, code in code_lines() if re.search(r"yaml\.(load|unsafe_load|full_load)\(", code)]
    assert unsafe == []


def test_no_remote_code_and_no_unrestricted_unpickling():
    found = []
    for where, code in code_lines():
        if re.search(r"trust_remote_code\s*=\s*True", code) or "allow_pickle=True" in code:
            found.append(where)
        if "torch.load(" in code and "weights_only=True" not in code:
            found.append(where)
        if re.search(r"pickle\.loads?\(", code):
            found.append(where)
    assert found == []


def test_a_pickled_lora_is_refused_without_being_unpickled(lora_files):
    from engine.lora import read_lora_state_dict

    with pytest.raises(ValueError, match="safetensors"):
        read_lora_state_dict(lora_files["pickled"])
