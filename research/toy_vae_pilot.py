"""VAE geometries for identity, from scratch on equal budgets: which one keeps the clothes' colours?

    python -m research.toy_vae_pilot [--steps 300] [--variant NAME ...] [--out workspace/vae-pilot] [--json PATH]

The shipped toy's identity stops where its VAE does: the same true clips through the VAE alone keep the clothes'
colours at 0.56 of limb-frames (research/toy_vae_ceiling.py), under the 0.8 the identity target asks of whole
generations. Each variant here trains the toy's VAE recipe (engine/toy/factory/vae_training.py) from random
weights for the same number of steps, with one change, then measures the same ceiling on the identity probe's
held-out clips: clothes colours, the pulse where a latent frame begins, and the round trip's PSNR. Each variant
checkpoints in its own folder under --out and resumes there.

Variants:
- z16: the shipped geometry (16 latent channels for each 4x4x4 block of pixels);
- z48: 48 latent channels, so one latent pixel can hold its 4x4 pixels' colours (3 x 16) and thin limbs need
  not share a channel budget with the floor;
- z16-temporal: the shipped geometry with the loss on frame-to-frame change from step 1 (the pulse);
- z48-temporal: both;
- z48-colour: 48 channels and a loss on each 4x4 block's mean colour, weighted on the figure (the VAE greys the
  clothes, though those block means alone keep 0.99 of their colours);
- z48-figure-crops: 48 channels and every training crop placed on the figure.
A wider latent costs the transformer only its patch embedding and its output projection; its tokens stay.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("research.toy_vae_pilot")

VARIANTS = {
    "z16": ({}, {}),
    "z48": ({"z_dim": 48}, {}),
    "z16-temporal": ({}, {"temporal_weight": 1.0}),
    "z48-temporal": ({"z_dim": 48}, {"temporal_weight": 1.0}),
    "z48-colour": ({"z_dim": 48}, {"block_colour_weight": 1.0}),
    "z48-figure-crops": ({"z_dim": 48}, {"crops_on_figure": True}),
}


def run_variant(name: str, steps: int, out: Path, clips: int) -> dict:
    from engine.toy.factory.vae_training import VaeTrainConfig, train_vae
    from research.toy_vae_ceiling import measure

    architecture, recipe = VARIANTS[name]
    config = replace(VaeTrainConfig(), steps=steps, **recipe)
    started = time.perf_counter()
    vae = train_vae(out / name, config, architecture=architecture)
    seconds = time.perf_counter() - started
    result = {"variant": name, "steps": steps, "architecture": architecture, "recipe": recipe,
              "train_seconds_this_run": seconds, **measure(clips, vae)}
    logger.info("%s", json.dumps(result))
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--variant", action="append", choices=list(VARIANTS), help="repeatable; default all")
    parser.add_argument("--clips", type=int, default=4, help="held-out clips for the ceiling (each in two costumes)")
    parser.add_argument("--out", default="workspace/vae-pilot")
    parser.add_argument("--json", help="also write the table here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = [run_variant(name, args.steps, Path(args.out), args.clips) for name in args.variant or VARIANTS]
    for row in rows:
        logger.info("%-14s clothes %.3f  pulse %.2f  PSNR %.2f dB", row["variant"], row["vae_clothes_colour_match"],
                    row["seam_ratio_vae_round_trip"], row["round_trip_psnr_db"])
    if args.json:
        Path(args.json).write_text(json.dumps({"steps": args.steps, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
