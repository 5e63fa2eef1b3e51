"""scripts/device_import.py: what a GPU session brings back becomes a toy run folder the eval and --ship read."""

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from device_import import import_leg, main  # noqa: E402

TOY = Path(__file__).resolve().parent.parent / "assets" / "toy"


def device_files(folder: Path, new_leg: bool = True) -> Path:
    """What scripts/device_session.sh leaves in $OUT after a finished leg."""
    folder.mkdir(parents=True)
    record = json.loads((TOY / "toy_run.json").read_text())
    if new_leg:
        record["legs"].append({"steps": 3000, "clips": 6000, "learning_rate": 3e-4, "warmup_steps": 50,
                               "batch_size": 32, "foreground_weight": 10.0, "scene_prompt_share": 0.8,
                               "device": "NVIDIA H200", "seconds": 120})
    (folder / "toy_run.json").write_text(json.dumps(record))
    shutil.copy(TOY / "transformer" / "diffusion_pytorch_model.safetensors", folder / "transformer.safetensors")
    (folder / "leg_loss.csv").write_text("step,loss,lr,seconds,sigma,sample_loss,bucket\n1,0.5,1e-4,0.1,0.5,0.5,0\n")
    return folder


def test_a_finished_gpu_leg_becomes_a_run_folder_with_its_record_and_loss_log(tmp_path):
    final = import_leg(device_files(tmp_path / "out"), tmp_path / "run")
    record = json.loads((tmp_path / "run" / "toy_run.json").read_text())
    assert record["legs"][-1]["device"] == "NVIDIA H200"
    assert json.loads((final / "toy_run.json").read_text()) == record
    assert (tmp_path / "run" / f"leg-{len(record['legs'])}" / "loss.csv").is_file()
    assert (final / "transformer" / "diffusion_pytorch_model.safetensors").is_file()
    assert (final / "vae" / "config.json").is_file() and (final / "model_index.json").is_file()


def test_a_leg_that_did_not_finish_is_refused_in_one_line(tmp_path, capsys):
    with pytest.raises(ValueError, match="lists no new leg"):
        import_leg(device_files(tmp_path / "out", new_leg=False), tmp_path / "run")
    assert main([str(tmp_path / "missing"), str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err.startswith("error: ") and not (tmp_path / "run" / "pipeline").exists()
