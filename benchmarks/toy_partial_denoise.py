"""Where does the toy's grain come from: the last, low-noise steps or the first, high-noise ones?

    python benchmarks/toy_partial_denoise.py [--model toy] [--seeds 3] [--json PATH]

Each held-out clip's own latents are noised to a level s and sampled from s down to 0 (flow-match Euler on
the toy's shift-3, 10-step schedule, cut at s; guidance 5 on every step), decoded and scored against the
truth. From s = 0.25 or 0.5 the model only has to finish a clip that is already laid out; from 1 it draws
everything (a default generation). Scores at a low s near the VAE's own round trip (`toy eval`) say the
low-noise steps are sound and the loss is made early.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

STARTS = (0.25, 0.5, 0.75, 1.0)


def shifted_schedule(steps: int = 10, shift: float = 3.0) -> list[float]:
    """The noise levels of a default toy generation: evenly spaced, then through Wan's flow shift."""
    return [shift * u / (1 + (shift - 1) * u) for u in np.linspace(1, 0, steps + 1)[:-1]]


def finish_from(pipe, sample, target, start: float, seed: int = 0) -> np.ndarray:
    """Clip `sample` generated from its own latents `target` noised to `start`: frames, uint8 [T, H, W, 3]."""
    import torch
    from PIL import Image

    from engine.toy import world

    sigmas = [s for s in shifted_schedule() if s <= start + 1e-6]
    noise = torch.randn(target.shape, generator=torch.Generator().manual_seed(seed))
    latents = (1 - sigmas[0]) * target + sigmas[0] * noise
    out = pipe(video=[Image.fromarray(frame) for frame in sample.pose_video],
               reference_images=[Image.fromarray(sample.reference)], prompt=sample.prompt.lower(),
               negative_prompt="", height=world.HEIGHT, width=world.WIDTH, num_frames=len(sample.video),
               num_inference_steps=len(sigmas), guidance_scale=5.0, latents=latents, sigmas=sigmas,
               output_type="np", max_sequence_length=64).frames[0]
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--seeds", type=int, default=3, help="held-out clips")
    parser.add_argument("--json")
    args = parser.parse_args()

    from diffusers import FlowMatchEulerDiscreteScheduler

    from engine.toy import world
    from engine.toy.build import engine_for
    from engine.toy.evaluate import heldout_seeds, score_clip
    from engine.toy.training import WorldEncoder

    pipe = engine_for(args.model).load()
    # Shift 1: the given sigmas are already shifted, as a default generation's are.
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(dict(pipe.scheduler.config), shift=1.0)
    encoder = WorldEncoder(pipe)
    scores = {start: [] for start in STARTS}
    for seed in heldout_seeds(args.seeds):
        sample = world.make_sample(seed)
        target = encoder.encode_samples([sample])[0]["target"]
        for start in STARTS:
            scores[start].append(score_clip(finish_from(pipe, sample, target, start), sample))
    results = {"model": args.model, "clips": args.seeds, "starts": {}}
    for start, clips in scores.items():
        mean = {name: float(np.mean([getattr(clip, name) for clip in clips]))
                for name in ("silhouette_precision", "placement_precision", "colour_match", "psnr")}
        results["starts"][f"{start:g}"] = mean
        print(f"from noise {start:g} ({sum(s <= start + 1e-6 for s in shifted_schedule())} steps): figure pixels on "
              f"the silhouette {mean['silhouette_precision']:.3f}, placement {mean['placement_precision']:.3f}, "
              f"part colours {mean['colour_match']:.3f}, PSNR {mean['psnr']:.2f} dB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
