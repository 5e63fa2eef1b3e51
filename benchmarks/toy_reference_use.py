"""Does a toy transformer read its reference image? One denoising step, with the reference swapped for the same
figure in other clothes, on held-out clips.

    python benchmarks/toy_reference_use.py [--prompt scene|full] [--clips 6] toy workspace/exp/pipeline [...]

For each clip the x0 prediction from the noisy clip is made twice: with its own reference, and with a
recoloured one (evaluate.other_look: new top, trousers and shoes). Both are scored, on the figure's latent
positions only, against the clip in its own clothes and against the same clip in the new clothes. A model
that reads its reference moves toward the new clothes when given the new reference: "pull" is how much of the
distance between the two clips' latents the prediction crosses (0: it ignores the reference; 1: it follows it
all the way); "reach" is how far it moves at all, in any direction, against that same distance. With `--prompt scene` the prompt names only the action and the floor, so the reference is the
only place the clothes can come from; with `--prompt full` the prompt names the old clothes too.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIGMAS = (0.95, 0.8, 0.5, 0.2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model names or toy run pipeline folders")
    parser.add_argument("--prompt", choices=("scene", "full"), default="scene")
    parser.add_argument("--clips", type=int, default=6)
    args = parser.parse_args(argv)

    import torch

    from engine.toy import evaluate, world
    from engine.toy.build import engine_for
    from engine.toy.training import WorldEncoder, figure_latent_mask

    samples = [world.make_sample(seed) for seed in evaluate.heldout_seeds(args.clips)]
    recoloured = [world.recoloured(sample, evaluate.other_look(sample.look)) for sample in samples]
    print(f"{args.clips} held-out clips, {args.prompt} prompts; pull toward the new reference's clothes on the "
          f"figure's latents (0 ignores the reference, 1 follows it)")
    print(f"{'model':>28} " + " ".join(f"{f'sigma {s}':>10}" for s in SIGMAS))
    for name in args.models:
        engine = engine_for(name)
        pipe = engine.load()
        encoder = WorldEncoder(pipe)
        old, new = encoder.encode_samples(samples), encoder.encode_samples(recoloured)
        pulls = {sigma: [] for sigma in SIGMAS}
        reach = {sigma: [] for sigma in SIGMAS}  # how far it moves at all, in any direction
        for index, sample in enumerate(samples):
            text = world.scene_prompt(sample.look, sample.motion) if args.prompt == "scene" else sample.prompt
            prompt = engine.prompt_embedding(text).float().cpu()
            figure = figure_latent_mask(sample.parts, grow_px=0) > 0  # [1, 1, f, h, w]: the clip's frames
            target_old, target_new = old[index]["target"], new[index]["target"]
            generator = torch.Generator().manual_seed(index)
            noise = torch.randn(target_old.shape, generator=generator)
            for sigma in SIGMAS:
                noisy = (1 - sigma) * target_old + sigma * noise
                predictions = []
                for conditioning in (old[index]["conditioning"], new[index]["conditioning"]):
                    with torch.no_grad():
                        velocity = pipe.transformer(hidden_states=noisy, timestep=torch.tensor([sigma * 1000]),
                                                    encoder_hidden_states=prompt, control_hidden_states=conditioning,
                                                    return_dict=False)[0]
                    predictions.append((noisy - sigma * velocity)[:, :, 1:])  # x0 of the clip's frames
                mask = figure.expand_as(predictions[0])
                gap = (target_new - target_old)[:, :, 1:][mask]
                moved = (predictions[1] - predictions[0])[mask]
                # The share of the old -> new latent distance the new reference moves the prediction along.
                pulls[sigma].append(float((moved * gap).sum() / (gap * gap).sum().clamp_min(1e-8)))
                reach[sigma].append(float(moved.abs().mean() / gap.abs().mean().clamp_min(1e-8)))
        print(f"{name[-28:]:>28} " + " ".join(f"{sum(p) / len(p):>10.4f}" for p in pulls.values()) + "   pull")
        print(f"{'':>28} " + " ".join(f"{sum(r) / len(r):>10.4f}" for r in reach.values()) + "   reach")
    return 0


if __name__ == "__main__":
    sys.exit(main())
