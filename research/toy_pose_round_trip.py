"""What the skeleton can tell the toy transformer: its pose videos through the VAE, frame by frame, for one
or more VAEs side by side.

    python -m research.toy_pose_round_trip [VAE_FOLDER ...] [--clips 8] [--json PATH]

The control reaches a VACE transformer only as the VAE encodes it, so a limb the VAE loses is a limb no
transformer can follow. For each VAE (default: the shipped toy's, assets/toy/vae) on held-out world clips:
- bone pixels given back in their colour, frame by frame (engine/toy/factory/round_trips.py bones_kept): frame 0 has a
  latent of its own, later frames share one latent per four;
- the true clips through the same VAE, scored as generations are (round_trips.vae_round_trip);
- against the first VAE listed: how far each encodes the clips and references from it, RMS in units of the
  first VAE's latent std. The transformer was trained on the first's latents; a small distance on clips and
  references means it still reads them, whatever changed on the pose videos.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402


def encoded(vae, frames: np.ndarray):
    import torch

    from engine.toy.factory.vae_training import to_tensor

    with torch.no_grad():
        return vae.encode(to_tensor(frames)).latent_dist.mode()


def latent_distance(vae, base, samples: list) -> dict:
    """RMS distance between two VAEs' latents of the same clips and references, in the base's latent std."""
    import torch

    std = torch.tensor(base.config.latents_std).view(1, -1, 1, 1, 1)
    rms = lambda a, b: float((((a - b) / std) ** 2).mean().sqrt())  # noqa: E731
    return {"clips": float(np.mean([rms(encoded(vae, s.video), encoded(base, s.video)) for s in samples])),
            "references": float(np.mean([rms(encoded(vae, s.reference[None]), encoded(base, s.reference[None]))
                                         for s in samples])),
            "pose_videos": float(np.mean([rms(encoded(vae, s.pose_video), encoded(base, s.pose_video)) for s in samples]))}


def main():
    from engine.toy.factory import round_trips
    from engine.toy import world
    from engine.toy.family import TOY_DIR
    from engine.toy.model import load_cpu_vae

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vaes", nargs="*", help="VAE folders (default: the shipped toy's)")
    parser.add_argument("--clips", type=int, default=8, help="held-out clips")
    parser.add_argument("--json")
    args = parser.parse_args()

    folders = [Path(folder) for folder in args.vaes] or [TOY_DIR / "vae"]
    samples = [world.make_sample(seed) for seed in world.heldout_seeds(args.clips)]
    base = load_cpu_vae(folders[0])
    results = {"clips": args.clips, "vaes": {}}
    for folder in folders:
        vae = base if folder == folders[0] else load_cpu_vae(folder)
        entry = {**round_trips.pose_round_trip(vae, samples), **round_trips.vae_round_trip(vae, samples)}
        if folder != folders[0]:
            entry["latent_distance_from_first"] = latent_distance(vae, base, samples)
        results["vaes"][str(folder)] = entry
        by_frame = " ".join(f"{v:.2f}" for v in entry["pose_bones_kept_by_frame"])
        print(f"{folder}: bones kept {entry['pose_bones_kept']:.3f} (by frame {by_frame}); clips: PSNR "
              f"{entry['psnr']:.2f} dB, silhouette precision {entry['silhouette_precision']:.3f}, part colours "
              f"{entry['colour_match']:.3f}"
              + ("; latent distance from the first: clips {clips:.3f}, references {references:.3f}, pose videos "
                 "{pose_videos:.3f} std".format(**entry["latent_distance_from_first"])
                 if "latent_distance_from_first" in entry else ""))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
