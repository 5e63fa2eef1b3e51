"""Does a decoder tuned on the toy's own generations draw them better? An experiment for issue 13.

Every toy generation leaves through the VAE's decoder, which learned on the encoder's latents; the transformer's
latents are never exactly those (decoder leg 2 met that gap with noise). Here the decoder meets the real gap:

1. the shipped pipeline generates clips of world seeds no leg trained on (default settings, seed 1 + i), and
   the latents it hands the decoder are kept;
2. a copy of the decoder trains on crops of (generated latent -> the true clip) for `--share` of its steps,
   and on the usual round trip (the true clip's latents, noised as in decoder leg 2) for the rest;
3. the 8 held-out clips' generations (the latents `toy eval` decodes) are decoded by the shipped and the tuned
   decoder side by side and scored as `toy eval` scores them, with the VAE's round trip (its ceiling).

    python -m research.toy_decoder_on_samples [--clips 240] [--steps 300] [--share 0.5]
        [--learning-rate 1.5e-4] [--figure-weight 10] [--json PATH]

--figure-weight 0 trains the generated pairs on the floor only (the figure learns from true latents alone).
About 40 minutes on 2 CPU cores at the defaults (6 s a clip to generate, 2.2 s a step); the decoder is not saved.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

logger = logging.getLogger("toy_decoder_on_samples")

LATENT_CROP = (16, 28)  # latent rows, columns: 64x112 pixels at the toy's 4x spatial compression


def unseen_seeds(count: int, seed: int = 123) -> list[int]:
    """World seeds below the held-out range that none of the shipped toy's legs trained on."""
    from engine.toy.factory.build import leg_seeds
    from engine.toy.world import HELDOUT_SEED_START

    record = json.loads((ROOT / "assets" / "toy" / "toy_run.json").read_text())
    counts = [leg["clips"] for leg in record.get("legs", [])]
    trained = set()
    for index, clips in enumerate(counts):
        trained |= set(leg_seeds(record["recipe"]["clips"], clips, record["recipe"]["seed"], tuple(counts[:index])))
    rng = np.random.default_rng(seed)
    drawn = [int(s) for s in rng.integers(0, HELDOUT_SEED_START, count * 2)]
    return [s for s in dict.fromkeys(drawn) if s not in trained][:count]


def generated_latents(engine, seeds: list[int], noise_seeds: list[int], folder: Path) -> dict:
    """{world seed: the latents the decoder receives for its default generation} [C, T', H', W']."""
    from engine.toy.factory import evaluate
    from engine.toy import world

    pipe = engine.load()
    captured = []
    decode = pipe.vae.decode

    def keep(latents, *args, **kwargs):
        captured.append(latents.detach().float().cpu()[0])
        return decode(latents, *args, **kwargs)

    pipe.vae.decode = keep
    latents, started = {}, time.perf_counter()
    try:
        for index, (seed, noise_seed) in enumerate(zip(seeds, noise_seeds)):
            evaluate.generate(engine, world.make_sample(seed), folder / str(seed), seed=noise_seed)
            latents[seed] = captured[-1]
            if (index + 1) % 20 == 0:
                logger.info("generated %d/%d clips (%.0f s)", index + 1, len(seeds), time.perf_counter() - started)
    finally:
        pipe.vae.decode = decode
    return latents


def generated_pair_batch(rng, latents: dict, samples: dict, figure_weight: float, batch: int = 2):
    """Crops of (generated latent, true clip, pixel weights) from random unseen clips."""
    import torch

    from engine.toy import scoring
    from engine.toy.factory.vae_training import to_tensor

    rows, cols = LATENT_CROP
    seeds = list(latents)
    crops = []
    for _ in range(batch):
        seed = seeds[int(rng.integers(len(seeds)))]
        z, sample = latents[seed], samples[seed]
        top, left = int(rng.integers(0, z.shape[2] - rows + 1)), int(rng.integers(0, z.shape[3] - cols + 1))
        pixels = (slice(None), slice(4 * top, 4 * (top + rows)), slice(4 * left, 4 * (left + cols)))
        if figure_weight:
            weight = 1 + figure_weight * (sample.parts[pixels] > 0)
        else:
            weight = 1 - scoring.grow(sample.parts > 0, 3)[pixels]  # the floor only
        crops.append((z[:, :, top:top + rows, left:left + cols], to_tensor(sample.video[pixels]),
                      torch.from_numpy(weight.astype(np.float32))[None, None]))
    return (torch.stack([c[0] for c in crops]), torch.cat([c[1] for c in crops]), torch.cat([c[2] for c in crops]))


def tune_decoder(vae, latents: dict, args):
    """Train the decoder in place: generated pairs for args.share of the steps, the round trip for the rest."""
    import torch

    from engine.toy import world
    from engine.toy.factory.vae_training import VaeTrainConfig, _schedule, training_batch, vae_loss

    for parameter in [*vae.encoder.parameters(), *vae.quant_conv.parameters()]:
        parameter.requires_grad_(False)
    parameters = [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]
    optimizer = torch.optim.AdamW(parameters, lr=args.learning_rate, weight_decay=0.0)
    config = VaeTrainConfig(latent_noise=0.5)
    samples = {seed: world.make_sample(seed) for seed in latents}
    vae.train()
    started = time.perf_counter()
    for step in range(args.steps):
        rng = np.random.default_rng([7, step])
        for group in optimizer.param_groups:
            group["lr"] = args.learning_rate * _schedule(step, 20, args.steps)
        if rng.random() < args.share:
            z, target, weight = generated_pair_batch(rng, latents, samples, args.figure_weight)
            error = vae.decode(z).sample - target
            loss = (weight / weight.mean() * (error.abs() + error ** 2)).mean()
        else:
            batch, weights = training_batch(rng, config)
            generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
            loss, _ = vae_loss(vae, batch, config.latent_l2, weights, encoder_frozen=True, latent_noise=0.5,
                               generator=generator)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if (step + 1) % 50 == 0:
            logger.info("decoder step %d/%d: loss %.4f (%.0f s)", step + 1, args.steps, float(loss),
                        time.perf_counter() - started)
    vae.eval()


def scores(vae, latents: dict) -> dict:
    """The held-out generations decoded by `vae`, scored as `toy eval` scores them, and the VAE's round trip."""
    import torch

    from engine.toy.factory import round_trips
    from engine.toy import scoring, world

    samples = [world.make_sample(seed) for seed in latents]
    clips = []
    with torch.no_grad():
        for sample in samples:
            video = vae.decode(latents[sample.seed][None]).sample[0]
            frames = ((video.permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
            clips.append(scoring.score_clip(frames, sample))
    names = ("silhouette_precision", "placement_precision", "colour_match", "psnr")
    measured = {name: round(float(np.mean([getattr(clip, name) for clip in clips])), 3) for name in names}
    round_trip = round_trips.vae_round_trip(vae, samples)
    measured.update({f"round_trip_{name}": round(round_trip[name], 3)
                     for name in ("silhouette_precision", "colour_match", "psnr")})
    return measured


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=240, help="unseen clips generated for training pairs")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--share", type=float, default=0.5, help="share of steps on generated pairs")
    parser.add_argument("--learning-rate", type=float, default=1.5e-4)
    parser.add_argument("--figure-weight", type=float, default=10.0,
                        help="figure pixels' weight in generated pairs (0: train them on the floor only)")
    parser.add_argument("--json", help="write the scores here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    import copy
    import tempfile

    from engine.engine import Engine
    from engine.records import device_label
    from engine.toy import world

    engine = Engine.from_name("toy")
    started = time.perf_counter()
    heldout = world.heldout_seeds(8)
    with tempfile.TemporaryDirectory() as tmp:
        # Held-out clips at the eval's own noise seed (1); training clips each at their own.
        test = generated_latents(engine, heldout, [1] * len(heldout), Path(tmp) / "heldout")
        seeds = unseen_seeds(args.clips)
        train = generated_latents(engine, seeds, [1 + index for index in range(len(seeds))], Path(tmp) / "train")
    shipped = engine.load().vae
    before = scores(shipped, test)
    logger.info("shipped decoder: %s", before)
    tuned = copy.deepcopy(shipped)
    tune_decoder(tuned, train, args)
    after = scores(tuned, test)
    logger.info("tuned decoder:   %s", after)
    result = {"settings": vars(args), "shipped": before, "tuned": after, "machine": device_label(engine.device),
              "seconds": round(time.perf_counter() - started)}
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
