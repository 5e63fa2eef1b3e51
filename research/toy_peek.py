"""Look at a toy run before shipping it: held-out clips through a pipeline folder or a checkpoint, scored
against the world's ground truth, and a strip image (rows: true clip, generated, pose; frames 0, 8, 16).

    python -m research.toy_peek workspace/toy-train/pipeline [--clips 4] [--out peek.png]
    python -m research.toy_peek workspace/toy-train/transformer-run/checkpoint-002000

A checkpoint's transformer is put into a copy of the run's pipeline-init (same VAE and text encoder).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pipeline_folder(path: Path, scratch: Path) -> Path:
    if (path / "model_index.json").is_file():
        return path
    folder = scratch / "pipeline"
    shutil.copytree(path.parent.parent / "pipeline-init", folder)
    shutil.rmtree(folder / "transformer")
    shutil.copytree(path / "transformer", folder / "transformer")
    return folder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a pipeline folder, or a checkpoint folder of a toy run")
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--out", default="toy-peek.png")
    args = parser.parse_args()

    import numpy as np
    from PIL import Image

    from engine.engine import Engine
    from engine.toy import world
    from engine.toy.factory.build import toy_spec
    from engine.toy.world import heldout_seeds
    from engine.toy.factory.evaluate import write_inputs
    from engine.toy.scoring import score_clip

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(toy_spec(str(pipeline_folder(Path(args.path), Path(tmp))), name="peek"), device="cpu")
        for seed in heldout_seeds(args.clips):
            sample = world.make_sample(seed)
            frames = engine.generate(engine.default_request(**write_inputs(sample, Path(tmp) / str(seed)))).frames
            s = score_clip(frames, sample)
            print(f"seed {seed}: silhouette precision {s.silhouette_precision:.2f} recall {s.silhouette_recall:.2f}, "
                  f"part colours {s.colour_match:.2f}, background distance {s.background_distance:.0f}, "
                  f"PSNR {s.psnr:.1f} dB")
            picks = [0, len(frames) // 2, len(frames) - 1]
            rows.append(np.concatenate([np.concatenate([sample.video[i], frames[i], sample.pose_video[i]])
                                        for i in picks], axis=1))
    Image.fromarray(np.concatenate(rows)).save(args.out)
    print(args.out)


if __name__ == "__main__":
    main()
