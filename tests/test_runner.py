import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from engine import media
from services import grid
from services.runner import SweepRunner
from services.sweep_spec import SweepSpec
from tests.conftest import REPO

SMALL = {"num_inference_steps": 2, "height": 64, "width": 112, "num_frames": 9}


def small_spec(**axes):
    return SweepSpec.from_dict({"name": "t", "base": dict(SMALL), **axes})


def test_a_sweep_writes_its_run_folder(tiny_engine, tmp_path):
    spec = small_spec(x={"field": "seed", "values": "1,2"}, y={"field": "guidance_scale", "values": "3,5"})
    runner = SweepRunner(tiny_engine, spec, tmp_path)
    assert runner.plan().summary().startswith("4 cells (0 already finished), 8 denoising steps")
    outcome = runner.run()
    outputs = runner.finish(outcome, make_zip=True)
    with open(tmp_path / "cells.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and {"seed", "guidance_scale", "motion", "temporal_consistency"} <= set(rows[0])
    assert {(r["seed"], r["guidance_scale"]) for r in rows} == {("1", "3.0"), ("1", "5.0"), ("2", "3.0"), ("2", "5.0")}
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["cells"]) == 4
    assert manifest["cells"][0]["request"]["num_frames"] == 9 and manifest["packages"]["diffusers"]
    with Image.open(outputs["gif"]) as gif:
        assert gif.n_frames == 9
    assert len(media.read_video(outputs["mp4"]).frames) == 9
    assert os.path.getsize(outputs["zip"]) > 0 and outputs["gif_bytes"] == os.path.getsize(outputs["gif"])


def test_on_zerogpu_a_model_axis_naming_a_model_over_the_slice_is_refused_when_built(tiny_engine, tmp_path,
                                                                                    monkeypatch):
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setenv("VACE_LAB_ZEROGPU_GB", "40")
    spec = small_spec(x={"field": "model", "values": "tiny,wan-vace-14b"})
    with pytest.raises(RuntimeError, match="wan-vace-14b does not fit this Space's ZeroGPU slice"):
        SweepRunner(tiny_engine, spec, tmp_path)
    assert not (tmp_path / "cells").exists()


def test_a_long_video_cell_counts_its_steps_in_every_window(tiny_engine, tmp_path):
    # 17 frames in 9-frame windows with overlap 5: 3 windows of 2 steps. Counted once per cell, the progress
    # passed 100% and the ETA went negative in the toy-long-video sweep.
    spec = small_spec(x={"field": "seed", "values": "1,2"}).with_changes(base={"num_frames": 17, "window_frames": 9})
    runner = SweepRunner(tiny_engine, spec, tmp_path)
    assert runner.plan().summary().startswith("2 cells (0 already finished), 12 denoising steps")
    fractions = []
    runner.run(on_step=lambda text, fraction: fractions.append(fraction))
    assert max(fractions) == pytest.approx(1.0) and fractions == sorted(fractions)


def test_a_failing_cell_is_a_marked_tile_and_the_sweep_goes_on(tiny_engine, tmp_path, lora_files):
    spec = small_spec(x={"field": "lora", "values": ["none", str(lora_files["other_model"])]})
    runner = SweepRunner(tiny_engine, spec, tmp_path)
    outcome = runner.run()
    assert [r["status"] for r in outcome.records.values()] == ["done", "failed"]
    assert "none of its keys names a layer of Wan" in outcome.records[outcome.failed[0]]["error"]
    outputs = runner.finish(outcome)
    sheet = np.asarray(Image.open(outputs["png"]).convert("RGB"))
    assert (sheet == grid.FAILED_FILL).all(axis=-1).any()
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "incomplete"


def test_cancel_keeps_finished_cells_and_a_rerun_reuses_them(tiny_engine, tmp_path):
    spec = small_spec(x={"field": "seed", "values": "1-3"})
    finished = []
    runner = SweepRunner(tiny_engine, spec, tmp_path)
    outcome = runner.run(on_cell=lambda cell, record, n, total: finished.append(cell.id),
                         should_stop=lambda: len(finished) >= 1)
    assert outcome.cancelled and len(finished) == 1
    first_video = tmp_path / "cells" / finished[0] / "video.mp4"
    stamp = first_video.stat().st_mtime_ns
    rerun = SweepRunner(tiny_engine, spec, tmp_path)
    assert rerun.plan().reused == 1
    statuses = {cid: r["status"] for cid, r in rerun.run().records.items()}
    assert statuses[finished[0]] == "reused" and list(statuses.values()).count("done") == 2
    assert first_video.stat().st_mtime_ns == stamp
    # Changing a cell's request means it is computed again, not reused.
    changed = SweepRunner(tiny_engine, spec.with_changes(base={"guidance_scale": 2.0}), tmp_path)
    assert changed.plan().reused == 0


def sweep_command(out, *extra):
    return [sys.executable, "-m", "experiments", "sweep", "--out", str(out), "--model", "tiny", "--x", "seed=1-4",
            *[f"--set={k}={v}" for k, v in SMALL.items() if k != "num_inference_steps"], *extra]


def test_a_killed_sweep_resumes_without_recomputing(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(sweep_command(tmp_path, "--set", "num_inference_steps=40"), cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and not list(tmp_path.glob("cells/*/cell.json")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = {p.parent.name: p.parent.joinpath("video.mp4").stat().st_mtime_ns
                   for p in tmp_path.glob("cells/*/cell.json")}
    assert 1 <= len(done_before) < 4
    rerun = subprocess.run(sweep_command(tmp_path, "--set", "num_inference_steps=40"), cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert rerun.stderr.count(" reused") == len(done_before)
    for cell_id, stamp in done_before.items():
        assert (tmp_path / "cells" / cell_id / "video.mp4").stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "manifest.json").read_text())["status"] == "complete"


def test_two_processes_split_the_cells_and_gather_one_run(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               *sweep_command(tmp_path, "--set", "num_inference_steps=2")[1:]]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("[1/2]") == 2 and result.stderr.count("[2/2]") == 2  # each process ran two cells
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["cells"]) == 4
    assert (tmp_path / "grid.gif").is_file()


def test_an_unwritable_run_folder_is_a_clear_error(tiny_engine, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    runner = SweepRunner(tiny_engine, small_spec(x={"field": "seed", "values": "1"}), blocker / "run")
    with pytest.raises(ValueError, match="cannot write the run folder"):
        runner.run()


def test_strength_zero_is_made_once_for_every_lora_and_copied(tiny_engine, tmp_path, lora_files):
    """A checkpoint x strength sweep: at strength 0 every checkpoint is the base model, so that cell runs once."""
    loras = [str(lora_files["diffusers"]), str(lora_files["diffusers_b"])]
    spec = small_spec(x={"field": "lora_scale", "values": "0, 1"}, y={"field": "lora", "values": loras})
    runner = SweepRunner(tiny_engine, spec, tmp_path)
    assert runner.plan().summary().startswith("4 cells (0 already finished), 6 denoising steps")  # 3 made
    outcome = runner.run()
    copied = [record for record in outcome.records.values() if record.get("same_as")]
    assert len(copied) == 1 and copied[0]["timings"] == {"total": 0.0}
    source = tmp_path / "cells" / copied[0]["same_as"] / "video.mp4"
    twin = next(cell.id for cell in runner.cells if outcome.records[cell.id] is copied[0])
    assert (tmp_path / "cells" / twin / "video.mp4").read_bytes() == source.read_bytes()
    at_one = [outcome.records[c.id] for c in runner.cells if c.request.lora_scale == 1]
    assert not any(record.get("same_as") for record in at_one)  # two LoRAs at strength 1 differ
