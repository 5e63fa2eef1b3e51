"""Train tab: a dataset and a preset -> a LoRA trained in a background process, watched as it learns,
then swept by checkpoint and strength in one click.

Training runs as `python -m experiments train` in its own process, so the app keeps serving; the tab
reads its loss.csv, log and validation videos while it runs. Runs are written to <workspace>/loras/,
where the Generate and Sweep tabs find their LoRAs and checkpoints.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import gradio as gr
import yaml

from engine.paths import ASSETS_DIR, REPO_ROOT, workspace
from engine.train.timesteps import SAMPLERS
from engine.train.config import TRAIN_PRESETS_DIR, TrainConfig
from ui.common import named_copy, outputs_dir, safe_name, user_errors
from ui.sweep_tab import CUSTOM, NONE

logger = logging.getLogger(__name__)

SAMPLE_DATASET = "sample"
SAMPLE_PROMPT = "An elderly woman in a dark naval uniform and white cap, in front of a flag, looking at the camera."
STRENGTHS = "0, 0.5, 1.0"


def datasets_dir() -> Path:
    return workspace() / "datasets"


def runs_dir() -> Path:
    return workspace() / "loras"


def dataset_choices() -> list[str]:
    folder = datasets_dir()
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def preset_names() -> list[str]:
    return sorted(p.stem for p in TRAIN_PRESETS_DIR.glob("*.yaml"))


def resolve_dataset(name: str) -> Path:
    folder = datasets_dir() / safe_name(name)
    if not safe_name(name) or not folder.is_dir():
        raise ValueError(f"no dataset {name!r}; add one with the upload above (or use the sample)")
    return folder


def make_sample_dataset() -> Path:
    """assets/person.mp4 with a prompt: enough to see the whole loop (its pose video is extracted)."""
    folder = datasets_dir() / SAMPLE_DATASET
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ASSETS_DIR / "person.mp4", folder / "person.mp4")
    (folder / "metadata.csv").write_text(f"video,prompt\nperson.mp4,\"{SAMPLE_PROMPT}\"\n")
    return folder


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
        target = folder / (f"{stem}.{suffix}" if suffix else stem)
        shutil.copy(source, target)
    return folder


FRESH = ""  # the Resume dropdown's "start a new run"


def checkpoint_choices() -> list[tuple[str, str]]:
    """Checkpoints of earlier runs, newest first, as (run/checkpoint, name relative to the LoRA folder)."""
    folder = runs_dir()
    found = sorted(folder.glob("*/checkpoint-*/training_state.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    names = [str(path.parent.relative_to(folder)) for path in found]
    return [("start a new run", FRESH)] + [(name, name) for name in names]


def resolve_checkpoint(name: str) -> Path | None:
    """A checkpoint folder of a run in the LoRA folder; names from the page cannot point elsewhere."""
    if not name:
        return None
    for label, value in checkpoint_choices()[1:]:
        if value == name:
            return runs_dir() / value
    raise ValueError(f"no checkpoint {name!r} among the runs in {runs_dir()}")


def build_config(preset: str, max_steps, rank, learning_rate, sampler, gradient_accumulation, checkpoint_every,
                 validate_every, height, width, num_frames, gradient_checkpointing, more: str) -> TrainConfig:
    """Widgets -> a validated TrainConfig: the preset, then the fields shown, then the settings box."""
    config = TrainConfig.from_preset(preset)
    shown = dict(max_steps=int(max_steps), rank=int(rank), lora_alpha=float(rank), learning_rate=float(learning_rate),
                 sampler=sampler, gradient_accumulation=int(gradient_accumulation),
                 checkpoint_every=int(checkpoint_every), validate_every=int(validate_every), height=int(height),
                 width=int(width), num_frames=int(num_frames), gradient_checkpointing=bool(gradient_checkpointing))
    lines = [line.strip() for line in (more or "").splitlines() if line.strip()]
    return config.with_changes(**shown, **TrainConfig.parse_overrides(lines))


def estimate_text(engine, config: TrainConfig) -> str:
    from engine.train.estimate import estimate_step, lora_parameters, transformer_parameters

    model_config = engine.spec.transformer_config or dict(engine.load().transformer.config)
    trainable = lora_parameters(model_config, config.target_pattern, config.rank)
    estimate = estimate_step(model_config, config.height, config.width, config.num_frames, trainable,
                             config.gradient_checkpointing, parameters=transformer_parameters(model_config))
    samples = config.batch_size * config.gradient_accumulation
    return (f"**Before launch** ({engine.spec.name}, {config.width}x{config.height}x{config.num_frames}, "
            f"{samples} sample(s) per step): {estimate.summary()}.")


def progress_text(rows: list[dict], config: TrainConfig, started: float) -> str:
    if not rows:
        return "Encoding the dataset (pose videos are extracted where missing)..."
    step = int(rows[-1]["step"])
    per_step = (time.time() - started) / step
    eta = per_step * (config.max_steps - step)
    return (f"Step {step}/{config.max_steps}, loss {float(rows[-1]['loss']):.4f}, lr {float(rows[-1]['lr']):.2e}; "
            f"about {eta:.0f} s left")


def log_tail(path: Path, lines: int = 12) -> str:
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def latest_validation(run_dir: Path) -> str | None:
    videos = sorted(run_dir.glob("validation/step-*/video.mp4"))
    return str(videos[-1]) if videos else None


def run_outputs(run_dir: Path) -> list[str]:
    from engine.train.trainer import LORA_FILE

    named = {LORA_FILE: f"lora-{run_dir.name}.safetensors", "loss.csv": f"loss-{run_dir.name}.csv",
             "config.yaml": f"config-{run_dir.name}.yaml", "train.log": f"train-{run_dir.name}.log"}
    # Outside the LoRA folder, or the renamed copy would show up as one more LoRA in the lists.
    folder = outputs_dir("train-downloads") / run_dir.name
    return [named_copy(run_dir / name, label, folder) for name, label in named.items() if (run_dir / name).is_file()]


def checkpoint_values(run_dir: Path) -> str:
    """The run's checkpoints and final LoRA as a sweep's lora-axis values, relative to the LoRA folder."""
    from engine.train.trainer import LORA_FILE, list_checkpoints

    files = list_checkpoints(run_dir) + ([run_dir / LORA_FILE] if (run_dir / LORA_FILE).is_file() else [])
    return ", ".join(str(path.relative_to(runs_dir())) for path in files)


def build_train_tab(engine, links):
    from ui.plots import training_loss_figure
    from engine.train.trainer import read_loss_csv

    gr.Markdown(
        "Train a small LoRA with known-good recipes and watch it learn: loss by noise level, validation videos "
        "at a fixed seed, checkpoints you can sweep. Training runs in its own process; the lab keeps serving.")
    run_state = gr.State({})
    with gr.Row():
        with gr.Column():
            with gr.Row():
                dataset = gr.Dropdown(dataset_choices(), value=None, label="Dataset", allow_custom_value=True,
                                      info="A folder in the workspace's datasets/: metadata.csv or plain clips")
                sample_button = gr.Button("Use the sample clip")
            with gr.Accordion("Add a dataset", open=False):
                uploads = gr.File(label="Clips (+ optional metadata.csv, or a .txt prompt per clip)",
                                  file_count="multiple", type="filepath")
                dataset_name = gr.Textbox(label="Name", placeholder="my-dances", info="letters, digits, - and _")
                add_button = gr.Button("Add dataset")
            preset = gr.Dropdown(preset_names(), value="self-attention", label="Preset",
                                 info="main-blocks (the blog's run 1), self-attention (run 2), vace-branch "
                                      "(DiffSynth-Studio), custom-regex")
            with gr.Row():
                max_steps = gr.Number(20, label="Steps", precision=0, info="optimizer steps", elem_id="train-steps")
                rank = gr.Number(8, label="Rank", precision=0, info="LoRA rank (alpha = rank)")
                learning_rate = gr.Number(1e-4, label="Learning rate", info="AdamW, warmup then cosine")
            with gr.Row():
                sampler = gr.Dropdown(list(SAMPLERS), value="low_noise_warmup", label="Timestep sampler",
                                      info="low_noise_warmup: RealisDance-DiT's, uniform after warmup_tau steps")
                gradient_accumulation = gr.Number(1, label="Accumulate", precision=0,
                                                  info="micro-batches per step: large batches, few steps")
            with gr.Row():
                checkpoint_every = gr.Number(10, label="Checkpoint every", precision=0, info="steps",
                                             elem_id="train-checkpoint-every")
                validate_every = gr.Number(10, label="Validation video every", precision=0, info="steps; 0: never",
                                           elem_id="train-validate-every")
            with gr.Row():
                height = gr.Number(128, label="Height", precision=0, info="training size, multiple of 16",
                                   elem_id="train-height")
                width = gr.Number(224, label="Width", precision=0, info="multiple of 16", elem_id="train-width")
                num_frames = gr.Number(17, label="Frames", precision=0, info="4n+1 at 16 fps", elem_id="train-frames")
            gradient_checkpointing = gr.Checkbox(False, label="Gradient checkpointing",
                                                 info="far less activation memory for about a third more time")
            resume = gr.Dropdown(checkpoint_choices(), value=FRESH, label="Resume from", allow_custom_value=True,
                                 info="a checkpoint of an earlier run: training goes on there, optimizer state and all")
            more = gr.Textbox(label="More settings", lines=2, placeholder="reference_dropout=0.05\nseed=1",
                              info="One field=value per line (any TrainConfig field)")
            with gr.Row():
                estimate_button = gr.Button("Estimate")
                train_button = gr.Button("Train", variant="primary", elem_id="train-run")
                stop_button = gr.Button("Stop (saves a checkpoint)", variant="stop")
        with gr.Column():
            status = gr.Markdown(elem_id="train-status")
            loss_plot = gr.Plot(label="Loss")
            validation = gr.Video(label="Latest validation video (fixed seed)", height=200, autoplay=True, loop=True)
            log = gr.Textbox(label="Log", lines=8, max_lines=8, interactive=False)
            files = gr.File(label="LoRA, loss.csv, config.yaml, log", file_count="multiple")
            sweep_button = gr.Button("Sweep checkpoints x LoRA strength", elem_id="train-to-sweep")

    config_inputs = [preset, max_steps, rank, learning_rate, sampler, gradient_accumulation, checkpoint_every,
                     validate_every, height, width, num_frames, gradient_checkpointing, more]

    @user_errors
    def on_sample():
        make_sample_dataset()
        return gr.Dropdown(choices=dataset_choices(), value=SAMPLE_DATASET)

    @user_errors
    def on_add(name, uploaded):
        folder = add_dataset(name, uploaded)
        gr.Info(f"Added {folder.name}")
        return gr.Dropdown(choices=dataset_choices(), value=folder.name)

    @user_errors
    def on_estimate(*values):
        return estimate_text(engine, build_config(*values))

    @user_errors
    def on_train(dataset_value, *values, progress=gr.Progress()):
        *values, resume_value = values
        config = build_config(*values)
        data_dir = resolve_dataset(dataset_value)
        checkpoint = resolve_checkpoint(resume_value)
        # Resuming continues the checkpoint's own run: its loss.csv and later checkpoints go on there.
        run_dir = checkpoint.parent if checkpoint else runs_dir() / f"{time.strftime('%Y%m%d-%H%M%S')}-{values[0]}"
        run_dir.mkdir(parents=True, exist_ok=True)
        config_path = run_dir / "requested.yaml"
        config_path.write_text(yaml.safe_dump(asdict(config), sort_keys=False))
        stop_file = run_dir / "STOP"
        state = {"run_dir": str(run_dir), "stop_file": str(stop_file)}
        command = [sys.executable, "-m", "experiments", "train", str(config_path), "--data", str(data_dir),
                   "--out", str(run_dir), "--model", engine.spec.name, "--stop-file", str(stop_file)]
        if checkpoint:
            command += ["--resume", str(checkpoint)]
        stop_file.unlink(missing_ok=True)  # a Stop from an earlier session of this run
        log_path = run_dir / "train.log"
        started = time.time()
        with log_path.open("w") as log_file:
            process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT,
                                       env={**os.environ, "VACE_LAB_HOME": str(workspace())})
        yield f"Training in {run_dir.name} (process {process.pid})", None, None, "", [], state
        while process.poll() is None:
            time.sleep(1.0)
            rows = read_loss_csv(run_dir)
            if rows:
                progress((int(rows[-1]["step"]), config.max_steps), desc="training", unit="steps")
            yield (progress_text(rows, config, started), training_loss_figure(rows) if rows else None,
                   latest_validation(run_dir), log_tail(log_path), [], state)
        rows = read_loss_csv(run_dir)
        figure = training_loss_figure(rows) if rows else None
        if process.returncode == 130:
            message = f"Stopped at step {len(set(r['step'] for r in rows))}: a checkpoint was saved."
        elif process.returncode != 0:
            errors = [line for line in log_tail(log_path, 40).splitlines() if line.startswith("error:")]
            raise gr.Error(errors[-1].removeprefix("error: ") if errors else
                           f"training failed (exit {process.returncode}); see {log_path.name}", print_exception=False)
        else:
            message = (f"Done: {run_dir.name}. Its LoRA and checkpoints are in the Generate and Sweep tabs' LoRA lists.")
        yield message, figure, latest_validation(run_dir), log_tail(log_path), run_outputs(run_dir), state

    def on_stop(state):
        if state.get("stop_file"):
            Path(state["stop_file"]).touch()
            gr.Info("Stopping after the current step; a checkpoint will be saved.")

    def on_sweep(state):
        if not state.get("run_dir"):
            raise gr.Error("train a LoRA first", print_exception=False)
        values = checkpoint_values(Path(state["run_dir"]))
        if not values:
            raise gr.Error("this run has no checkpoints or LoRA yet", print_exception=False)
        return (CUSTOM, "lora", values, "lora_scale", STRENGTHS, NONE, "", gr.Tabs(selected="sweep"))

    sample_button.click(on_sample, None, dataset, queue=False, api_name="train_sample_dataset")
    add_button.click(on_add, [dataset_name, uploads], dataset, queue=False, api_visibility="private")
    dataset.focus(lambda: gr.Dropdown(choices=dataset_choices()), None, dataset, queue=False,
                  api_visibility="private")
    estimate_button.click(on_estimate, config_inputs, status, api_name="train_estimate", concurrency_id="inspect")
    resume.focus(lambda: gr.Dropdown(choices=checkpoint_choices()), None, resume, queue=False,
                 api_visibility="private")
    train_button.click(on_train, [dataset, *config_inputs, resume], [status, loss_plot, validation, log, files, run_state],
                       api_name="train", concurrency_id="train", concurrency_limit=1)
    stop_button.click(on_stop, run_state, None, queue=False, api_visibility="private")

    def connect_sweep():  # the Sweep tab is built after this one
        sweep = links["sweep"]
        (x_field, x_values), (y_field, y_values), (z_field, z_values) = (sweep["axes"][n] for n in ("x", "y", "z"))
        sweep_button.click(on_sweep, run_state, [sweep["preset"], x_field, x_values, y_field, y_values, z_field,
                                                 z_values, links["tabs"]], queue=False, api_visibility="private")

    links.setdefault("after_build", []).append(connect_sweep)
    return {}
