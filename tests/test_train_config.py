"""TrainConfig: presets, validation, --set parsing, and the learning-rate schedule."""

import numpy as np
import pytest

from engine.train.config import TRAIN_PRESETS_DIR, TrainConfig, learning_rate_factor
from tests.helpers import write_video


@pytest.mark.parametrize("preset", sorted(p.stem for p in TRAIN_PRESETS_DIR.glob("*.yaml")))
def test_every_training_preset_validates_and_targets_real_layers(preset):
    from engine.tiny import build_tiny_pipeline
    from engine.train.trainer import add_lora

    config = TrainConfig.from_preset(preset)
    assert add_lora(build_tiny_pipeline().transformer, config) > 0


def test_bad_configs_and_data_get_one_line_reasons(tmp_path):
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainConfig.from_dict({"rnak": 4})
    with pytest.raises(ValueError, match="target must be one of"):
        TrainConfig(target="everything")
    with pytest.raises(ValueError, match="unknown training preset"):
        TrainConfig.from_preset("../secrets")
    (tmp_path / "short.mp4").write_bytes(b"")
    write_video(tmp_path / "short.mp4", [np.zeros((32, 32, 3), np.uint8)] * 3, 16)
    from engine.train.data import find_samples, validate_samples

    with pytest.raises(ValueError, match="short.mp4 has 3 frames at 16 fps; training needs 17"):
        validate_samples(find_samples(tmp_path), num_frames=17, fps=16)


def test_learning_rate_warms_up_then_decays():
    factors = [learning_rate_factor(step, 4, 20) for step in range(20)]
    assert factors[:4] == [0.25, 0.5, 0.75, 1.0] and factors[-1] < 0.05
    assert all(a >= b for a, b in zip(factors[3:], factors[4:]))


def test_set_values_are_typed_by_their_field():
    changes = TrainConfig.parse_overrides(["rank=16", "learning_rate=2e-4", "sampler=uniform"])
    assert changes == {"rank": 16, "learning_rate": 2e-4, "sampler": "uniform"}
    with pytest.raises(ValueError, match="rank takes a int"):
        TrainConfig.parse_overrides(["rank=1.5"])
