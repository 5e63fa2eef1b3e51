"""Step estimates before launch: token counts, the FLOP figure BENCHMARKS.md quotes, memory with checkpointing."""

import pytest
import yaml

from engine.paths import PRESETS_DIR
from engine.train.config import TARGETS
from engine.train.estimate import count_tokens, estimate_step, lora_parameters, transformer_parameters

CONFIG_13B = yaml.safe_load((PRESETS_DIR / "models" / "wan-vace-1.3b.yaml").read_text())["transformer_config"]


def test_token_counts_match_the_performance_model():
    assert count_tokens(CONFIG_13B, 480, 832, 81, with_reference=False) == 32_760
    assert count_tokens(CONFIG_13B, 480, 832, 81) == 34_320  # the reference adds one latent frame


def test_forward_flops_at_480p_match_design_and_a_step_is_about_three_forwards():
    parameters = transformer_parameters(CONFIG_13B)
    assert parameters == 2_153_972_032
    estimate = estimate_step(CONFIG_13B, 480, 832, 81, 0, False, parameters=parameters)
    # BENCHMARKS.md: ~427 TFLOP per forward at 32,760 tokens; the reference frame adds ~9%.
    assert 3 * 427 * 0.95 < estimate.tflop_per_step < 3 * 427 * 1.25


def test_checkpointing_cuts_activation_memory_and_lora_counts_are_exact():
    lora = lora_parameters(CONFIG_13B, TARGETS["self_attention"], rank=8)
    assert lora == 30 * 4 * 8 * (1536 + 1536)  # 30 blocks x q, k, v, out x rank x (in + out)
    plain = estimate_step(CONFIG_13B, 480, 832, 81, lora, False, parameters=2_153_972_032)
    saved = estimate_step(CONFIG_13B, 480, 832, 81, lora, True, parameters=2_153_972_032)
    assert saved.activations_gb < plain.activations_gb / 5
    assert saved.total_gb < 24 < plain.total_gb
    assert "trainable" in saved.summary() and saved.typical_seconds == pytest.approx(3 * saved.floor_seconds)


def test_small_models_get_readable_numbers_not_zeros():
    from engine.toy.model import TRANSFORMER_CONFIG

    parameters = transformer_parameters(TRANSFORMER_CONFIG)
    estimate = estimate_step(TRANSFORMER_CONFIG, 128, 224, 17, parameters, False, parameters=parameters,
                             spatial_factor=4)
    assert estimate.tokens == 6 * 8 * 14  # 5 latent frames + the reference, 4x VAE, 4x4 patches
    text = estimate.summary()
    assert "0.00 B" not in text and " 0 TFLOP" not in text
    assert "M parameters" in text and "GFLOP" in text, text
