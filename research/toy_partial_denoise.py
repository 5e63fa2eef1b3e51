"""Where does the toy's grain come from: the last, low-noise steps or the first, high-noise ones?

    python -m research.toy_partial_denoise [--model toy] [--seeds 3] [--json PATH]

Each held-out clip's own latents are noised to the level a default generation's step k starts from, and
sampled down its last steps from there (flow-match Euler on the default schedule's own noise levels, the toy's
10 steps at shift 3; guidance 5 on every step), decoded and scored against the truth. From the last 1 or 2
steps (noise 0.25 / 0.43) the model only has to finish a clip that is already laid out; from all 10 it draws
everything (a default generation). Scores at a low s near the VAE's own round trip (`toy eval`) say the
low-noise steps are sound and the loss is made early.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

LAST_STEPS = (1, 2, 5, 10)  # of a default generation's 10: starting at noise 0.25, 0.43, 0.75 and 1


def finish_from(pipe, sample, target, sigmas: list[float], seed: int = 0) -> np.ndarray:
    """Clip `sample` generated from its own latents `target` noised to the first of `sigmas`, then sampled down
    them: frames, uint8 [T, H, W, 3]."""
    import torch
    from PIL import Image

    from engine.toy import world
    from engine.toy.factory.training import MAX_SEQUENCE_LENGTH

    noise = torch.randn(target.shape, generator=torch.Generator().manual_seed(seed))
    latents = (1 - sigmas[0]) * target + sigmas[0] * noise
    out = pipe(video=[Image.fromarray(frame) for frame in sample.pose_video],
               reference_images=[Image.fromarray(sample.reference)], prompt=sample.prompt.lower(),
               negative_prompt="", height=world.HEIGHT, width=world.WIDTH, num_frames=len(sample.video),
               num_inference_steps=len(sigmas), guidance_scale=5.0, latents=latents, sigmas=sigmas,
               output_type="np", max_sequence_length=MAX_SEQUENCE_LENGTH).frames[0]
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="toy", help="a model name, or a toy run's pipeline folder")
    parser.add_argument("--seeds", type=int, default=3, help="held-out clips")
    parser.add_argument("--json")
    args = parser.parse_args()

    from diffusers import FlowMatchEulerDiscreteScheduler

    from engine.toy import world
    from engine.toy.factory.build import engine_for
    from engine.toy.world import heldout_seeds
    from engine.toy.scoring import score_clip
    from engine.toy.factory.training import WorldEncoder

    engine = engine_for(args.model)
    # A default generation's noise levels, its flow shift applied (10 steps, shift 3 on the toy).
    schedule = engine.noise_levels(engine.default_request(control_video=engine.sample_inputs()["control_video"]))
    pipe = engine.load()
    # Shift 1: the given sigmas are already shifted, as a default generation's are.
    pipe.scheduler = FlowMatchEulerDiscreteScheduler.from_config(dict(pipe.scheduler.config), shift=1.0)
    encoder = WorldEncoder(pipe)
    scores = {steps: [] for steps in LAST_STEPS}
    for seed in heldout_seeds(args.seeds):
        sample = world.make_sample(seed)
        target = encoder.encode_samples([sample])[0]["target"]
        for steps in LAST_STEPS:
            scores[steps].append(score_clip(finish_from(pipe, sample, target, schedule[-steps:]), sample))
    results = {"model": args.model, "clips": args.seeds, "starts": {}}
    for steps, clips in scores.items():
        mean = {name: float(np.mean([getattr(clip, name) for clip in clips]))
                for name in ("silhouette_precision", "placement_precision", "colour_match", "psnr")}
        start = schedule[-steps]
        results["starts"][f"{start:.3f}"] = {"steps": steps, **mean}
        print(f"from noise {start:.2f} (the last {steps} steps): figure pixels on "
              f"the silhouette {mean['silhouette_precision']:.3f}, placement {mean['placement_precision']:.3f}, "
              f"part colours {mean['colour_match']:.3f}, PSNR {mean['psnr']:.2f} dB")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
