"""What a sweep's model axis costs: two families in one grid against each family's own grid, in one run.

    python -m benchmarks.model_axis [--seeds 3] [--reps 3] [--json PATH]

Three sweeps of the same inputs and settings (the sample, 17 frames at 224x128, 2 steps, seeds 1..n): VACE tiny
alone, Animate tiny alone, and both on a model axis (one model in memory at a time, so the grid loads each
model once and pays one swap). Reported per sweep, as medians of --reps interleaved runs: seconds, seconds
per cell, and the model loads. The ratio
that matters is the mixed grid's time over the sum of the two single-family grids: near 1 means switching
families costs little beyond the load. Times are this machine's; ratios carry over.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time

from benchmarks.report import log_and_save

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("benchmarks.model_axis")
SETTINGS = {"num_inference_steps": 2, "num_frames": 17, "height": 128, "width": 224}


def run_sweep(x_axis: str, seeds: int) -> dict:
    from engine import Engine
    from services.runner import SweepRunner
    from services.sweep_spec import SweepSpec

    engine = Engine.from_name("tiny")  # the sweep's own engine; a model axis brings the others
    spec = SweepSpec.from_dict({"name": "bench", "x": x_axis, "y": f"seed=1-{seeds}", "base": SETTINGS})
    loads = []
    with tempfile.TemporaryDirectory() as folder:
        runner = SweepRunner(engine, spec, folder)
        for each in runner.engines._by_name.values():
            each.clear()
        handler = _CountLoads(loads)
        logging.getLogger("engine.loading").addHandler(handler)
        started = time.perf_counter()
        try:
            outcome = runner.run()
        finally:
            logging.getLogger("engine.loading").removeHandler(handler)
        seconds = time.perf_counter() - started
    failed = outcome.failed
    if failed:
        raise RuntimeError(f"cells failed: {failed}")
    return {"sweep": x_axis, "cells": len(runner.cells), "seconds": round(seconds, 2),
            "seconds_per_cell": round(seconds / len(runner.cells), 2), "model_loads": len(loads)}


class _CountLoads(logging.Handler):
    def __init__(self, loads: list):
        super().__init__(logging.INFO)
        self.loads = loads

    def emit(self, record):
        if record.getMessage().startswith("loaded "):
            self.loads.append(record.getMessage())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3, help="runs of the three sweeps, interleaved; medians")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("engine.loading").setLevel(logging.INFO)
    import diffusers

    diffusers.utils.logging.set_verbosity_error()
    run_sweep("model=tiny,tiny-animate", 1)  # builds both tiny models into the workspace, not timed
    axes = ("model=tiny", "model=tiny-animate", "model=tiny,tiny-animate")
    runs = [[run_sweep(axis, args.seeds) for axis in axes] for _ in range(args.reps)]  # interleaved
    sweeps = []
    for index, axis in enumerate(axes):
        seconds = statistics.median(rep[index]["seconds"] for rep in runs)
        sweeps.append({**runs[0][index], "seconds": seconds,
                       "seconds_per_cell": round(seconds / runs[0][index]["cells"], 2),
                       "seconds_each_run": [rep[index]["seconds"] for rep in runs]})
    alone = sweeps[0]["seconds"] + sweeps[1]["seconds"]
    result = {"machine": "this project's CPU (2 cores)", "settings": SETTINGS, "seeds": args.seeds, "reps": args.reps,
              "sweeps": sweeps, "mixed_over_separate": round(sweeps[2]["seconds"] / alone, 3)}
    log_and_save(result, args.json, logger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
