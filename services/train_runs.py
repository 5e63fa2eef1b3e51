"""Training runs as the Train tab manages them: datasets, checkpoints, and a training process to launch,
watch and stop.

A run is `python -m experiments train` in its own process, so the app keeps serving while it trains.
Runs are written to <workspace>/loras/<run>/, where the Generate and Sweep tabs find their LoRAs and
checkpoints. Everything here is plain Python (no Gradio) and has its own tests.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from engine.paths import ASSETS_DIR, REPO_ROOT, outputs_dir, workspace, workspace_dir
from engine.lora_formats import export_comfyui
from engine.presets import safe_name
from engine.train.config import TrainConfig
from engine.train.trainer import LORA_FILE, list_checkpoints, read_loss_csv
from services.exit_codes import EXIT_CANCELLED

SAMPLE_DATASET = "sample"
TOY_SAMPLE_DATASET = "toy-narrow"
TOY_SAMPLE_CLIPS = 24
SAMPLE_PROMPT = "An elderly woman in a dark naval uniform and white cap, in front of a flag, looking at the camera."
FRESH = ""  # "start a new run" instead of resuming a checkpoint
LOG_FILE = "train.log"
RUN_RECORD = "run.json"  # the dataset and training prompt of a run the Train tab started


# ---- datasets ----------------------------------------------------------------------------------------

def datasets_dir() -> Path:
    return workspace_dir("datasets")


def runs_dir() -> Path:
    return workspace_dir("loras")


def dataset_names() -> list[str]:
    folder = datasets_dir()
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def resolve_dataset(name: str) -> Path:
    """A dataset folder by name; names cannot leave the datasets folder."""
    if not name:
        raise ValueError("choose a dataset first: one from the list, one added under 'Add a dataset', or the sample")
    folder = datasets_dir() / safe_name(name)
    if not safe_name(name) or not folder.is_dir():
        raise ValueError(f"no dataset {name!r} in {datasets_dir()}; add one under 'Add a dataset' (or use the sample)")
    return folder


def make_sample_dataset() -> Path:
    """assets/person.mp4 with a prompt: enough to see the whole loop (its pose video is extracted)."""
    folder = datasets_dir() / SAMPLE_DATASET
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ASSETS_DIR / "person.mp4", folder / "person.mp4")
    (folder / "metadata.csv").write_text(f"video,prompt\nperson.mp4,\"{SAMPLE_PROMPT}\"\n")
    return folder


def make_toy_sample_dataset(clips: int = TOY_SAMPLE_CLIPS) -> Path:
    """The blog in a box's narrow dataset: toy clips in one costume on one background, captioned without the
    background (engine/toy/dataset.py). A LoRA trained on it pulls the scene a prompt names toward that studio,
    as the blog's AIST++ LoRA did."""
    from engine.toy.dataset import ensure_dataset

    folder = datasets_dir() / TOY_SAMPLE_DATASET
    ensure_dataset(folder, clips, narrow=True)
    return folder


def training_prompt(data_dir: Path) -> str:
    """The first clip's prompt: what a checkpoint sweep should ask for to show what the run learned."""
    from engine.train.data import find_samples

    prompts = [sample.prompt for sample in find_samples(data_dir) if sample.prompt]
    return prompts[0] if prompts else ""


def add_dataset(name: str, files: list[str] | None) -> Path:
    """Copy uploaded clips (and an optional metadata.csv or prompt .txt files) into a new dataset folder."""
    if not files:
        raise ValueError("choose the clips to upload first")
    if not safe_name(name):
        raise ValueError("give the dataset a name (letters, digits, - and _)")
    folder = datasets_dir() / safe_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        source = Path(path)
        stem = safe_name(source.stem, "clip", replacement="_")
        suffix = safe_name(source.suffix.lstrip("."), "", limit=8)
        shutil.copy(source, folder / (f"{stem}.{suffix}" if suffix else stem))
    return folder


# ---- checkpoints -------------------------------------------------------------------------------------

def checkpoint_names() -> list[str]:
    """Checkpoints of earlier runs, newest first, relative to the runs folder (run/checkpoint-000010)."""
    folder = runs_dir()
    found = sorted(folder.glob("*/checkpoint-*/training_state.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(path.parent.relative_to(folder)) for path in found]


def resolve_checkpoint(name: str) -> Path | None:
    """A checkpoint folder of a run in the runs folder; names from the page cannot point elsewhere."""
    if not name:
        return None
    if name in checkpoint_names():
        return runs_dir() / name
    raise ValueError(f"no checkpoint {name!r} among the runs in {runs_dir()}")


def latest_run() -> Path | None:
    """The run whose LoRA or checkpoint was written last: what a page opened after the training finished means
    by "this run"."""
    found = [*runs_dir().glob(f"*/{LORA_FILE}"), *runs_dir().glob(f"*/checkpoint-*/{LORA_FILE}")]
    if not found:
        return None
    newest = max(found, key=lambda p: p.stat().st_mtime)
    return newest.parent if newest.parent.parent == runs_dir() else newest.parent.parent


def run_record(run_dir: Path) -> dict:
    """A run's dataset and training prompt, as describe() wrote them ({} for a run from before)."""
    path = Path(run_dir) / RUN_RECORD
    return json.loads(path.read_text()) if path.is_file() else {}


def checkpoint_values(run_dir: Path) -> str:
    """The run's checkpoints and final LoRA as a sweep's lora-axis values, relative to the runs folder."""
    files = list_checkpoints(run_dir) + ([run_dir / LORA_FILE] if (run_dir / LORA_FILE).is_file() else [])
    return ", ".join(str(path.relative_to(runs_dir())) for path in files)


# ---- a training process ------------------------------------------------------------------------------

@dataclass
class TrainingStatus:
    """What the tab shows while a run trains and when it ends."""

    running: bool
    step: int
    max_steps: int
    rows: list = field(default_factory=list)
    message: str = ""
    failed: bool = False
    stopped: bool = False


class TrainingRun:
    """One training process: launch() it, poll status(), stop() it (a checkpoint is saved first)."""

    def __init__(self, run_dir: Path, config: TrainConfig):
        self.run_dir = Path(run_dir)
        self.config = config
        self.process: subprocess.Popen | None = None
        self.first_step_at: float | None = None
        self.first_step: int | None = None

    @classmethod
    def new(cls, config: TrainConfig, preset: str, checkpoint: Path | None = None) -> "TrainingRun":
        # Resuming continues the checkpoint's own run: its loss.csv and later checkpoints go on there.
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(preset, 'run')}"
        run_dir = checkpoint.parent if checkpoint else runs_dir() / name
        run_dir.mkdir(parents=True, exist_ok=True)
        return cls(run_dir, config)

    @property
    def stop_file(self) -> Path:
        return self.run_dir / "STOP"

    @property
    def log_path(self) -> Path:
        return self.run_dir / LOG_FILE

    def describe(self, data_dir: Path, dataset: str):
        """Write what a later page needs to sweep this run (run.json): its dataset and training prompt."""
        record = {"dataset": dataset, "prompt": training_prompt(data_dir)}
        (self.run_dir / RUN_RECORD).write_text(json.dumps(record, indent=2))
        return record

    def command(self, data_dir: Path, model: str, checkpoint: Path | None) -> list[str]:
        config_path = self.run_dir / "requested.yaml"
        config_path.write_text(yaml.safe_dump(asdict(self.config), sort_keys=False))
        command = [sys.executable, "-m", "experiments", "train", str(config_path), "--data", str(data_dir),
                   "--out", str(self.run_dir), "--model", model, "--stop-file", str(self.stop_file)]
        return command + (["--resume", str(checkpoint)] if checkpoint else [])

    def launch(self, data_dir: Path, model: str, checkpoint: Path | None = None) -> int:
        """Start training; returns the process id."""
        command = self.command(data_dir, model, checkpoint)
        self.stop_file.unlink(missing_ok=True)  # a Stop from an earlier session of this run
        with self.log_path.open("w") as log_file:
            self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                            env={**os.environ, "VACE_LAB_HOME": str(workspace())})
        return self.process.pid

    def stop(self):
        """Ask the process to stop after its current step; it saves a checkpoint and exits."""
        self.stop_file.touch()

    def status(self) -> TrainingStatus:
        rows = read_loss_csv(self.run_dir)
        step = int(rows[-1]["step"]) if rows else 0
        running = self.process is not None and self.process.poll() is None
        status = TrainingStatus(running=running, step=step, max_steps=self.config.max_steps, rows=rows)
        if running:
            status.message = self.progress_text(step, rows)
        elif self.process is not None:
            self.finish(status)
        return status

    def progress_text(self, step: int, rows: list) -> str:
        if not rows:
            return "Encoding the dataset (pose videos are extracted where missing)..."
        # The rate is measured from the first finished step, so encoding time does not skew the estimate.
        now = time.time()
        if self.first_step_at is None:
            self.first_step_at, self.first_step = now, step
        done = step - self.first_step
        eta = ((now - self.first_step_at) / done * (self.config.max_steps - step)) if done > 0 else None
        left = f"about {eta:.0f} s left" if eta is not None else "timing the first steps"
        return (f"Step {step}/{self.config.max_steps}, loss {float(rows[-1]['loss']):.4f}, "
                f"lr {float(rows[-1]['lr']):.2e}; {left}")

    def finish(self, status: TrainingStatus):
        code = self.process.returncode
        if code == EXIT_CANCELLED:
            status.stopped = True
            status.message = f"Stopped at step {status.step}: a checkpoint was saved."
        elif code != 0:
            status.failed = True
            errors = [line for line in log_tail(self.log_path, 40).splitlines() if line.startswith("error:")]
            status.message = (errors[-1].removeprefix("error: ") if errors else
                              f"training failed (exit {code}); see {LOG_FILE}")
        else:
            status.message = (f"Done: {self.run_dir.name}. Its LoRA and checkpoints are in the Generate and Sweep "
                              "tabs' LoRA lists.")

    def latest_validation(self) -> str | None:
        videos = sorted(self.run_dir.glob("validation/step-*/video.mp4"))
        return str(videos[-1]) if videos else None

    def downloads(self, copy) -> list[str]:
        """The run's files under names that say which run they are from; `copy(path, name, folder)` makes them."""
        named = {LORA_FILE: f"lora-{self.run_dir.name}.safetensors", "loss.csv": f"loss-{self.run_dir.name}.csv",
                 "config.yaml": f"config-{self.run_dir.name}.yaml", LOG_FILE: f"train-{self.run_dir.name}.log"}
        # Outside the runs folder, or the renamed copy would show up as one more LoRA in the lists.
        folder = outputs_dir("train-downloads") / self.run_dir.name
        files = [copy(self.run_dir / name, label, folder) for name, label in named.items()
                 if (self.run_dir / name).is_file()]
        if (self.run_dir / LORA_FILE).is_file():  # for students who go on in ComfyUI or Wan2GP
            comfyui = folder / f"lora-{self.run_dir.name}-comfyui.safetensors"
            if not comfyui.exists():
                export_comfyui(self.run_dir / LORA_FILE, comfyui)
            files.insert(1, str(comfyui))
        return files


# Library chatter that says nothing about training (MediaPipe / TFLite / absl start-up lines).
NOISE_MARKERS = ("INFO: Created TensorFlow Lite", "WARNING: All log messages before absl::InitializeLog",
                 "inference_feedback_manager", "landmark_projection_calculator", "gl_context",
                 "W0000 00:00", "I0000 00:00")


def log_tail(path: Path, lines: int = 12) -> str:
    """The newest lines of a log, without the pose backend's library chatter."""
    if not path.is_file():
        return ""
    kept = [line for line in path.read_text(errors="replace").splitlines()
            if not any(marker in line for marker in NOISE_MARKERS)]
    return "\n".join(kept[-lines:])
