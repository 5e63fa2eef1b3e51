"""Runs a sweep: plans it, generates each cell through the shared engine, keeps going past failures,
resumes finished cells, and renders the labelled grids.

Prompt embeddings and VACE conditioning latents are shared between cells by the engine's caches, and a
LoRA loads once: cells are ordered so the LoRA and the size change as rarely as possible.
Under `accelerate launch`, each process takes every n-th cell and the main process renders the grid.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import dataclass, field

import numpy as np

from engine import media
from services import grid
from engine.engine import GenerationCancelled
from engine.metrics import video_metrics
from engine.pose.metrics import pose_adherence
from engine.records import package_versions
from services.axes import value_label
from services.run_store import RunStore
from services.sweep_spec import Cell, SweepSpec, expand

logger = logging.getLogger(__name__)
# Settings a grid's legend names when no axis varies them (LoRA, size and prompt have their own wording).
LEGEND_FIELDS = ("seed", "num_inference_steps", "guidance_scale", "flow_shift")


@dataclass
class SweepPlan:
    """What a run will cost, before it starts."""

    num_cells: int
    to_run: int
    reused: int
    total_steps: int
    estimated_seconds: float | None
    estimate_basis: str

    def summary(self) -> str:
        line = f"{self.num_cells} cells ({self.reused} already finished), {self.total_steps} denoising steps to run"
        if self.estimated_seconds is not None:
            line += f", about {format_seconds(self.estimated_seconds)} ({self.estimate_basis})"
        return line


@dataclass
class SweepOutcome:
    records: dict = field(default_factory=dict)
    cancelled: bool = False
    outputs: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [cid for cid, r in self.records.items() if r.get("status") == "failed"]


def same_output_key(request, model: str | None = None) -> str:
    """Requests with this key make the same video on the same model: at strength 0 a LoRA is not applied,
    whichever it is."""
    fields = request.to_dict()
    if not fields.get("lora") or not fields.get("lora_scale"):
        fields["lora"], fields["lora_scale"] = None, 0.0
    return json.dumps({**fields, "model": model}, sort_keys=True, default=str)


def distinct_videos(cells: list[Cell]) -> list[Cell]:
    """One cell per video the cells make: a cell another one makes is copied, not run (same_output_key)."""
    return list({same_output_key(c.request, c.model): c for c in cells}.values())


class Engines:
    """The sweep's engine, and the other models a 'model' axis names: one pipeline in memory at a time. Moving
    to another model frees the one before (its next cell loads it again) and says so."""

    def __init__(self, engine):
        self.base = engine
        self._by_name = {engine.spec.name: engine}
        self._loaded = engine

    def spec_of(self, name: str):
        return self.get(name).spec

    def get(self, name: str | None):
        """The engine for a model name (None: the sweep's own), made on first use without loading it."""
        if name is None:
            return self.base
        if name not in self._by_name:
            from engine import Engine

            engine = Engine.from_name(name, device=self.base.device)
            engine.check_runnable()  # a model this machine cannot run is refused when the sweep is planned
            self._by_name[name] = engine
        return self._by_name[name]

    def for_cell(self, cell: Cell):
        """The cell's engine, ready to run: the engine before it gives its model back first."""
        engine = self.get(cell.model)
        if engine is not self._loaded:
            logger.info("sweep: swapping model %s -> %s (one model in memory at a time)", self._loaded.spec.name,
                        engine.spec.name)
            self._loaded.clear()
            self._loaded = engine
        return engine


def format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def pose_adherence_or_none(frames, request) -> float | None:
    """PCK against the control's keypoints.json when it has one (a pose video from the Pose tab)."""
    try:
        return pose_adherence(frames, request)
    except ValueError as err:  # no pose backend installed: the metric is left out, the cell is fine
        logger.warning("pose adherence not measured: %s", err)
        return None


class SweepRunner:
    def __init__(self, engine, spec: SweepSpec, out_dir, lora: str | None = None,
                 process_index: int = 0, num_processes: int = 1):
        self.engine = engine
        self.engines = Engines(engine)
        self.spec = spec
        self.store = RunStore(out_dir)
        self.lora = lora
        self.cells: list[Cell] = expand(spec, engine.default_request, lora, inputs=engine.sample_inputs(),
                                        profiles=engine.profiles,
                                        model_requests=self._request_maker)
        self.process_index, self.num_processes = process_index, num_processes
        self._made: dict[str, str] = {}  # same_output_key -> the cell of this run that made that video

    def _request_maker(self, name: str):
        """make_request for one model of a model axis: its own defaults, and only the inputs it takes (the face
        video and the raw driving clip go to the models that read them)."""
        engine = self.engines.get(name)

        def make(**fields):
            return engine.default_request(**engine.family.without_untaken_inputs(fields))
        return make

    @property
    def my_cells(self) -> list[Cell]:
        return self.cells[self.process_index::self.num_processes]

    # ---- before running ----------------------------------------------------------------------------

    def plan(self, probe: bool = False) -> SweepPlan:
        todo = [c for c in self.cells if self.store.finished(c) is None]
        steps = sum(self.cell_steps(c) for c in distinct_videos(todo))
        estimate, basis = (self._probe_estimate(todo) if probe and todo else (None, "no probe"))
        return SweepPlan(len(self.cells), len(todo), len(self.cells) - len(todo), steps, estimate, basis)

    def cell_steps(self, cell: Cell) -> int:
        """Denoising steps a cell runs: its steps in each window of a long video (engine/windows.py)."""
        return cell.request.num_inference_steps * len(self.engines.get(cell.model).window_plan(cell.request))

    def _probe_estimate(self, todo: list[Cell]) -> tuple[float, str]:
        """Time a 2-step run of the first cell, then scale per cell by steps, tokens and guidance (on a model
        axis, every model is taken to cost what the first cell's does)."""
        first = todo[0].request.replace(num_inference_steps=2)
        probe_engine = self.engines.for_cell(todo[0])
        probe_engine.clear_caches()  # time the encodes too
        t = probe_engine.generate(first).timings
        encode = t["condition_encode"] + t["prompt_encode"] + t["condition_prepare"]

        def size(r):
            return (r.height * r.width * r.num_frames) / (first.height * first.width * first.num_frames)

        probe_passes = probe_engine.passes_per_step(first)

        def cost(cell):
            r = cell.request
            passes = self.engines.get(cell.model).passes_per_step(r) / probe_passes  # guidance, and where it stops
            return (t["decode"] + r.num_inference_steps * t["s_per_step"] * passes) * size(r)

        # Encodes run once per distinct input (the engine caches them), not once per cell.
        inputs = {(c.request.height, c.request.width, c.request.num_frames, c.request.control_video,
                   c.request.reference, c.request.prompt): c.request for c in todo}
        once = sum(encode * size(r) for r in inputs.values())
        return once + sum(cost(c) for c in distinct_videos(todo)), f"from a 2-step probe: {t['s_per_step']:.3f} s/step"

    # ---- running -----------------------------------------------------------------------------------

    def run(self, on_cell=None, on_step=None, should_stop=None) -> SweepOutcome:
        """Generate this process's cells. on_cell(cell, record, done, total); on_step(text, fraction)."""
        self.store.prepare()
        cells = self.my_cells
        outcome = SweepOutcome()
        steps_total = sum(self.cell_steps(c) for c in cells)
        steps_done, started = 0, time.perf_counter()
        for number, cell in enumerate(cells, start=1):
            record = self.store.finished(cell)
            if record is not None:
                outcome.records[cell.id] = {**record, "status": "reused"}
                steps_done += self.cell_steps(cell)
                if on_cell:
                    on_cell(cell, outcome.records[cell.id], number, len(cells))
                continue

            def step_progress(step, total, cell=cell, number=number, base=steps_done):
                if on_step:
                    done = base + step
                    elapsed = time.perf_counter() - started
                    eta = elapsed / max(1, done) * (steps_total - done)
                    on_step(f"cell {number}/{len(cells)} ({cell.id}), step {step}/{total}, "
                            f"ETA {format_seconds(eta)}", done / max(1, steps_total))

            try:
                record = self.run_cell(cell, step_progress, should_stop)
            except GenerationCancelled:
                outcome.cancelled = True
                logger.info("sweep cancelled at cell %s; finished cells are kept", cell.id)
                break
            outcome.records[cell.id] = record
            steps_done += self.cell_steps(cell)
            if on_cell:
                on_cell(cell, record, number, len(cells))
        return outcome

    def run_cell(self, cell: Cell, on_step, should_stop) -> dict:
        folder = self.store.cell_dir(cell.id)
        twin = self._made.get(same_output_key(cell.request, cell.model))
        if twin is not None:
            return self.copy_cell(twin, cell)
        try:
            engine = self.engines.for_cell(cell)
            result = engine.generate(cell.request, on_step=on_step, should_stop=should_stop, out_dir=folder)
        except GenerationCancelled:
            raise
        except (ValueError, RuntimeError, OSError) as err:
            # One bad cell (a LoRA that does not fit, out of memory, a disk error) must not end the sweep.
            record = {"status": "failed", "error": str(err).splitlines()[0][:300]}
            logger.warning("cell %s failed: %s", cell.id, record["error"])
        else:
            reference = engine.prepare_conditions(cell.request).reference
            metrics = video_metrics(result.frames, np.asarray(reference) if reference is not None else None)
            metrics["peak_memory_mb"] = result.peak_memory_mb
            adherence = pose_adherence_or_none(result.frames, cell.request)
            if adherence is not None:
                metrics["pose_adherence"] = adherence
            metrics.update(engine.family.score(result.frames, cell.request))  # e.g. the toy's ground truth
            record = {"status": "done", "timings": result.timings, "metrics": metrics,
                      "lora_sha256": result.lora_sha256, "request": cell.request.to_dict()}
            self._made[same_output_key(cell.request, cell.model)] = cell.id
        try:
            self.store.save_cell(cell, record)
        except OSError as err:
            record = {"status": "failed", "error": f"cannot save the cell: {err}"}
        return record

    def copy_cell(self, twin_id: str, cell: Cell) -> dict:
        """A cell whose video another cell of this run already made (every checkpoint at strength 0 is the
        base model): its video and scores, copied, not computed again."""
        source, folder = self.store.cell_dir(twin_id), self.store.cell_dir(cell.id)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / "video.mp4", folder / "video.mp4")
        made = self.store.read_cell(twin_id)
        record = {"status": "done", "same_as": twin_id, "timings": {"total": 0.0}, "metrics": made["metrics"],
                  "lora_sha256": made.get("lora_sha256"), "request": cell.request.to_dict()}
        self.store.save_cell(cell, record)
        logger.info("cell %s is cell %s's video (the same output), copied", cell.id, twin_id)
        return record

    # ---- after running -----------------------------------------------------------------------------

    def collect_records(self) -> dict:
        """Every cell's record from disk (other processes wrote theirs too)."""
        records = {cell.id: self.store.read_cell(cell.id) for cell in self.cells}
        return {cell_id: record for cell_id, record in records.items() if record is not None}

    def finish(self, outcome: SweepOutcome, scale: float = 1.0, frame_step: int = 1, make_zip: bool = False) -> dict:
        """Write cells.csv, manifest.json and the grids; returns the output paths (and GIF sizes)."""
        records = {**self.collect_records(), **outcome.records}
        varied = [axis.field for axis in self.spec.axes().values()]
        outputs = {"cells_csv": str(self.store.write_cells_csv(self.cells, records, varied))}
        outputs.update(self.render(records, scale, frame_step))
        self.store.write_manifest(self.manifest(records, outcome.cancelled))
        outputs["manifest"] = str(self.store.folder / "manifest.json")
        if make_zip:
            outputs["zip"] = str(self.store.zip())
        outcome.outputs = outputs
        return outputs

    def manifest(self, records: dict, cancelled: bool) -> dict:
        return {
            "spec": self.spec.to_dict(),
            "lora_choice": self.lora,
            "status": "cancelled" if cancelled else ("complete" if all(
                records.get(c.id, {}).get("status") in ("done", "reused") for c in self.cells) else "incomplete"),
            "model": {"name": self.engine.spec.name, "source": self.engine.spec.source, "device": self.engine.device},
            "cells": [{"id": c.id, **({"model": c.model} if c.model else {}), "position": c.position, "values": c.values, "labels": c.labels, "key": c.key,
                       "request": c.request.to_dict(), **{k: v for k, v in records.get(c.id, {"status": "not run"}).items()
                                                          if k in ("status", "error", "timings", "metrics", "lora_sha256")}}
                      for c in self.cells],
            "packages": package_versions(),
        }

    def render(self, records: dict, scale: float = 1.0, frame_step: int = 1) -> dict:
        axes = self.spec.axes()
        z_values = range(len(axes["z"].values)) if "z" in axes else [None]
        outputs = {}
        for z in z_values:
            cells = [c for c in self.cells if z is None or c.position.get("z") == z]
            rows = [axes["y"].label(v) for v in axes["y"].values] if "y" in axes else [""]
            cols = [axes["x"].label(v) for v in axes["x"].values] if "x" in axes else [""]
            if "y" in axes:
                rows = [cell_label(cells, "y", i) or rows[i] for i in range(len(rows))]
            if "x" in axes:
                cols = [cell_label(cells, "x", i) or cols[i] for i in range(len(cols))]
            tiles = {(c.position.get("y", 0), c.position.get("x", 0)): self._tile(c, records.get(c.id)) for c in cells}
            legend = self.legend(cells, z)
            suffix = "" if z in (None, 0) else f"-z{z:02d}"
            frames = grid.compose_frames(tiles, rows, cols, legend, scale, frame_step)
            fps = self.cells[0].request.fps / max(1, frame_step)
            gif = self.store.folder / f"grid{suffix}.gif"
            outputs[f"gif{suffix}"] = str(gif)
            outputs[f"gif{suffix}_bytes"] = grid.save_gif(frames, gif, fps)
            outputs[f"mp4{suffix}"] = str(media.write_mp4(frames, self.store.folder / f"grid{suffix}.mp4", round(fps)))
            sheet = grid.contact_sheet(tiles, rows, cols, legend, frames_per_cell=4, scale=scale)
            sheet.save(self.store.folder / f"grid{suffix}.png")
            outputs[f"png{suffix}"] = str(self.store.folder / f"grid{suffix}.png")
        return outputs

    def _tile(self, cell: Cell, record: dict | None) -> grid.Tile:
        if not record:
            return grid.Tile(not_run=True)
        if record.get("status") == "failed":
            return grid.Tile(error=record.get("error"))
        try:
            return grid.Tile(frames=media.read_video(self.store.cell_dir(cell.id) / "video.mp4").frames)
        except ValueError as err:
            return grid.Tile(error=str(err))

    def legend(self, cells: list[Cell], z) -> str:
        """What stayed fixed, so a grid read on its own says how it was made."""
        r = cells[0].request
        varied = {axis.field for axis in self.spec.axes().values()}
        if "profile" in varied:  # each profile sets these per cell
            varied |= {"num_inference_steps", "guidance_scale", "flow_shift", "sampler"}
        # Fields that differ between the grid's cells (each model's own defaults, say) are not one setting.
        varied |= {name for name in LEGEND_FIELDS if len({getattr(c.request, name) for c in cells}) > 1}
        parts = [] if "model" in varied else [f"model {self.engine.spec.name}"]
        # The same words as the grid's headers (the field table): "CFG 5" in a header is "CFG 5" here.
        parts += [value_label(name, getattr(r, name)) for name in LEGEND_FIELDS if name not in varied]
        if "tier" not in varied:
            parts.append(f"{r.width}x{r.height}, {r.num_frames} frames @ {r.fps} fps")
        if "lora" not in varied:
            parts.append(value_label("lora", r.lora) + (f", {value_label('lora_scale', r.lora_scale)}" if r.lora else ""))
        elif "lora_scale" not in varied:
            parts.append(value_label("lora_scale", r.lora_scale))
        if z is not None:
            axis = self.spec.axes()["z"]
            parts.append(axis.label(axis.values[z]))
        if "prompt" not in varied:
            parts.append(f'prompt "{r.prompt[:80]}{"..." if len(r.prompt) > 80 else ""}"' if r.prompt else "no prompt")
        return " · ".join(parts)


def cell_label(cells: list[Cell], axis: str, index: int) -> str | None:
    for cell in cells:
        if cell.position.get(axis) == index:
            return cell.labels.get(axis)
    return None


