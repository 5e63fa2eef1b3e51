"""experiments/random_models.py: the real models' parts with random weights, as bench builds them on a GPU. Here
the real parts are built on the meta device (counted, no memory) and the assembly runs with the tiny parts."""

import pytest
import torch

from engine.spec import ModelSpec
from experiments import random_models
from experiments.random_models import random_pipeline


def parameters_b(module) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e9


def test_the_real_parts_have_their_published_sizes():
    from engine.tiny import build_tiny_tokenizer

    text_encoder = random_models.text_encoder(build_tiny_tokenizer(), device="meta")
    assert parameters_b(text_encoder) == pytest.approx(5.68, abs=0.05)
    assert parameters_b(random_models.image_encoder(device="meta")) == pytest.approx(0.63, abs=0.02)
    assert parameters_b(random_models.vae(device="meta")) == pytest.approx(0.127, abs=0.005)


def test_parts_are_made_in_the_dtype_asked_and_the_default_dtype_comes_back():
    encoder = random_models.image_encoder(device="meta", dtype=torch.bfloat16)
    assert next(encoder.parameters()).dtype == torch.bfloat16
    assert torch.get_default_dtype() == torch.float32


@pytest.mark.parametrize("preset", ["tiny", "tiny-animate", "tiny-animate-2"])
def test_each_family_is_assembled_into_its_own_pipeline_class(preset):
    from engine.families import family_of

    spec = ModelSpec.from_preset(preset)
    pipe = random_pipeline(spec, real_parts=())
    assert isinstance(pipe, family_of(spec).pipeline_class())
    assert pipe.transformer is not None and pipe.vae is not None and pipe.tokenizer is not None


def test_a_small_model_has_no_published_transformer_to_build():
    with pytest.raises(ValueError, match="tiny has no published architecture to build"):
        random_pipeline(ModelSpec.from_preset("tiny"), real_parts=("transformer",))
