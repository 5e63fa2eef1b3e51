"""Do the toy VAE's latents still hold the clothes' colours, or has the encoder dropped them?

    python -m research.toy_latent_probe [--clips 200] [--model toy] [--json PATH]

The shipped VAE gives the clothes back greyed (research/toy_vae_ceiling.py). A decoder leg can fix that only if
the colours are still in the latents. So a probe is fitted to read them out: from each latent pixel and its 3x3
neighbours (every channel) to the mean colour of the 4x4 pixel block it covers, in each frame of its latent frame
(the first latent frame holds one frame, each later one four). Two probes, both fitted on `--clips` training clips
with the figure's blocks weighted 10x, as the VAE's loss weights them: ridge regression, and a two-layer MLP.
Their block colours are scored on the identity probe's held-out clips (4, each in two costumes) as the ceiling
scores the VAE: the clothes' colours at the limbs' midpoints. If neither reads the colours better than the VAE's
own decoder does, the encoder is where they are lost, and only a new encoder (and a transformer trained on its
latents) can bring them back.
"""

from __future__ import annotations

import argparse
import logging
import os

from benchmarks.report import log_and_save

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

logger = logging.getLogger("research.toy_latent_probe")

FIGURE_WEIGHT = 10.0


def latent_groups(frames: int) -> list[list[int]]:
    """The frames each latent frame codes: frame 0 alone, then groups of 4 (Wan's causal VAE)."""
    return [[0]] + [list(range(1 + 4 * (i - 1), 1 + 4 * i)) for i in range(1, (frames - 1) // 4 + 1)]


def block_means(values: np.ndarray) -> np.ndarray:
    """[T, H, W, ...] -> [T, H/4, W/4, ...] float: each 4x4 block's mean (a video's colours, a mask's share)."""
    frames, height, width = values.shape[:3]
    blocks = values.reshape(frames, height // 4, 4, width // 4, 4, *values.shape[3:])
    return blocks.astype(np.float32).mean(axis=(2, 4))


def neighbourhood_features(latents: np.ndarray) -> np.ndarray:
    """[C, T, h, w] -> [9C + 1, T, h, w]: every channel at each of the 3x3 neighbours, and a constant."""
    channels, frames, height, width = latents.shape
    padded = np.pad(latents, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    shifted = [padded[:, :, dy:dy + height, dx:dx + width] for dy in range(3) for dx in range(3)]
    return np.concatenate([*shifted, np.ones((1, frames, height, width), np.float32)], axis=0)


class LatentProbe:
    """Rows of (features, block colours of the latent frame's frames, weight), kept apart for the first latent
    frame (one frame) and the others (four)."""

    def __init__(self, vae):
        self.vae = vae
        self.rows = {"first": ([], [], []), "rest": ([], [], [])}

    def features(self, video: np.ndarray) -> np.ndarray:
        import torch

        from engine.toy.factory.vae_training import to_tensor

        with torch.no_grad():
            latents = self.vae.encode(to_tensor(video)).latent_dist.mode()[0]
        return neighbourhood_features(latents.float().numpy())

    def add(self, video: np.ndarray, figure: np.ndarray):
        features, colours = self.features(video), block_means(video)
        figure_blocks = block_means(figure)
        for index, frames in enumerate(latent_groups(len(video))):
            inputs, targets, weights = self.rows["first" if index == 0 else "rest"]
            inputs.append(features[:, index].reshape(len(features), -1).T)
            targets.append(np.concatenate([colours[frame].reshape(-1, 3) for frame in frames], axis=1))
            weights.append(1 + FIGURE_WEIGHT * np.max([figure_blocks[frame].reshape(-1) for frame in frames], axis=0))

    def stacked(self, kind: str):
        inputs, targets, weights = self.rows[kind]
        return np.concatenate(inputs), np.concatenate(targets), np.concatenate(weights)

    def read(self, video: np.ndarray, predict) -> np.ndarray:
        """The video as the probe reads it from the latents: each 4x4 block in its predicted colour."""
        features = self.features(video)
        out = np.zeros_like(block_means(video))
        for index, frames in enumerate(latent_groups(len(video))):
            predicted = predict["first" if index == 0 else "rest"](features[:, index].reshape(len(features), -1).T)
            for slot, frame in enumerate(frames):
                out[frame] = predicted[:, 3 * slot:3 * slot + 3].reshape(out.shape[1], out.shape[2], 3)
        upsampled = np.repeat(np.repeat(out, 4, axis=1), 4, axis=2)
        return np.clip(upsampled, 0, 255).round().astype(np.uint8)


def fit_ridge(inputs, targets, weights, penalty: float = 1e-2):
    weighted = inputs * weights[:, None]
    solution = np.linalg.solve(weighted.T @ inputs + penalty * np.eye(inputs.shape[1]), weighted.T @ targets)
    return lambda features: features @ solution


def fit_mlp(inputs, targets, weights, steps: int = 3000, seed: int = 0):
    import torch

    x, y = torch.from_numpy(inputs).float(), torch.from_numpy(targets).float() / 127.5 - 1
    w = torch.from_numpy(weights).float()
    mean, std = x.mean(0), x.std(0).clamp_min(1e-3)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 512), torch.nn.GELU(), torch.nn.Linear(512, 512),
                              torch.nn.GELU(), torch.nn.Linear(512, y.shape[1]))
    optimizer = torch.optim.AdamW(net.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        index = torch.randint(0, len(x), (2048,), generator=generator)
        loss = (w[index, None] * (net((x[index] - mean) / std) - y[index]).abs()).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def predict(features):
        with torch.no_grad():
            return (net((torch.from_numpy(features).float() - mean) / std).numpy() + 1) * 127.5
    return predict


def measure(clips: int, model: str = "toy") -> dict:
    from engine.engine import Engine
    from engine.toy import world
    from engine.toy.factory import evaluate
    from engine.toy.factory.round_trips import decode_round_trip
    from engine.toy.scoring import part_colour_checks

    vae = Engine.from_name(model).load().vae.float()
    probe = LatentProbe(vae)
    rng = np.random.default_rng(5)
    for _ in range(clips):
        sample = world.make_sample(int(rng.integers(0, world.HELDOUT_SEED_START)))
        probe.add(sample.video, sample.parts > 0)
    readers = {"ridge": {kind: fit_ridge(*probe.stacked(kind)) for kind in probe.rows},
               "mlp": {kind: fit_mlp(*probe.stacked(kind)) for kind in probe.rows}}
    scores = {name: [] for name in (*readers, "vae_decoder")}
    for seed in world.heldout_seeds(4):
        first = world.make_sample(seed)
        for sample in (first, world.recoloured(first, evaluate.other_look(first.look))):
            for name, predict in readers.items():
                scores[name] += part_colour_checks(probe.read(sample.video, predict), sample,
                                                   parts=evaluate.CLOTHING_PARTS)
            scores["vae_decoder"] += part_colour_checks(decode_round_trip(vae, sample.video), sample,
                                                        parts=evaluate.CLOTHING_PARTS)
    return {"model": model, "training_clips": clips,
            **{f"{name}_clothes_colour_match": float(np.mean(values)) for name, values in scores.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=200, help="training clips the probes are fitted on")
    parser.add_argument("--model", default="toy", help="a model name or a toy run's pipeline folder")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = measure(args.clips, args.model)
    log_and_save(result, args.json, logger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
