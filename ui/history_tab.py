"""History tab: past sweep runs, their grids, what differs between two cells, and re-running a cell; past
generations and training runs, each openable."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from services import train_runs
from services.history import (diff_cells, generation_summary, generation_title, list_generations, list_runs,
                              list_training_runs, load_manifest, render_full, rerun_cell, resolve_run, run_summary,
                              run_title, training_summary, training_title)
from ui.common import SWEEP_RUNS, metrics_table, outputs_dir, user_errors


def runs_root():
    return outputs_dir(SWEEP_RUNS)


def run_names() -> list[str]:
    return [run.name for run in list_runs(runs_root())]


def run_choices() -> list[tuple[str, str]]:
    """(what was swept, folder name) for each run, newest first: the list reads as what each run was."""
    return [(run_title(run), run.name) for run in list_runs(runs_root())]


def other_work() -> dict[str, Path]:
    """Single generations and training runs by the value the list gives them ("generate/NAME", "train/NAME")."""
    return {**{f"generate/{folder.name}": folder for folder in list_generations(outputs_dir("generate"))},
            **{f"train/{run.name}": run for run in list_training_runs(train_runs.runs_dir())}}


def other_work_choices() -> list[tuple[str, str]]:
    """(what it was, value) for each generation and training run, newest first."""
    found = sorted(other_work().items(), key=lambda item: item[1].stat().st_mtime, reverse=True)
    return [(generation_title(path) if value.startswith("generate/") else training_title(path), value)
            for value, path in found]


def show_other_work(value: str):
    """A generation's video, settings and files, or a training run's latest validation video, summary and
    LoRA files."""
    path = other_work().get(value or "")
    if path is None:
        raise ValueError(f"no generation or training run {value!r}: refresh the list")
    if value.startswith("generate/"):
        files = [str(p) for p in (path / "video.mp4", path / "manifest.json") if p.is_file()]
        return str(path / "video.mp4"), generation_summary(path), files
    videos = sorted(path.glob("validation/step-*/video.mp4"))
    files = [str(p) for p in [path / "loss.csv", *sorted(path.glob("**/pytorch_lora_weights.safetensors"))]
             if p.is_file()]
    return (str(videos[-1]) if videos else None), training_summary(path), files


def cell_choices(manifest: dict) -> list[tuple[str, str]]:
    return [(f"{cell['id']}: {' · '.join(cell['labels'].values()) or 'single'} ({cell.get('status')})", cell["id"])
            for cell in manifest["cells"]]


def show_run(name: str):
    run = resolve_run(runs_root(), name)
    manifest = load_manifest(run)
    rows = metrics_table(run / "cells.csv")  # as the Sweep tab shows it
    choices = cell_choices(manifest)
    first = choices[0][1] if choices else None
    second = choices[1][1] if len(choices) > 1 else first
    files = [str(p) for p in (run / "grid.gif", run / "grid.mp4", run / "grid.png", run / "cells.csv",
                              run / "manifest.json") if p.is_file()]
    return (run_summary(manifest), str(run / "grid.gif"), str(run / "grid.png"),
            gr.Dataframe(value=rows[1:], headers=rows[0]), gr.Dropdown(choices=choices, value=first),
            gr.Dropdown(choices=choices, value=second), files)


def build_history_tab(engine, links: dict):
    with gr.Row():
        # Choices change as runs finish; names are checked against the runs folder on every use.
        run = gr.Dropdown(run_choices(), label="Sweep run", allow_custom_value=True, elem_id="history-run",
                          info="Runs from the Sweep tab, newest first: what was swept, cells, time.")
        open_button = gr.Button("Open run", variant="primary")
        refresh = gr.Button("Refresh list")
    summary = gr.Markdown(label="Run summary")
    with gr.Row():
        grid_gif = gr.Image(label="Grid", type="filepath", interactive=False, elem_id="history-grid")
        sheet = gr.Image(label="Contact sheet", type="filepath", interactive=False)
    # Unwrapped, as the Sweep tab shows it: wrapped, short headers broke a letter or two a line ("statu s").
    table = gr.Dataframe(label="Cells: values, status and metrics", interactive=False, wrap=False)
    with gr.Row():
        first = gr.Dropdown(label="Cell A", info="Compare two cells, re-run cell A, or render it in full.",
                            allow_custom_value=True)
        second = gr.Dropdown(label="Cell B", allow_custom_value=True, info="the cell to compare with A")
        compare = gr.Button("What differs")
        rerun = gr.Button("Re-run cell A")
        full_button = gr.Button("Render cell A in full")
    difference = gr.Markdown(label="What differs")
    full_video = gr.Video(label="Cell A at the model's full size, frames and steps", height=240)
    files = gr.File(label="Files of this run", file_count="multiple")
    shown = [summary, grid_gif, sheet, table, first, second, files]
    with gr.Accordion("Generations and training runs", open=True):
        with gr.Row():
            work = gr.Dropdown(other_work_choices(), label="Generation or training run", allow_custom_value=True,
                               elem_id="history-work", info="From the Generate and Train tabs, newest first.")
            open_work = gr.Button("Open", elem_id="history-open-work")
        with gr.Row():
            work_video = gr.Video(label="Video (a training run: its latest validation video)", height=240)
            work_summary = gr.Markdown(label="What it was")
        work_files = gr.File(label="Its files", file_count="multiple")
    work_shown = [work_video, work_summary, work_files]

    @user_errors
    def on_select(name):
        if not name:
            return [gr.skip()] * len(shown)
        return show_run(name)

    @user_errors
    def on_compare(name, a, b):
        rows = diff_cells(load_manifest(resolve_run(runs_root(), name)), a, b)
        if not rows:
            return "The two cells are the same request."
        lines = "\n".join(f"| {field} | {_short(x)} | {_short(y)} |" for field, x, y in rows)
        return f"| | {a} | {b} |\n|---|---|---|\n{lines}"

    @user_errors
    def on_rerun(name, cell_id):
        record = rerun_cell(engine, resolve_run(runs_root(), name), cell_id)
        gr.Info(f"Cell {cell_id}: {record['status']}" + (f" ({record.get('error')})" if record.get("error") else ""))
        return show_run(name)

    @user_errors
    def on_render_full(name, cell_id):
        return str(render_full(engine, resolve_run(runs_root(), name), cell_id))

    def refreshed(current=None):
        """The list read again; the run chosen stays chosen while it exists, else the newest is."""
        choices = run_choices()
        names = [value for _, value in choices]
        return gr.Dropdown(choices=choices, value=current if current in names else (names[0] if names else None))

    @user_errors
    def on_open_work(value):
        return show_other_work(value)

    def refreshed_work(current=None):
        choices = other_work_choices()
        values = [value for _, value in choices]
        return gr.Dropdown(choices=choices, value=current if current in values else (values[0] if values else None))

    open_work.click(on_open_work, work, work_shown, api_name="history_open_work")
    work.select(on_open_work, work, work_shown, api_visibility="private")
    work.focus(lambda: gr.Dropdown(choices=other_work_choices()), None, work, queue=False, api_visibility="private")
    refresh.click(refreshed_work, work, work, queue=False, api_visibility="private")
    refresh.click(refreshed, run, run, queue=False, api_visibility="private")
    run.focus(lambda: gr.Dropdown(choices=run_choices()), None, run, queue=False, api_visibility="private")

    def connect_refresh():
        # Whenever the tab opens: the list is read again (new runs are there) and the chosen run is shown,
        # so a sweep just finished is on the page without another click.
        links["tab_objects"]["history"].select(refreshed, run, run, queue=False, api_visibility="private").then(
            on_select, run, shown, api_visibility="private")
        links["tab_objects"]["history"].select(refreshed_work, work, work, queue=False, api_visibility="private")

    links.setdefault("after_build", []).append(connect_refresh)
    full_button.click(on_render_full, [run, first], full_video, api_name="history_render_full", concurrency_id="model")
    open_button.click(on_select, run, shown, api_name="history_open")
    run.select(on_select, run, shown, api_visibility="private")
    compare.click(on_compare, [run, first, second], difference, api_name="history_diff")
    rerun.click(on_rerun, [run, first], shown, api_name="history_rerun", concurrency_id="model")
    return {}


def _short(value) -> str:
    text = f"{value:.4g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
