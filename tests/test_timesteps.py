"""Timestep samplers: the low-noise warmup matches its density (RealisDance-DiT eqs. 2-3), and the rest."""

import numpy as np
import pytest
import torch

from engine.train.timesteps import sample_sigmas, timestep_bucket, warmup_density, warmup_tilt

N = 200_000
EDGES = np.linspace(0, 1, 11)


def histogram(sigmas):
    counts, _ = np.histogram(sigmas.numpy(), bins=EDGES)
    return counts


def expected_counts(iteration, alpha, tau):
    """N times the integral of the density over each bin (exact for a line: the midpoint rule)."""
    mids = (EDGES[:-1] + EDGES[1:]) / 2
    return N * np.diff(EDGES) * warmup_density(mids, iteration, alpha, tau)


@pytest.mark.parametrize("iteration", [0, 250, 499])
def test_low_noise_warmup_matches_its_density(iteration):
    generator = torch.Generator().manual_seed(iteration)
    sigmas = sample_sigmas(N, "low_noise_warmup", iteration, generator=generator, warmup_alpha=1.0, warmup_tau=500)
    observed, expected = histogram(sigmas), expected_counts(iteration, 1.0, 500)
    chi_square = float(((observed - expected) ** 2 / expected).sum())
    assert chi_square < 27.9  # 9 degrees of freedom, p = 0.001


def test_warmup_starts_at_low_noise_and_is_uniform_after_tau():
    early = sample_sigmas(N, "low_noise_warmup", 0, generator=torch.Generator().manual_seed(1), warmup_tau=100)
    late = sample_sigmas(N, "low_noise_warmup", 100, generator=torch.Generator().manual_seed(2), warmup_tau=100)
    assert early.mean() < 0.45 and abs(early.mean() - (0.5 - 2 / 12)) < 0.01  # mean of 1 + 2(1/2 - s) is 1/3
    observed = histogram(late)
    assert float(((observed - N / 10) ** 2 / (N / 10)).sum()) < 27.9
    assert warmup_tilt(100, 1.0, 100) == 0 and warmup_tilt(0, 0.5, 100) == 1.0


def test_other_samplers_have_the_right_shape():
    generator = torch.Generator().manual_seed(0)
    uniform = sample_sigmas(N, "uniform", generator=generator)
    logit = sample_sigmas(N, "logit_normal", generator=generator)
    shifted = sample_sigmas(N, "shifted", generator=generator, shift=3.0)
    assert abs(uniform.mean() - 0.5) < 0.01 and abs(logit.median() - 0.5) < 0.01
    assert logit.std() < uniform.std()  # logit-normal piles up in the middle
    assert shifted.mean() > 0.6  # shift 3 spends more steps at high noise
    for sigmas in (uniform, logit, shifted):
        assert sigmas.min() > 0 and sigmas.max() < 1


def test_unknown_sampler_and_buckets():
    with pytest.raises(ValueError, match="unknown timestep sampler"):
        sample_sigmas(4, "cosine")
    assert [timestep_bucket(s) for s in (0.0, 0.3, 0.6, 0.999, 1.0)] == [0, 1, 2, 3, 3]
