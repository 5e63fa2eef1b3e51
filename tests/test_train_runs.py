"""Training runs outside the UI: datasets, checkpoints, the training process and what its exit means."""

import sys
import subprocess

import pytest

from engine.train.config import TrainConfig
from experiments.flags import EXIT_CANCELLED
from services.train_runs import (TrainingRun, add_dataset, checkpoint_names, log_tail, make_sample_dataset,
                                    resolve_checkpoint, resolve_dataset, runs_dir)


def test_dataset_names_cannot_leave_the_datasets_folder(tmp_path):
    clip = tmp_path / "a clip.mp4"
    clip.write_bytes(b"x")
    folder = add_dataset("../escape", [str(clip)])
    assert folder.parent.name == "datasets" and folder.name == "escape" and (folder / "a_clip.mp4").is_file()
    assert resolve_dataset("escape") == folder
    with pytest.raises(ValueError, match="no dataset"):
        resolve_dataset("nothing-here")
    with pytest.raises(ValueError, match="choose the clips"):
        add_dataset("empty", [])


@pytest.mark.parametrize("nothing", [None, ""])
def test_training_with_no_dataset_chosen_says_to_choose_one(nothing):
    with pytest.raises(ValueError, match="choose a dataset first"):
        resolve_dataset(nothing)


def test_the_sample_dataset_has_a_clip_and_its_prompt():
    folder = make_sample_dataset()
    assert (folder / "person.mp4").is_file() and "person.mp4" in (folder / "metadata.csv").read_text()


def test_checkpoints_are_found_newest_first_and_others_are_refused():
    for run, step in (("older", 1), ("newer", 2)):
        folder = runs_dir() / run / f"checkpoint-{step:06d}"
        folder.mkdir(parents=True)
        (folder / "training_state.pt").write_bytes(b"")
    assert checkpoint_names()[:2] == ["newer/checkpoint-000002", "older/checkpoint-000001"]
    assert resolve_checkpoint("older/checkpoint-000001") == runs_dir() / "older" / "checkpoint-000001"
    assert resolve_checkpoint("") is None
    with pytest.raises(ValueError, match="no checkpoint"):
        resolve_checkpoint("../../etc")


def _finished(code: int, log: str = "") -> TrainingRun:
    run = TrainingRun(runs_dir() / f"run-{code}", TrainConfig(max_steps=3))
    run.run_dir.mkdir(parents=True, exist_ok=True)
    run.log_path.write_text(log)
    run.process = subprocess.Popen([sys.executable, "-c", f"import sys; sys.exit({code})"])
    run.process.wait()
    return run


def test_a_stopped_run_reads_as_stopped_and_a_failed_one_gives_its_error_line():
    stopped = _finished(EXIT_CANCELLED).status()
    assert stopped.stopped and not stopped.failed and stopped.message.startswith("Stopped")
    failed = _finished(2, "loading...\nerror: no clips in my-data\n").status()
    assert failed.failed and failed.message == "no clips in my-data"
    done = _finished(0).status()
    assert not done.failed and done.message.startswith("Done")


def test_the_log_tail_is_the_newest_lines_without_pose_library_chatter(tmp_path):
    path = tmp_path / "train.log"
    path.write_text("\n".join([f"step {i}" for i in range(20)] +
                              ["INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
                               "W0000 00:00:1763 inference_feedback_manager.cc:114] Feedback manager requires"]))
    tail = log_tail(path, lines=3)
    assert tail.splitlines() == ["step 17", "step 18", "step 19"]


def test_the_time_left_is_measured_from_the_first_step_not_from_launch():
    run = TrainingRun(runs_dir() / "eta", TrainConfig(max_steps=10))
    rows = [{"step": "1", "loss": "0.5", "lr": "1e-4"}]
    assert "timing the first steps" in run.progress_text(1, rows)
    run.first_step_at -= 2.0  # two seconds for one step
    text = run.progress_text(2, rows)
    assert "about 16 s left" in text or "about 15 s left" in text


def test_the_latest_run_is_the_one_whose_lora_was_written_last_and_its_record_gives_its_prompt(tmp_path):
    import os

    from services.train_runs import LORA_FILE, latest_run, run_record

    for when, name in enumerate(("finished-earlier", "checkpointed-later")):
        folder = runs_dir() / name / ("checkpoint-000010" if name == "checkpointed-later" else "")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / LORA_FILE).write_bytes(b"")
        os.utime(folder / LORA_FILE, (2_000_000_000 + when, 2_000_000_000 + when))  # later than any other test's
    latest = latest_run()
    assert latest == runs_dir() / "checkpointed-later"
    assert run_record(latest) == {}  # a run from before run.json
    data = tmp_path / "data"
    data.mkdir()
    (data / "clip.mp4").write_bytes(b"x")
    (data / "metadata.csv").write_text("video,prompt\nclip.mp4,a puppet waves on a red floor\n")
    record = TrainingRun(latest, TrainConfig(max_steps=3)).describe(data, "waves")
    assert run_record(latest) == record == {"dataset": "waves", "prompt": "a puppet waves on a red floor"}
