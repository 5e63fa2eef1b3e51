import pytest

from services.history import diff_cells, list_runs, load_manifest, rerun_cell, resolve_run, run_summary, run_title
from services.runner import SweepRunner
from services.sweep_spec import SweepSpec


@pytest.fixture
def finished_run(tiny_engine, tmp_path, lora_files):
    spec = SweepSpec.from_dict({"name": "hist", "base": {"num_inference_steps": 2, "height": 64, "width": 112,
                                                         "num_frames": 9},
                                "x": {"field": "lora", "values": ["none", "$lora"]}})
    # The LoRA "for another model" makes the second cell fail: something worth re-running.
    runner = SweepRunner(tiny_engine, spec, tmp_path / "runs" / "run-1", lora=str(lora_files["other_model"]))
    runner.finish(runner.run())
    return tmp_path / "runs" / "run-1"


def test_runs_are_listed_and_names_stay_inside_the_root(finished_run):
    root = finished_run.parent
    assert list_runs(root) == [finished_run]
    assert resolve_run(root, "run-1") == finished_run
    with pytest.raises(ValueError, match="no run named"):
        resolve_run(root, "../../etc")
    summary = run_summary(load_manifest(finished_run))
    assert summary.startswith("**hist** on tiny · X: lora · 2 cells (1 done, 1 failed)")
    import re

    assert re.fullmatch(r"lora, 2 cells, incomplete, \d\d:\d\d:\d\d", run_title(finished_run))  # to the second


def test_diff_shows_what_differs_between_two_cells_by_the_names_the_page_uses(finished_run):
    rows = dict((name, (a, b)) for name, a, b in diff_cells(load_manifest(finished_run), "x00", "x01"))
    assert rows["LoRA"][0] is None and rows["LoRA"][1].endswith("other_model.safetensors")
    assert rows["status"] == ("done", "failed")
    assert "Seed" not in rows and "seed" not in rows
    assert "consistency" in rows and "temporal_consistency" not in rows  # the table's and the plot menu's name
    with pytest.raises(ValueError, match="no cell 'x09'"):
        diff_cells(load_manifest(finished_run), "x00", "x09")


def test_rerun_one_cell_refreshes_the_run(tiny_engine, finished_run):
    video = finished_run / "cells" / "x00" / "video.mp4"
    stamp = video.stat().st_mtime_ns
    record = rerun_cell(tiny_engine, finished_run, "x00")
    assert record["status"] == "done" and video.stat().st_mtime_ns != stamp
    record = rerun_cell(tiny_engine, finished_run, "x01")
    assert record["status"] == "failed" and "none of its keys names a layer of Wan" in record["error"]
    assert load_manifest(finished_run)["lora_choice"].endswith("other_model.safetensors")
    with pytest.raises(ValueError, match="no cell"):
        rerun_cell(tiny_engine, finished_run, "x05")


def test_a_preview_cell_renders_in_full_at_the_models_settings(tiny_engine, tmp_path):
    from engine import media
    from services.history import render_full

    spec = SweepSpec.from_dict({"name": "t", "x": {"field": "tier", "values": "preview"},
                                "tiers": {"preview": {"height": 64, "width": 112, "num_frames": 9,
                                                      "num_inference_steps": 2}}})
    runner = SweepRunner(tiny_engine, spec, tmp_path / "run")
    runner.finish(runner.run())
    video = render_full(tiny_engine, tmp_path / "run", runner.cells[0].id)
    full = tiny_engine.default_request(control_video=runner.cells[0].request.control_video)
    clip = media.read_video(video)
    assert video.parent == tmp_path / "run" / "full" / runner.cells[0].id
    assert clip.frames.shape[:3] == (full.num_frames, full.height, full.width)
    with pytest.raises(ValueError, match="no cell"):
        render_full(tiny_engine, tmp_path / "run", "x99")


def test_generations_and_training_runs_are_listed_newest_first_with_what_they_were(tiny_engine, tiny_request,
                                                                                    tmp_path):
    import os

    from services.history import (generation_summary, generation_title, list_generations, list_training_runs,
                                  training_summary, training_title)

    for name, seed in (("older", 1), ("newer", 2)):
        tiny_engine.generate(tiny_request.replace(seed=seed), out_dir=tmp_path / "generate" / name)
    os.utime(tmp_path / "generate" / "older", (1_700_000_000, 1_700_000_000))
    assert [p.name for p in list_generations(tmp_path / "generate")] == ["newer", "older"]
    title = generation_title(tmp_path / "generate" / "newer")
    assert title.startswith('generation: "a man dancing in a studio", seed 2, ')
    assert "| Seed | 2 |" in generation_summary(tmp_path / "generate" / "newer")
    run = tmp_path / "loras" / "20261206-blog"
    (run / "checkpoint-000010").mkdir(parents=True)
    (run / "checkpoint-000010" / "pytorch_lora_weights.safetensors").write_bytes(b"")
    (run / "loss.csv").write_text("step,loss\n1,0.5\n10,0.3\n")
    (run / "run.json").write_text('{"dataset": "blog", "prompt": "a person dances"}')
    assert list_training_runs(tmp_path / "loras") == [run]
    assert training_title(run).startswith("training: 20261206-blog, 10 steps, ")
    assert "training prompt: *a person dances*" in training_summary(run) and "checkpoint-000010" in training_summary(run)
