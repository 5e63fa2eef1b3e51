"""benchmarks/model_sizes.py: the real transformers counted on the meta device, nothing downloaded."""

import pytest

from benchmarks.model_sizes import measure


def test_the_1_3b_token_count_is_wans():
    assert measure("wan-vace-1.3b")["video_tokens"] == 32760


@pytest.mark.parametrize("preset, billions", [("wan-vace-1.3b", 2.15), ("wan-animate-2-14b", 16.39)])
def test_each_real_transformer_is_counted_without_weights(preset, billions):
    row = measure(preset)
    assert row["parameters_b"] == pytest.approx(billions, abs=0.01)
    assert row["weights_bf16_gb"] == pytest.approx(2 * row["parameters_b"], rel=1e-6)


def test_animate2_keeps_the_driving_clips_keys_and_values_for_every_layer():
    row = measure("wan-animate-2-14b")
    assert row["video_tokens"] == 42000  # 21 latent frames of 50 x 40 patches at 640x800x81
    assert row["driving_kv_cache_gb"] == pytest.approx(2 * 40 * 42000 * 5120 * 2 / 1e9)
