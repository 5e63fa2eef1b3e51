"""Toy pipelines side by side on the same held-out clips: the shipped toy against a candidate run's.

    python -m research.toy_side_by_side [CLIPS] [MODEL ...]        # e.g. 8 toy workspace/vae-leg/pipeline

Each model (a name, or a toy run's pipeline folder) generates every held-out clip with its default settings,
interleaved clip by clip, each clip's encodes cached first; then the unseen stick-figure walk. Printed per
model: the `toy eval` headline scores (figure pixels on the true silhouette, silhouette covered, the same
against the floor the model drew, part colours, the floor's distance from the prompt's, PSNR) and figure
speed / skeleton speed on the walk. A quick check between legs; `toy eval` gives the whole report.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

MEASURES = ("silhouette_precision", "silhouette_recall", "placement_precision", "colour_match",
            "background_distance", "psnr")


def main(clips: int, models: list[str]):
    from engine.toy.factory import evaluate, walk
    from engine.toy import scoring
    from engine.toy.factory.build import engine_for

    engines = {model: engine_for(model) for model in models}
    scores = {model: [] for model in models}
    with tempfile.TemporaryDirectory() as tmp:
        samples, inputs = evaluate.heldout_inputs(Path(tmp), clips)
        for engine in engines.values():
            evaluate.cache_inputs(engine, inputs)
        for sample, fields in zip(samples, inputs):  # interleaved: a slow minute falls on every model alike
            for model, engine in engines.items():
                clip = scoring.score_clip(engine.generate(engine.default_request(**fields)).frames, sample)
                scores[model].append([getattr(clip, name) for name in MEASURES])
        for model, engine in engines.items():
            mean = dict(zip(MEASURES, np.nanmean(np.array(scores[model], dtype=float), axis=0)))
            walked = walk.unseen_walk(engine, Path(tmp) / f"walk-{len(model)}-{abs(hash(model))}")
            print(f"{model}: precision {mean['silhouette_precision']:.3f} recall {mean['silhouette_recall']:.3f} "
                  f"placement {mean['placement_precision']:.3f} colours {mean['colour_match']:.3f} floor "
                  f"{mean['background_distance']:.1f} PSNR {mean['psnr']:.2f} walk {walked['speed_ratio']:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8, sys.argv[2:] or ["toy"])
