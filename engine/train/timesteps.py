"""Which noise levels a training step sees: uniform, logit-normal, shifted, and RealisDance-DiT's
low-noise warmup.

Everything here works on sigma in [0, 1], the flow-matching noise level (Wan's timestep is 1000 sigma):
x_sigma = (1 - sigma) x0 + sigma noise, and the model learns the velocity noise - x0.

Low-noise warmup (RealisDance-DiT, eqs. 2-3): at iteration i the density over the timestep x in
[0, T] is f(x) = -k x + k T / 2 + 1 / T with k = alpha * 2 (tau - i) / (tau T^2) for i <= tau, else 0.
In sigma = x / T that is g(s) = 1 + c (1/2 - s) with c = 2 alpha (tau - i) / tau: a line tilted towards
low noise that flattens to uniform at i = tau. Samples come from inverting its CDF,
G(s) = s + (c / 2)(s - s^2).
"""

from __future__ import annotations

import math

SAMPLERS = ("uniform", "logit_normal", "shifted", "low_noise_warmup")


def warmup_tilt(iteration: int, alpha: float, tau: int) -> float:
    """c in g(s) = 1 + c (1/2 - s): 2 alpha at the start, 0 from iteration tau on."""
    if tau <= 0 or iteration >= tau:
        return 0.0
    return 2.0 * alpha * (tau - max(iteration, 0)) / tau


def warmup_density(sigma, iteration: int, alpha: float, tau: int):
    """The low-noise warmup density over sigma in [0, 1] (integrates to 1)."""
    return 1.0 + warmup_tilt(iteration, alpha, tau) * (0.5 - sigma)


def invert_warmup_cdf(uniform, tilt: float):
    """Solve s + (c/2)(s - s^2) = u for s in [0, 1] (u a tensor of uniforms)."""
    import torch

    if tilt < 1e-8:
        return uniform
    half = tilt / 2
    b = 1 + half
    return (b - torch.sqrt(b * b - 4 * half * uniform)) / (2 * half)


def sample_sigmas(batch: int, sampler: str, iteration: int = 0, *, generator=None,
                  logit_mean: float = 0.0, logit_std: float = 1.0, shift: float = 3.0, warmup_alpha: float = 1.0,
                  warmup_tau: int = 500):
    """A tensor of `batch` noise levels in (0, 1) for one training step at `iteration`."""
    import torch  # lazily: the Train tab reads SAMPLERS at start-up

    if sampler == "uniform":
        sigmas = torch.rand(batch, generator=generator)
    elif sampler == "logit_normal":
        sigmas = torch.sigmoid(logit_mean + logit_std * torch.randn(batch, generator=generator))
    elif sampler == "shifted":
        # The flow shift Wan samples with: more time at high noise for shift > 1.
        plain = torch.rand(batch, generator=generator)
        sigmas = shift * plain / (1 + (shift - 1) * plain)
    elif sampler == "low_noise_warmup":
        sigmas = invert_warmup_cdf(torch.rand(batch, generator=generator),
                                   warmup_tilt(iteration, warmup_alpha, warmup_tau))
    else:
        raise ValueError(f"unknown timestep sampler {sampler!r}; choose one of {', '.join(SAMPLERS)}")
    # Keep away from exactly 0 or 1, where the target or the input carries no information.
    return sigmas.clamp(1e-3, 1 - 1e-3)


def timestep_bucket(sigma: float, buckets: int = 4) -> int:
    """Which quarter (by default) of the noise range a sigma is in, for loss-by-timestep plots."""
    return min(buckets - 1, int(math.floor(sigma * buckets)))
