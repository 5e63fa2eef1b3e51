"""The VAE alone, measured on the toy world: the true clips and their pose videos encoded and decoded.
Every toy generation leaves through this decoder and its control enters through this encoder, so these are
the ceilings the transformer's scores live under (engine/toy/factory/evaluate.py reports them; the decoder and
encoder legs in engine/toy/factory/build.py log them before and after).
"""

from __future__ import annotations

import numpy as np

from engine.toy.scoring import COLOUR_DISTANCE, colour_distance, limb_colours, score_clip


def vae_round_trip(vae, samples: list) -> dict:
    """The true clips through the VAE alone (encode, decode), scored as generations are: the ceiling the
    transformer's scores live under, since every toy generation leaves through this decoder. Part colours are
    also given frame by frame (the first frame has a latent of its own and comes back best)."""
    scores, by_frame = [], [[] for _ in range(max(len(sample.video) for sample in samples))]
    for sample in samples:
        frames = decode_round_trip(vae, sample.video)
        scores.append(score_clip(frames, sample))
        colours = sample.look.part_colours()
        for t, part, colour in limb_colours(frames, sample):
            by_frame[t].append(bool(colour_distance(colour, colours[part]) < COLOUR_DISTANCE))
    mean = lambda name: float(np.mean([getattr(score, name) for score in scores]))  # noqa: E731
    return {"silhouette_precision": mean("silhouette_precision"), "colour_match": mean("colour_match"),
            "psnr": mean("psnr"), "seam_ratio": mean("seam_ratio"),
            "colour_match_by_frame": [round(float(np.mean(f)), 3) if f else None for f in by_frame]}


def decode_round_trip(vae, frames: np.ndarray) -> np.ndarray:
    """uint8 frames [T, H, W, 3] encoded (the latents' mode, as the pipeline encodes) and decoded again."""
    import torch

    from engine.toy.factory.vae_training import to_tensor

    with torch.no_grad():
        latents = vae.encode(to_tensor(frames).to(vae.device, vae.dtype)).latent_dist.mode()
        decoded = vae.decode(latents).sample[0].float().cpu()
    return ((decoded.permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def bones_kept(decoded: np.ndarray, pose_video: np.ndarray) -> list[float]:
    """Per frame, the share of a pose video's bone and joint pixels that `decoded` gives back within
    COLOUR_DISTANCE of their colour (each limb has its own OpenPose colour, so a smeared limb fails)."""
    bones = (pose_video > 20).any(axis=-1)
    kept = bones & (colour_distance(decoded, pose_video) < COLOUR_DISTANCE)
    return [float(k.sum() / max(1, b.sum())) for k, b in zip(kept, bones)]


def pose_round_trip(vae, samples: list) -> dict:
    """The pose videos through the VAE alone. The control reaches the transformer only as these latents, so
    this is what the skeleton can tell it: frame 0 has a latent of its own, later frames share one per four."""
    by_clip = np.array([bones_kept(decode_round_trip(vae, sample.pose_video), sample.pose_video) for sample in samples])
    return {"pose_bones_kept": float(by_clip.mean()),
            "pose_bones_kept_by_frame": [round(float(v), 3) for v in by_clip.mean(axis=0)]}


def round_trip_text(measured: dict) -> str:
    """vae_round_trip's scores in words, for logs and the model card."""
    return (f"silhouette precision {measured['silhouette_precision']:.3f}, part colours {measured['colour_match']:.3f},"
            f" PSNR {measured['psnr']:.2f} dB, seam ratio {measured.get('seam_ratio', float('nan')):.2f}")


