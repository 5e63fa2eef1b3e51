"""Guidance that stops partway down the noise (the request's guidance_stop), side by side in one run.

    python -m benchmarks.guidance_stop [--model toy] [--seeds 8] [--stops 0,0.4,0.6,0.8] [--json PATH]

The same held-out world clips are generated at each stop (0: guidance on every step), and once unguided
(guidance 1) for scale. Per setting: seconds per video and its ratio to guiding every step, the share of steps
guided, and the toy's ground-truth scores: figure pixels on the true silhouette (the floor's grain counts
against it), the same against the floor the model drew, part colours matching the reference (which the
prompt names too, so guidance's work), the floor's distance from the prompt's and PSNR. Times are this
machine's; the ratios carry over.
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

MEASURES = ("seconds", "guided_steps", "precision", "placement", "colour_match", "background_distance", "psnr")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--seeds", type=int, default=8, help="held-out clips")
    parser.add_argument("--stops", default="0,0.4,0.6,0.8", help="guidance stops to compare, comma-separated")
    parser.add_argument("--json")
    args = parser.parse_args()

    from engine.records import device_label
    from engine.toy.factory.build import engine_for
    from engine.toy.factory.evaluate import cache_inputs, heldout_inputs
    from engine.toy.scoring import score_clip

    engine = engine_for(args.model)
    settings = {f"stop {float(stop):g}": {"guidance_stop": float(stop)} for stop in args.stops.split(",")}
    settings["unguided (guidance 1)"] = {"guidance_scale": 1.0}
    results = {"model": engine.spec.name, "machine": device_label(engine.device), "clips": args.seeds, "settings": {}}
    with tempfile.TemporaryDirectory() as tmp:
        samples, inputs = heldout_inputs(Path(tmp), args.seeds)
        cache_inputs(engine, inputs)  # no setting pays a clip's encodes: the first would, otherwise
        rows = {name: [] for name in settings}
        # Interleaved, clip by clip, so a slow minute on a shared machine falls on every setting alike.
        for sample, fields in zip(samples, inputs):
            for name, changes in settings.items():
                request = engine.default_request(**fields, **changes)
                started = time.perf_counter()
                frames = engine.generate(request).frames
                seconds = time.perf_counter() - started
                scores = score_clip(frames, sample)
                rows[name].append({"seed": sample.seed, "seconds": seconds,
                                   "guided_steps": engine.passes_per_step(request) - 1,
                                   "precision": scores.silhouette_precision, "placement": scores.placement_precision,
                                   "colour_match": scores.colour_match,
                                   "background_distance": scores.background_distance, "psnr": scores.psnr})
        for name, changes in settings.items():
            mean = {key: float(np.nanmean([row[key] for row in rows[name]])) for key in MEASURES}
            results["settings"][name] = {"changes": changes, "rows": rows[name], "mean": mean}
    base = results["settings"]["stop 0"]["mean"]["seconds"] if "stop 0" in results["settings"] else None
    for name, entry in results["settings"].items():
        mean = entry["mean"]
        entry["time_vs_every_step"] = mean["seconds"] / base if base else None
        print(f"{name:22s} guided {mean['guided_steps']:.0%} of steps, {mean['seconds']:.2f} s/video"
              + (f" ({entry['time_vs_every_step']:.2f}x)" if base else "")
              + f"  precision {mean['precision']:.3f} placement {mean['placement']:.3f} colours "
              f"{mean['colour_match']:.3f} floor distance {mean['background_distance']:.1f} PSNR {mean['psnr']:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
