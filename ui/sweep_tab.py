"""Sweep tab: choose axes (or a preset), see the plan, run with live progress, get the labelled grid."""

from __future__ import annotations

import csv
import time

import gradio as gr

from ui.plots import METRICS, sweep_figures
from engine.request import GenerationRequest
from engine.prompts.variants import load_prompt_set, prompt_sets_dir
from services.axes import AXIS_FIELDS
from engine.pose.metrics import POSE_METRICS
from services.metrics import default_plot
from services.runner import SweepRunner
from services.sweep_jobs import SweepJob
from services.sweep_spec import AXIS_NAMES, SweepSpec, lora_or_fallback, preset_names, prompt_axis_name
from ui.common import (with_named_inputs, CUSTOM, NONE, SWEEP_RUNS, lora_choices, gpu_job, metrics_table,
                       new_cancel_flag, new_output_dir, request_stop, user_errors)

DEFAULT_PRESET = "seeds"  # runs without a LoRA; the blog's presets compare one with the pretrained model


def spec_from_widgets(engine, preset, axes, overrides_text, prompt_set, reference, control) -> tuple[SweepSpec, str]:
    """Widgets -> a validated SweepSpec (ValueError names the problem) and a note on what the preset changes for
    this model (empty when nothing); empty inputs are the engine's sample."""
    spec = SweepSpec.from_preset(preset) if preset and preset != CUSTOM else SweepSpec(name="custom")
    spec, note = spec.for_model(engine.spec.family)  # before the settings box: what the user types wins
    if prompt_set:
        spec = spec.with_changes(prompts={**spec.prompts, **load_prompt_set(prompt_set)})
    lines = [line.strip() for line in (overrides_text or "").splitlines() if line.strip()]
    base = GenerationRequest.parse_overrides(lines, source="each settings line")
    sample = engine.sample_inputs()
    base["control_video"] = control or sample["control_video"]
    base["reference"] = reference or sample["reference"]
    prompt_axis = any(field == "prompt" for field, _ in axes.values())
    if not control and not reference and not prompt_axis and "prompt" not in base and "prompt" not in spec.base:
        base["prompt"] = sample["prompt"]  # the sample's own prompt rather than an empty one
    axis_changes = {name: (f"{field}={values}" if field and values else None)
                    for name, (field, values) in axes.items()}
    return spec.with_changes(axes=axis_changes, base=base), note


def axis_widgets_for(preset: str) -> list:
    """[field, values] x 3 for a preset's axes, to fill the widgets."""
    if not preset or preset == CUSTOM:
        return [NONE, ""] * 3
    spec = SweepSpec.from_preset(preset)
    values = []
    for name in ("x", "y", "z"):
        axis = getattr(spec, name)
        values += [axis.field, ", ".join(_value_text(v) for v in axis.values)] if axis else [NONE, ""]
    return values


def axes_with_prompt_set(set_name: str, axis_values: list) -> list:
    """[field, values] x 3 with the prompt set's names on a prompt axis: the axis already on prompt, else the
    first free one, else X. Choosing a set then sweeps it, without typing its names."""
    if not set_name:
        return list(axis_values)
    names = ", ".join(load_prompt_set(set_name))
    pairs = [list(axis_values[i:i + 2]) for i in (0, 2, 4)]
    target = AXIS_NAMES.index(prompt_axis_name([field for field, _ in pairs]))
    pairs[target] = ["prompt", names]
    return [value for pair in pairs for value in pair]


def _value_text(value) -> str:
    if isinstance(value, list):
        return "/".join(f"{v:g}" for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def prompt_set_choices() -> list[str]:
    return [NONE, *sorted(p.stem for p in prompt_sets_dir().glob("*.yaml"))]


def plan_summary(runner: SweepRunner, plan, note: str = "") -> str:
    """The plan, what every cell shares (the grid's own legend: the settings box shows only what the user typed,
    so a preset's 50 steps were unseen until the grid came) and any note on what the preset changed."""
    lines = [plan.summary(), "Every cell: " + runner.legend(runner.cells, None), note]
    return "**Plan:** " + "\n\n".join(line for line in lines if line)


def download_name(spec: SweepSpec) -> str:
    """Files named for what they are: sweep-guidance_scale-x-lora-20261121-1130."""
    fields = "-x-".join(axis.field for axis in spec.axes().values()) or "single"
    return f"sweep-{fields}-{time.strftime('%Y%m%d-%H%M')}"


# Why a metric has no values, said where its plot would be.
MISSING_REASONS = {
    "pose_adherence": "the control video has no keypoints.json: make it in the Pose tab (its keypoints travel "
                      "with it), or use a toy clip",
    "toy_figure_f1": "the control is not a toy clip at its own size, frames and fps",
}


def read_rows(record: dict) -> list[dict]:
    with open(record["cells_csv"], newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def plot_menu(record: dict, wanted: str | None = None) -> tuple[list[str], str | None, str]:
    """The metrics a finished run measured (the menu), the one to show, and a note on those it could not."""
    figures = sweep_figures(read_rows(record), record["axes"])
    measured = [name for name in METRICS if name in figures]
    could = record.get("could_measure", list(METRICS))  # what this model's family can measure at all
    missing = [name for name in METRICS if name not in figures and name in MISSING_REASONS and name in could]
    note = " ".join(f"Not measured, {METRICS[name]}: {MISSING_REASONS[name]}." for name in missing)
    if not record["axes"].get("x"):
        note = "Plots need an X axis."
    chosen = wanted if wanted in measured else default_plot(measured)
    return measured, chosen, note


def menu(names: list[str]) -> list[tuple[str, str]]:
    """The plot menu: each metric by its human name."""
    return [(METRICS[name], name) for name in names]


def figure_for(record: dict, metric_name: str):
    """The plot of one metric for a finished run (None before any run, or when it was not measured)."""
    if not record:
        return None
    return sweep_figures(read_rows(record), record["axes"]).get(metric_name)


def build_sweep_tab(engine, links: dict):
    cancel_flag = new_cancel_flag(links)
    with gr.Row():
        with gr.Column(scale=2):
            preset = gr.Dropdown([CUSTOM, *preset_names()], value=DEFAULT_PRESET, label="Preset",
                                 info="The blog's experiments (blog-*: choose a LoRA), or (custom) to set the axes.")
            initial = axis_widgets_for(DEFAULT_PRESET)
            axis_widgets = {}
            for i, (name, title) in enumerate((("x", "X: columns"), ("y", "Y: rows"), ("z", "Z: separate grids"))):
                with gr.Row():
                    field = gr.Dropdown([NONE, *AXIS_FIELDS], value=initial[2 * i], label=f"{title} field",
                                        info="the setting that changes along this axis")
                    values = gr.Textbox(value=initial[2 * i + 1], label=f"{title} values", max_lines=1,
                                        info="3, 5, 7.5 · 1-5 · 1-5 (+2) · 1-10 [5] · names for prompt/lora/tier")
                axis_widgets[name] = (field, values)
            with gr.Row():
                lora = gr.Dropdown(lora_choices(), value=NONE, label="LoRA ($lora in presets)",
                                   info="The fine-tune the preset compares with the pretrained model.")
                prompt_set = gr.Dropdown(prompt_set_choices(), value=NONE, label="Prompt set", allow_custom_value=True,
                                         info="Saved in the Prompts tab; its names become prompt-axis values.")
            overrides = gr.Textbox(label="Settings for every cell", lines=2, placeholder="num_inference_steps=20\nseed=3",
                                   info="One field=value per line (any Generate setting).", elem_id="sweep-overrides")
            with gr.Row():
                reference = gr.Image(label="Reference (empty: the sample)", type="filepath", sources=["upload"],
                                         height=160)
                control = gr.Video(label="Control video (empty: the sample)", sources=["upload"], height=160)
            take_inputs = gr.Button("Use the Generate tab's reference and video")
            with gr.Row():
                gif_scale = gr.Slider(0.1, 1.0, value=1.0, step=0.05, label="Grid tile scale",
                                      info="Shrink tiles to keep the GIF shareable; its size is reported.")
                gif_step = gr.Slider(1, 4, value=1, step=1, label="Keep every n-th frame",
                                     info="Fewer frames, smaller GIF; the timing stays true.")
            with gr.Row():
                plan_button = gr.Button("Plan")
                run_button = gr.Button("Run sweep", variant="primary", elem_id="sweep-run")
                stop_button = gr.Button("Stop", variant="secondary", elem_id="sweep-stop")
        with gr.Column(scale=3):
            plan_text = gr.Markdown(label="Plan")
            progress_text = gr.Markdown(label="Status", elem_id="sweep-progress")
            cells_gallery = gr.Gallery(label="Finished cells", columns=4, height=220)
            # Titles above the images, not Gradio's label badge: the badge covered the first column's header.
            gr.Markdown("**Comparison grid** (plays all cells in step)")
            # No buttons over the images either: they covered the last column's header. The files are below.
            grid_gif = gr.Image(label="Comparison grid", show_label=False, type="filepath", interactive=False,
                                elem_id="sweep-grid", buttons=[])
            gr.Markdown("**Contact sheet**: one row per cell, 4 frames across")
            sheet = gr.Image(label="Contact sheet", show_label=False, type="filepath", interactive=False,
                             elem_id="sweep-sheet", buttons=[])
            table = gr.Dataframe(label="Cells: values, status and metrics", interactive=False, wrap=False,
                                 elem_id="sweep-table")
            with gr.Row():
                metric = gr.Dropdown(menu(list(METRICS)), value=None, label="Plot",
                                     info="Metric against the X value, one line per Y; seeds give the error bars.")
            plot = gr.Plot(label="Metric plot")
            plot_note = gr.Markdown(label="Plot note", elem_id="sweep-plot-note")
            run_record = gr.State({})
            files = gr.File(label="Downloads: grid GIF / MP4 / PNG, cells.csv, manifest, ZIP", file_count="multiple",
                            elem_id="sweep-files")

    axis_inputs = [w for pair in axis_widgets.values() for w in pair]
    spec_inputs = [preset, *axis_inputs, overrides, prompt_set, reference, control]

    def spec_from(values) -> tuple[SweepSpec, str]:
        preset_value, *rest = values
        axes = {name: (rest[2 * i], rest[2 * i + 1]) for i, name in enumerate(("x", "y", "z"))}
        overrides_text, prompt_set_value, reference_value, control_value = rest[6:]
        return spec_from_widgets(engine, preset_value, axes, overrides_text, prompt_set_value, reference_value,
                                 control_value)

    @user_errors
    def on_preset(name):
        return axis_widgets_for(name)

    def spec_and_lora(values, lora_value):
        """The spec and LoRA to run: the preset as it runs on this model, and a missing $lora falls back
        (lora_or_fallback); with a note saying what changed."""
        spec, model_note = spec_from(values)
        spec, lora_value, lora_note = lora_or_fallback(spec, lora_value or None, engine.sample_lora())
        return spec, lora_value, " ".join(note for note in (model_note, lora_note) if note)

    @user_errors
    def on_plan(lora_value, *values):
        spec, lora_value, note = spec_and_lora(values, lora_value)
        runner = SweepRunner(engine, spec, new_output_dir("sweep-plans"), lora=lora_value)
        return plan_summary(runner, runner.plan(probe=True), note)

    @user_errors
    @gpu_job("sweep")
    def on_run(lora_value, scale, step, *values, progress=gr.Progress()):
        *values, cancel = values
        cancel["stop"] = False
        spec, lora_value, note = spec_and_lora(values, lora_value)
        if note:
            gr.Info(note)
        run_dir = new_output_dir(SWEEP_RUNS)
        runner = SweepRunner(engine, spec, run_dir, lora=lora_value)
        header = plan_summary(runner, runner.plan(), note)
        job = SweepJob(runner, should_stop=lambda: cancel["stop"])
        for state in job.updates():
            progress(state.fraction, desc=state.text)
            yield header, state.text, state.finished_cells, *[gr.skip()] * 8
        result = job.finish(scale=float(scale), frame_step=int(step), name=download_name(spec))
        outputs = result.outputs
        rows = metrics_table(outputs["cells_csv"])
        record = {"cells_csv": outputs["cells_csv"],
                  "axes": {name: axis.field for name, axis in spec.axes().items()},
                  "could_measure": [*engine.family.metric_info, *POSE_METRICS]}
        measured, chosen, note = plot_menu(record)
        yield (header, result.status, job.progress.finished_cells, outputs["gif"], outputs["png"],
               gr.Dataframe(value=rows[1:], headers=rows[0]), result.downloads, record,
               figure_for(record, chosen) if chosen else None,
               gr.Dropdown(choices=menu(measured or list(METRICS)), value=chosen), note)

    def take_from_generate(ref, video):
        return ref, video

    # .input, not .change: other tabs set the preset and the axes together, and must not be overwritten.
    preset.input(on_preset, preset, axis_inputs, queue=False, api_visibility="private")
    lora.focus(lambda: gr.Dropdown(choices=lora_choices()), None, lora, queue=False, api_visibility="private")
    # Sets saved in the Prompts tab after the page loaded show up when the list is opened.
    prompt_set.focus(lambda: gr.Dropdown(choices=prompt_set_choices()), None, prompt_set, queue=False,
                     api_visibility="private")
    prompt_set.input(user_errors(lambda name, *axes: axes_with_prompt_set(name, list(axes))),
                     [prompt_set, *axis_inputs], axis_inputs, queue=False, api_visibility="private")
    spec_names = ["preset", "x_field", "x_values", "y_field", "y_values", "z_field", "z_values", "settings",
                  "prompt_set", "reference", "control_video"]
    with_named_inputs(on_plan, ["lora", *spec_names], [lora, *spec_inputs])
    with_named_inputs(on_run, ["lora", "tile_scale", "frame_step", *spec_names], [lora, gif_scale, gif_step, *spec_inputs],
                      extra=("cancel",), progress=True)
    plan_button.click(on_plan, [lora, *spec_inputs], plan_text, api_name="sweep_plan", concurrency_id="model")
    run_button.click(on_run, [lora, gif_scale, gif_step, *spec_inputs, cancel_flag],
                     [plan_text, progress_text, cells_gallery, grid_gif, sheet, table, files, run_record, plot, metric,
                      plot_note],
                     api_name="sweep", concurrency_id="model",
                     show_progress_on=progress_text)  # one progress bar, not one over every output
    metric.change(user_errors(lambda record, name: figure_for(record, name)), [run_record, metric], plot,
                  api_visibility="private")
    stop_button.click(request_stop, cancel_flag, cancel_flag, api_name="sweep_stop", queue=False)
    take_inputs.click(take_from_generate, [links["generate"]["reference"], links["generate"]["control"]],
                      [reference, control], queue=False, api_visibility="private")
    return {"reference": reference, "control": control, "preset": preset, "axes": axis_widgets, "overrides": overrides,
            "prompt_set": prompt_set}
