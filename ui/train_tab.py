"""Train tab: a dataset and a preset -> a LoRA trained in a background process, watched as it learns,
then swept by checkpoint and strength in one click.

Widgets -> TrainConfig -> services.train_runs (datasets, checkpoints, the training process) -> render.
"""

from __future__ import annotations

import inspect
import logging
import time
from pathlib import Path

import gradio as gr

from engine.train.config import TrainConfig
from engine.train.timesteps import SAMPLERS
from services import train_runs
from services.train_runs import FRESH, TrainingRun
from ui.common import CUSTOM, NONE, named_copy, user_errors, with_named_inputs

logger = logging.getLogger(__name__)

STRENGTHS = "0, 0.5, 1.0"
POLL_SECONDS = 1.0


def checkpoint_choices() -> list[tuple[str, str]]:
    return [("start a new run", FRESH)] + [(name, name) for name in train_runs.checkpoint_names()]


# The preset's fields the page shows; choosing a preset fills them, so what is shown is what trains.
SHOWN_FIELDS = ("max_steps", "rank", "learning_rate", "sampler", "gradient_accumulation", "checkpoint_every",
                "validate_every", "height", "width", "num_frames", "gradient_checkpointing")
TOY_PRESET = "toy-blog"  # the toy's one-click sample is the blog in a box: its dataset and its recipe


def preset_widget_values(name: str) -> tuple:
    """What choosing a training preset puts in the widgets shown (SHOWN_FIELDS, in that order)."""
    config = TrainConfig.from_preset(name)
    return tuple(getattr(config, field) for field in SHOWN_FIELDS)


SAMPLE_VALIDATE_EVERY = 50


def toy_sample_widget_values() -> tuple:
    """The toy's one-click sample: the toy-blog recipe with a validation video every SAMPLE_VALIDATE_EVERY steps,
    so the page shows the floor turning to the training studio's grey as the LoRA learns it (the blog saw it
    only after three days). The preset itself validates never, so `toy blog`'s measured times stay as recorded."""
    values = dict(zip(SHOWN_FIELDS, preset_widget_values(TOY_PRESET)), validate_every=SAMPLE_VALIDATE_EVERY)
    return tuple(values[field] for field in SHOWN_FIELDS)


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

    if engine.spec.transformer_config:  # a model described by its config alone: Wan's 8x VAE
        model_config, spatial_factor = engine.spec.transformer_config, 8
    else:
        pipe = engine.load()
        model_config, spatial_factor = dict(pipe.transformer.config), pipe.vae_scale_factor_spatial
    trainable = lora_parameters(model_config, config.target_pattern, config.rank)
    estimate = estimate_step(model_config, config.height, config.width, config.num_frames, trainable,
                             config.gradient_checkpointing, parameters=transformer_parameters(model_config),
                             spatial_factor=spatial_factor)
    samples = config.batch_size * config.gradient_accumulation
    return (f"**Before launch** ({engine.spec.name}, {config.width}x{config.height}x{config.num_frames}, "
            f"{samples} sample(s) per step): {estimate.summary()}.{machine_time_note(engine, config, samples)}")


# A training step is a forward and a backward of about twice its cost (the estimate's "about three forwards").
PASSES_PER_SAMPLE_STEP = 3


def machine_time_note(engine, config: TrainConfig, samples: int) -> str:
    """On a CPU, the time on this machine from a pass measured while generating at the training size (the GPU
    floor above says nothing of a CPU); or how to get one."""
    if engine.device != "cpu":
        return ""
    measured = engine.measured_pass_seconds(config.height, config.width, config.num_frames)
    if measured is None:
        return (f" On this CPU: generate once at {config.width}x{config.height}, {config.num_frames} frames, and "
                "Estimate again for a time measured here; the log shows s/step as training runs.")
    step = PASSES_PER_SAMPLE_STEP * measured * samples
    return (f" On this CPU: about {step:.1f} s a step (3 model passes a sample at the {measured:.2f} s one took "
            f"generating at this size), {step * config.max_steps / 60:.0f} min for {config.max_steps} steps.")


def build_train_tab(engine, links):
    from ui.plots import training_loss_figure

    gr.Markdown(
        "Train a small LoRA with known-good recipes and watch it learn: loss by noise level, validation videos "
        "at a fixed seed, checkpoints you can sweep. Training runs in its own process; the lab keeps serving.")
    run_state = gr.State({})
    with gr.Row():
        with gr.Column():
            with gr.Row():
                dataset = gr.Dropdown(train_runs.dataset_names(), value=None, label="Dataset", allow_custom_value=True,
                                      info="A folder in the workspace's datasets/: metadata.csv or plain clips")
                sample_button = gr.Button("Use the sample: 24 toy clips in one costume (the blog in a box)"
                                          if engine.family.name == "toy" else "Use the sample clip", elem_id="train-sample")
            with gr.Accordion("Add a dataset", open=False):
                uploads = gr.File(label="Clips (+ optional metadata.csv, or a .txt prompt per clip)",
                                  file_count="multiple", type="filepath")
                dataset_name = gr.Textbox(label="Name", placeholder="my-dances", info="letters, digits, - and _")
                add_button = gr.Button("Add dataset")
            start_preset = TOY_PRESET if engine.family.name == "toy" else "self-attention"
            shown = dict(zip(SHOWN_FIELDS, preset_widget_values(start_preset)))
            preset = gr.Dropdown(TrainConfig.preset_names(), value=start_preset, label="Preset",
                                 elem_id="train-preset",
                                 info="main-blocks (the blog's run 1), self-attention (run 2), vace-branch "
                                      "(DiffSynth-Studio), custom-regex, toy-blog (the blog in a box); choosing one "
                                      "fills the fields below")
            with gr.Row():
                max_steps = gr.Number(shown["max_steps"], label="Training steps", precision=0, info="optimizer steps",
                                      elem_id="train-steps")
                rank = gr.Number(shown["rank"], label="Rank", precision=0, elem_id="train-rank",
                                 info="LoRA rank; its alpha (the training-time scale, alpha / rank) is set equal")
                learning_rate = gr.Number(shown["learning_rate"], label="Learning rate", elem_id="train-learning-rate",
                                          info="AdamW, warmup then cosine")
            with gr.Row():
                sampler = gr.Dropdown(list(SAMPLERS), value=shown["sampler"], label="Timestep sampler",
                                      info="low_noise_warmup: RealisDance-DiT's, uniform after warmup_tau steps")
                gradient_accumulation = gr.Number(shown["gradient_accumulation"], label="Accumulate", precision=0,
                                                  info="micro-batches per step: large batches, few steps")
            with gr.Row():
                checkpoint_every = gr.Number(shown["checkpoint_every"], label="Checkpoint every", precision=0,
                                             info="steps", elem_id="train-checkpoint-every")
                validate_every = gr.Number(shown["validate_every"], label="Validation video every", precision=0,
                                           info="steps; 0: never", elem_id="train-validate-every")
            with gr.Row():
                height = gr.Number(shown["height"], label="Height", precision=0, info="training size, multiple of 16",
                                   elem_id="train-height")
                width = gr.Number(shown["width"], label="Width", precision=0, info="multiple of 16",
                                  elem_id="train-width")
                num_frames = gr.Number(shown["num_frames"], label="Frames", precision=0, info="4n+1 at 16 fps",
                                       elem_id="train-frames")
            gradient_checkpointing = gr.Checkbox(shown["gradient_checkpointing"], label="Gradient checkpointing",
                                                 info="far less activation memory for about a third more time")
            resume = gr.Dropdown(checkpoint_choices(), value=FRESH, label="Resume from", allow_custom_value=True,
                                 info="a checkpoint of an earlier run: training goes on there, optimizer state and all")
            more = gr.Textbox(label="More settings", lines=2, placeholder="reference_dropout=0.05\nseed=1",
                              info="One field=value per line (any TrainConfig field)")
            with gr.Row():
                estimate_button = gr.Button("Estimate")
                train_button = gr.Button("Train", variant="primary", elem_id="train-run")
                stop_button = gr.Button("Stop (saves a checkpoint)", variant="secondary")
        with gr.Column():
            # The progress bar gets a strip of its own: drawn over the status, it covered the status's text.
            progress_strip = gr.Markdown("", label="Progress", elem_id="train-progress", min_height=40)
            status = gr.Markdown(label="Status", elem_id="train-status")
            loss_plot = gr.Plot(label="Loss")
            validation = gr.Video(label="Latest validation video (fixed seed)", height=200, autoplay=True, loop=True)
            log = gr.Textbox(label="Log (newest lines)", lines=8, max_lines=8, interactive=False, autoscroll=True)
            files = gr.File(label="LoRA (diffusers, and ComfyUI / Wan2GP naming), loss.csv, config.yaml, log",
                            file_count="multiple")
            sweep_button = gr.Button("Sweep checkpoints x LoRA strength", elem_id="train-to-sweep")

    config_inputs = [preset, max_steps, rank, learning_rate, sampler, gradient_accumulation, checkpoint_every,
                     validate_every, height, width, num_frames, gradient_checkpointing, more]

    shown_widgets = [max_steps, rank, learning_rate, sampler, gradient_accumulation, checkpoint_every,
                     validate_every, height, width, num_frames, gradient_checkpointing]

    @user_errors
    def on_sample():
        """The sample dataset; on the toy, the blog in a box: its narrow dataset and its recipe (toy-blog), so
        one click and Train reproduce the blog's drift (the page's first values would barely move a LoRA), with
        validation videos to watch it happen."""
        if engine.family.name != "toy":
            folder = train_runs.make_sample_dataset()
            gr.Info(f"Dataset '{folder.name}' chosen: one sample clip and its prompt. Train when ready.")
            return gr.Dropdown(choices=train_runs.dataset_names(), value=folder.name), *[gr.skip()] * (1 + len(shown_widgets))
        folder = train_runs.make_toy_sample_dataset()
        gr.Info(f"Dataset '{folder.name}' chosen, with the {TOY_PRESET} recipe in the fields below. Train when ready.")
        return (gr.Dropdown(choices=train_runs.dataset_names(), value=folder.name), TOY_PRESET,
                *toy_sample_widget_values())

    @user_errors
    def on_add(name, uploaded):
        folder = train_runs.add_dataset(name, uploaded)
        gr.Info(f"Added {folder.name}")
        return gr.Dropdown(choices=train_runs.dataset_names(), value=folder.name)

    @user_errors
    def on_estimate(*values):
        return estimate_text(engine, build_config(*values))

    @user_errors
    def on_train(dataset_value, *values, progress=gr.Progress()):
        *values, resume_value = values
        config = build_config(*values)
        data_dir = train_runs.resolve_dataset(dataset_value)
        checkpoint = train_runs.resolve_checkpoint(resume_value)
        run = TrainingRun.new(config, preset=values[0], checkpoint=checkpoint)
        pid = run.launch(data_dir, engine.spec.name, checkpoint)
        state = {"run_dir": str(run.run_dir), "stop_file": str(run.stop_file), **run.describe(data_dir, dataset_value)}
        yield f"Training in {run.run_dir.name} (process {pid})", None, None, "", [], state, ""
        status = run.status()
        while status.running:
            time.sleep(POLL_SECONDS)
            status = run.status()
            if status.step:
                progress((status.step, config.max_steps), desc="training", unit="steps")
            yield (status.message, training_loss_figure(status.rows) if status.rows else None,
                   run.latest_validation(), train_runs.log_tail(run.log_path), [], state, "")
        if status.failed:
            raise gr.Error(status.message, print_exception=False)
        yield (status.message, training_loss_figure(status.rows) if status.rows else None, run.latest_validation(),
               train_runs.log_tail(run.log_path), run.downloads(named_copy), state, "")

    def on_stop(state):
        if state.get("stop_file"):
            Path(state["stop_file"]).touch()
            gr.Info("Stopping after the current step; a checkpoint will be saved.")

    @user_errors
    def on_sweep(state):
        """This page's run, or after a reload the run written last."""
        if not state.get("run_dir"):
            latest = train_runs.latest_run()
            if latest is None:
                raise gr.Error("train a LoRA first: no run in the workspace has a checkpoint yet", print_exception=False)
            state = {"run_dir": str(latest), **train_runs.run_record(latest)}
            gr.Info(f"Sweeping the latest run, {latest.name}")
        values = train_runs.checkpoint_values(Path(state["run_dir"]))
        if not values:
            raise gr.Error("this run has no checkpoints or LoRA yet", print_exception=False)
        prompt = state.get("prompt", "")
        if prompt:
            gr.Info(f"Prompt: the training prompt of {state.get('dataset', 'the dataset')} (in 'Settings for every cell')")
        overrides = f"prompt={prompt}" if prompt else ""
        return (CUSTOM, "lora", values, "lora_scale", STRENGTHS, NONE, "", overrides, gr.Tabs(selected="sweep"))

    # Making the toy sample takes seconds; Train and Estimate wait for it, so a quick second click cannot run
    # on an empty dataset choice.
    action_buttons = [train_button, estimate_button]

    def set_actions(interactive: bool):
        return lambda: [gr.Button(interactive=interactive)] * len(action_buttons)

    sample_button.click(set_actions(False), None, action_buttons, queue=False, api_visibility="private").then(
        on_sample, None, [dataset, preset, *shown_widgets], api_name="train_sample_dataset").then(
        set_actions(True), None, action_buttons, queue=False, api_visibility="private")
    preset.input(user_errors(preset_widget_values), preset, shown_widgets, queue=False, api_visibility="private")
    add_button.click(on_add, [dataset_name, uploads], dataset, queue=False, api_visibility="private")
    dataset.focus(lambda: gr.Dropdown(choices=train_runs.dataset_names()), None, dataset, queue=False,
                  api_visibility="private")
    config_names = list(inspect.signature(build_config).parameters)
    with_named_inputs(on_estimate, config_names, config_inputs)
    with_named_inputs(on_train, ["dataset", *config_names, "resume_from"], [dataset, *config_inputs, resume],
                      progress=True)
    estimate_button.click(on_estimate, config_inputs, status, api_name="train_estimate", concurrency_id="inspect")
    resume.focus(lambda: gr.Dropdown(choices=checkpoint_choices()), None, resume, queue=False,
                 api_visibility="private")
    train_button.click(on_train, [dataset, *config_inputs, resume],
                       [status, loss_plot, validation, log, files, run_state, progress_strip], api_name="train",
                       concurrency_id="train", concurrency_limit=1, show_progress_on=progress_strip)
    stop_button.click(on_stop, run_state, None, queue=False, api_visibility="private")

    def connect_sweep():  # the Sweep tab is built after this one
        sweep = links["sweep"]
        (x_field, x_values), (y_field, y_values), (z_field, z_values) = (sweep["axes"][n] for n in ("x", "y", "z"))
        sweep_button.click(on_sweep, run_state, [sweep["preset"], x_field, x_values, y_field, y_values, z_field,
                                                 z_values, sweep["overrides"], links["tabs"]],
                           api_visibility="private")

    links.setdefault("after_build", []).append(connect_sweep)
    return {}
