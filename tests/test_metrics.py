import numpy as np
import pytest

from engine import metrics


def texture(height=96, width=128, seed=0):
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (height // 8 + 2, width // 8 + 2, 3)).astype(np.uint8)
    big = np.kron(small, np.ones((8, 8, 1), np.uint8))  # blocky texture: gradients everywhere, no aliasing
    return big


def shifted_clip(step, frames=6, height=96, width=128):
    base = texture(height, width + step * frames + 16)
    return np.stack([base[:height, step * i: step * i + width] for i in range(frames)])


def test_a_still_video_has_no_motion_and_full_consistency():
    still = np.repeat(texture()[None], 5, axis=0)
    assert metrics.motion(still) == 0.0
    assert metrics.temporal_consistency(still) == 1.0


@pytest.mark.parametrize("step", [1, 2])
def test_motion_measures_a_known_shift(step):
    assert metrics.motion(shifted_clip(step)) == pytest.approx(step, rel=0.35)


def test_more_motion_scores_higher_and_less_consistent():
    slow, fast = shifted_clip(1), shifted_clip(3)
    assert metrics.motion(fast) > metrics.motion(slow) > 0
    assert metrics.temporal_consistency(fast) < metrics.temporal_consistency(slow) < 1.0


def test_reference_similarity():
    reference = texture(seed=1)
    same = np.repeat(reference[None], 3, axis=0)
    assert metrics.reference_similarity(same, reference) == pytest.approx(1.0)
    other = np.zeros_like(same)
    other[..., 1] = 255  # a green screen shares no colour with the texture's histogram bins... mostly
    assert metrics.reference_similarity(other, reference) < 0.1
    assert set(metrics.video_metrics(same, reference)) == {"temporal_consistency", "motion", "reference_similarity"}


def test_single_frame_is_defined():
    one = texture()[None]
    assert metrics.motion(one) == 0.0 and metrics.temporal_consistency(one) == 1.0
