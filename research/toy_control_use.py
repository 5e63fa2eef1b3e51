"""Does a toy transformer use its control? x0 error from noise with each clip's own conditioning against
another clip's, at several noise levels, on encoded training clips.

    python -m research.toy_control_use workspace/toy-train/transformer-run/checkpoint-003000/transformer [...]
    python -m research.toy_control_use --heldout assets/toy/transformer workspace/toy-train/pipeline/transformer

Reads the run's encoded cache (workspace/toy-train/encoded.safetensors) and its pipeline-init for the
prompt encoder; --heldout encodes held-out world seeds instead (a model that only memorised its training
clips does worse there). Same error with either control: the control is ignored. The last column, each clip's error
around its own mean, is what a model that knew only the clip's colours would reach.
"""

from __future__ import annotations

import sys
from pathlib import Path

RUN = Path("workspace/toy-train")
SIGMAS = (0.999, 0.8, 0.5)


def main(folders: list[str], clips: int = 6, heldout: bool = False):
    import torch
    from diffusers import WanVACETransformer3DModel

    from engine.engine import Engine
    from engine.toy.factory.build import ToyRecipe, toy_spec
    from engine.toy import world
    from engine.toy.world import heldout_seeds
    from engine.toy.world import training_seeds
    from engine.toy.factory.training import encode_world, figure_weight

    engine = Engine(toy_spec(str(RUN / "pipeline-init"), name="toy-train"), device="cpu")
    if heldout:
        seeds = heldout_seeds(clips)
        samples = encode_world(engine, seeds)
    else:
        seeds = training_seeds(ToyRecipe().clips, ToyRecipe().seed)[:clips]
        samples = encode_world(engine, seeds, cache=RUN / "encoded.safetensors")
    # Where the figure is on the latent grid: the control's whole job, diluted in the full-frame error.
    figures = [(figure_weight(world.make_sample(seed).parts, 2.0, grow_px=0) > 1).float() for seed in seeds]
    for folder in folders:
        model = WanVACETransformer3DModel.from_pretrained(folder).eval()
        for sigma in SIGMAS:
            own, other, spread, own_figure, other_figure, by_frame = [], [], [], [], [], []
            generator = torch.Generator().manual_seed(0)
            for index, sample in enumerate(samples):
                noise = torch.randn(sample.target.shape, generator=generator)
                noisy = (1 - sigma) * sample.target + sigma * noise
                figure = figures[index]
                for errors, on_figure, conditioning in (
                        (own, own_figure, sample.conditioning),
                        (other, other_figure, samples[(index + 1) % len(samples)].conditioning)):
                    with torch.no_grad():
                        velocity = model(hidden_states=noisy, timestep=torch.tensor([sigma * 1000]),
                                         encoder_hidden_states=sample.prompt_embeds,
                                         control_hidden_states=conditioning, return_dict=False)[0]
                    squared = (noisy - sigma * velocity - sample.target)[:, :, 1:] ** 2
                    errors.append(float(squared.mean()))
                    if errors is own:
                        by_frame.append(squared.mean(dim=(0, 1, 3, 4)))
                    on_figure.append(float((squared * figure).sum() / (figure.sum() * squared.shape[1])))
                clip = sample.target[:, :, 1:]
                spread.append(float(((clip - clip.mean(dim=(2, 3, 4), keepdim=True)) ** 2).mean()))
            mean = lambda values: sum(values) / len(values)  # noqa: E731
            print(f"{folder}  sigma {sigma}: own control {mean(own):.3f}, another clip's {mean(other):.3f}, "
                  f"each clip's mean {mean(spread):.3f}; on the figure: own {mean(own_figure):.3f}, "
                  f"another clip's {mean(other_figure):.3f}; own, by latent frame (the first is frame 0 alone): "
                  + " / ".join(f"{v:.3f}" for v in (sum(by_frame) / len(by_frame)).tolist()))


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main([a for a in arguments if a != "--heldout"], clips=12 if "--heldout" in arguments else 6,
         heldout="--heldout" in arguments)
