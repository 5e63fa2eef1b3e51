"""Does a toy transformer read its reference image? One denoising step, with the reference swapped for the same
figure in other clothes, on held-out clips.

    python -m research.toy_reference_use [--prompt scene|full] [--reference neutral|aligned] [--clips 6] toy RUN/pipeline

For each clip the x0 prediction from the noisy clip is made twice: with its own reference, and with a
recoloured one (evaluate.other_look: new top, trousers and shoes). Both are scored, on the figure's latent
positions only, against the clip in its own clothes and against the same clip in the new clothes. A model
that reads its reference moves toward the new clothes when given the new reference: "pull" is how much of the
distance between the two clips' latents the prediction crosses (0: it ignores the reference; 1: it follows it
all the way); "reach" is how far it moves at all, in any direction, against that same distance. With `--prompt scene` the prompt names only the action and the floor, so the reference is the
only place the clothes can come from; with `--prompt full` the prompt names the old clothes too.

The reference reaches the transformer twice: in the VACE conditioning, and as the first latent frame of the
noisy input (WanVACEPipeline denoises that slot with the clip and drops it before decoding; in training it
holds the noised reference). Rows "conditioning" swap the reference in the conditioning only; rows "both"
swap it in the noisy slot too, as a generation whose slot has been denoised toward its reference sees it.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIGMAS = (0.95, 0.8, 0.5, 0.2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model names or toy run pipeline folders")
    parser.add_argument("--prompt", choices=("scene", "full"), default="scene")
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--reference", choices=("neutral", "aligned"), default="neutral",
                        help="aligned: each reference in the pose and place of one of its clip's frames (the "
                             "--aligned-references curriculum), the easiest reference to read")
    args = parser.parse_args(argv)

    import torch

    from engine.toy.factory import evaluate
    from engine.toy import world
    from engine.toy.factory.build import engine_for
    from engine.toy.factory.training import WorldEncoder, aligned_sample, figure_latent_mask

    seeds = world.heldout_seeds(args.clips)
    samples = ([aligned_sample(seed) for seed in seeds] if args.reference == "aligned"
               else [world.make_sample(seed) for seed in seeds])
    recoloured = [world.recoloured(sample, evaluate.other_look(sample.look)) for sample in samples]
    print(f"{args.clips} held-out clips, {args.prompt} prompts; pull toward the new reference's clothes on the "
          f"figure's latents (0 ignores the reference, 1 follows it)")
    print(f"{'model':>28} " + " ".join(f"{f'sigma {s}':>10}" for s in SIGMAS))
    for name in args.models:
        engine = engine_for(name)
        pipe = engine.load()
        encoder = WorldEncoder(pipe)
        old, new = encoder.encode_samples(samples), encoder.encode_samples(recoloured)
        ways = ("conditioning", "both")
        pulls = {way: {sigma: [] for sigma in SIGMAS} for way in ways}
        reach = {way: {sigma: [] for sigma in SIGMAS} for way in ways}  # how far it moves at all, any direction
        for index, sample in enumerate(samples):
            text = world.scene_prompt(sample.look, sample.motion) if args.prompt == "scene" else sample.prompt
            prompt = engine.prompt_embedding(text).float().cpu()
            figure = figure_latent_mask(sample.parts, grow_px=0) > 0  # [1, 1, f, h, w]: the clip's frames
            target_old, target_new = old[index]["target"], new[index]["target"]
            generator = torch.Generator().manual_seed(index)
            noise = torch.randn(target_old.shape, generator=generator)
            for sigma in SIGMAS:
                noisy = (1 - sigma) * target_old + sigma * noise
                # The new reference in the first latent frame only, noised like the rest: the clip stays the old one.
                noisy_new_slot = noisy.clone()
                noisy_new_slot[:, :, :1] = (1 - sigma) * target_new[:, :, :1] + sigma * noise[:, :, :1]
                inputs = {"old": (noisy, old[index]["conditioning"]),
                          "conditioning": (noisy, new[index]["conditioning"]),
                          "both": (noisy_new_slot, new[index]["conditioning"])}
                predictions = {}
                for key, (hidden, conditioning) in inputs.items():
                    with torch.no_grad():
                        velocity = pipe.transformer(hidden_states=hidden, timestep=torch.tensor([sigma * 1000]),
                                                    encoder_hidden_states=prompt, control_hidden_states=conditioning,
                                                    return_dict=False)[0]
                    predictions[key] = (hidden - sigma * velocity)[:, :, 1:]  # x0 of the clip's frames
                mask = figure.expand_as(predictions["old"])
                gap = (target_new - target_old)[:, :, 1:][mask]
                for way in ways:
                    moved = (predictions[way] - predictions["old"])[mask]
                    # The share of the old -> new latent distance the new reference moves the prediction along.
                    pulls[way][sigma].append(float((moved * gap).sum() / (gap * gap).sum().clamp_min(1e-8)))
                    reach[way][sigma].append(float(moved.abs().mean() / gap.abs().mean().clamp_min(1e-8)))
        label = name[-28:]
        for way in ways:
            print(f"{label:>28} " + " ".join(f"{mean(v):>10.4f}" for v in pulls[way].values()) + f"   pull, {way}")
            print(f"{'':>28} " + " ".join(f"{mean(v):>10.4f}" for v in reach[way].values()) + f"   reach, {way}")
            label = ""
    return 0


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


if __name__ == "__main__":
    sys.exit(main())
