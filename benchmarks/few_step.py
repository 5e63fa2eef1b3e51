"""Sampling profiles side by side: seconds per step, whole-video time and quality, in one run.

    python -m benchmarks.few_step [--model toy] [--seeds 3] [--json PATH]

Each of the model's profiles (default, and on the toy Euler at 8 and 4 steps) generates the same held-out
world clips. Per profile: s/step, seconds per video, and the toy's ground-truth scores (silhouette
precision / recall, part colours). Times are this machine's; the ratios to the default carry over.
Few steps help only with a step-distilled LoRA; the toy has none, so this shows what the steps cost
without one. For the grid to look at: `python -m experiments sweep toy-profiles --out DIR --model toy`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()

    from engine.toy.factory.build import engine_for
    from engine.toy.factory.evaluate import cache_inputs, heldout_inputs
    from engine.toy.scoring import score_clip

    engine = engine_for(args.model)
    engine.load()
    results = {"model": engine.spec.name, "profiles": {}}
    with tempfile.TemporaryDirectory() as tmp:
        samples, inputs = heldout_inputs(Path(tmp), args.seeds)
        cache_inputs(engine, inputs)  # every profile then finds each clip's encodes cached alike, as in a sweep
        for name in engine.profiles:
            rows = []
            for sample, fields in zip(samples, inputs):
                request = engine.default_request(profile=name, **fields)
                started = time.perf_counter()
                result = engine.generate(request)
                seconds = time.perf_counter() - started
                scores = score_clip(result.frames, sample)
                rows.append({"seed": sample.seed, "steps": request.num_inference_steps, "seconds": seconds,
                             "s_per_step": result.timings["s_per_step"],
                             "precision": scores.silhouette_precision, "recall": scores.silhouette_recall,
                             "colour_match": scores.colour_match})
            results["profiles"][name] = rows
        base = np.mean([r["seconds"] for r in results["profiles"]["default"]])
        for name, rows in results["profiles"].items():
            mean = {key: float(np.nanmean([r[key] for r in rows]))
                    for key in ("seconds", "s_per_step", "precision", "recall", "colour_match")}
            results["profiles"][name] = {"rows": rows, "mean": mean, "time_vs_default": mean["seconds"] / base}
            print(f"{name:12s} {rows[0]['steps']:3d} steps  {mean['s_per_step']:.3f} s/step  "
                  f"{mean['seconds']:.2f} s/video ({mean['seconds'] / base:.2f}x default)  precision "
                  f"{mean['precision']:.2f} recall {mean['recall']:.2f} colours {mean['colour_match']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
