"""What the toy's VAE alone gives back of the identity probe's clips: the ceiling for identity and the pulse.

    python -m research.toy_vae_ceiling [--clips 4] [--json PATH]

The identity probe's held-out clips (each in its own costume and in another, evaluate.identity_check) are encoded
and decoded by the shipped toy's VAE with no transformer at all, then scored as generations are: the clothes'
colours at the limbs' midpoints, and the change where each latent frame begins over the change elsewhere
(scoring.latent_seam_ratio), for the true clips and for their round trips.

For scale, the same clips are also scored after the plainest 4x spatial compression there is: each 4x4 block
replaced by its mean colour (3 numbers where the VAE has 16 or 48). What that keeps is what the VAE's geometry
allows; the gap from it to the VAE is what its training leaves out.
"""

from __future__ import annotations

import argparse
import logging
import os

from benchmarks.report import log_and_save

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("research.toy_vae_ceiling")


def measure(clips: int, vae=None) -> dict:
    """The ceiling of `vae` (the shipped toy's when None) on the identity probe's held-out clips."""
    import numpy as np

    from engine.engine import Engine
    from engine.toy import world
    from engine.toy.factory import evaluate
    from engine.toy.factory.round_trips import decode_round_trip
    from engine.toy.scoring import latent_seam_ratio, part_colour_checks, psnr

    vae = vae if vae is not None else Engine.from_name("toy").load().vae
    clothes, block_means, seams_true, seams_vae, psnrs = [], [], [], [], []
    for seed in world.heldout_seeds(clips):
        first = world.make_sample(seed)
        for sample in (first, world.recoloured(first, evaluate.other_look(first.look))):
            decoded = decode_round_trip(vae, sample.video)
            clothes += part_colour_checks(decoded, sample, parts=evaluate.CLOTHING_PARTS)
            block_means += part_colour_checks(block_mean_round_trip(sample.video), sample, parts=evaluate.CLOTHING_PARTS)
            seams_true.append(latent_seam_ratio(sample.video))
            seams_vae.append(latent_seam_ratio(decoded))
            psnrs.append(psnr(decoded, sample.video))
    return {"clips": clips, "vae_clothes_colour_match": float(np.mean(clothes)),
            "block_mean_4x_clothes_colour_match": float(np.mean(block_means)),
            "seam_ratio_true_clips": float(np.mean(seams_true)), "seam_ratio_vae_round_trip": float(np.mean(seams_vae)),
            "round_trip_psnr_db": float(np.mean(psnrs))}


def block_mean_round_trip(video, factor: int = 4):
    """Each factor x factor block of every frame [T, H, W, 3] replaced by its mean colour."""
    import numpy as np

    frames, height, width, channels = video.shape
    blocks = video.reshape(frames, height // factor, factor, width // factor, factor, channels).astype(np.float32)
    means = blocks.mean(axis=(2, 4), keepdims=True)
    return np.broadcast_to(means, blocks.shape).reshape(video.shape).round().astype(np.uint8)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = measure(args.clips)
    log_and_save(result, args.json, logger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
