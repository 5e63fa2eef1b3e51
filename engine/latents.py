"""Videos to latents as WanVACEPipeline makes them: the VAE's mode, normalised by its latent statistics. The
long-video loop, the trainer and the toy's encoders share this one definition."""

from __future__ import annotations

import numpy as np


def normalised_latents(vae, video):
    """The VAE latents' mode of a [b, 3, f, h, w] video in [-1, 1], normalised with the VAE's latents_mean and
    latents_std as WanVACEPipeline normalises its latents (float32, on the video's device)."""
    import torch

    latents = vae.encode(video).latent_dist.mode().float()
    z = vae.config.z_dim
    mean = torch.tensor(vae.config.latents_mean, device=latents.device).view(1, z, 1, 1, 1)
    std = torch.tensor(vae.config.latents_std, device=latents.device).view(1, z, 1, 1, 1)
    return (latents - mean) / std


def frames_to_latents(pipe, frames: np.ndarray):
    """Normalised VAE latents of uint8 frames [T, H, W, 3], [1, z, f, h, w], as the pipeline's latents are (on
    its execution device)."""
    import torch

    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float().div(127.5).sub(1)
    return normalised_latents(pipe.vae, video.to(pipe._execution_device, pipe.vae.dtype))
