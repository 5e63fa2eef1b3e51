"""engine/reference_tokens.py: the reference image as extra tokens beside the prompt's."""

import numpy as np
import torch
from PIL import Image

from engine.reference_tokens import (ReferenceTokenEncoder, pixels_from_array, prompt_length, reference_pixels,
                                     with_reference_tokens)


def padded_prompt(used: int, length: int = 8, dim: int = 4) -> torch.Tensor:
    embeds = torch.zeros(1, length, dim)
    embeds[0, :used] = torch.arange(1, used * dim + 1, dtype=torch.float32).view(used, dim)
    return embeds


def test_the_prompt_length_counts_tokens_up_to_the_zero_padding():
    assert prompt_length(padded_prompt(3)) == 3
    assert prompt_length(padded_prompt(0)) == 0
    assert prompt_length(padded_prompt(8)) == 8


def test_reference_tokens_take_the_first_padding_positions_and_keep_the_length():
    prompt, tokens = padded_prompt(3), torch.full((1, 2, 4), -1.0)
    joined = with_reference_tokens(prompt, tokens)
    assert joined.shape == prompt.shape
    assert torch.equal(joined[:, :3], prompt[:, :3])
    assert torch.equal(joined[:, 3:5], tokens)
    assert not joined[:, 5:].any()


def test_a_prompt_without_room_grows_to_hold_the_reference_tokens():
    joined = with_reference_tokens(padded_prompt(7), torch.full((1, 3, 4), -1.0))
    assert joined.shape == (1, 10, 4) and torch.equal(joined[:, 7:], torch.full((1, 3, 4), -1.0))


def test_the_encoder_gives_tokens_as_wide_as_the_text_encoders():
    encoder = ReferenceTokenEncoder(num_tokens=5, token_dim=16, channels=8, hidden=32)
    image = Image.fromarray(np.full((128, 224, 3), 200, dtype=np.uint8))
    pixels = reference_pixels(image, encoder)
    assert pixels.shape == (1, 3, 32, 56) and -1 <= float(pixels.min()) <= float(pixels.max()) <= 1
    assert encoder(pixels).shape == (1, 5, 16)


def test_arrays_and_images_give_the_encoder_the_same_pixels():
    encoder = ReferenceTokenEncoder(channels=8, hidden=32)
    array = np.random.default_rng(0).integers(0, 256, (128, 224, 3), dtype=np.uint8)
    assert torch.equal(pixels_from_array(array, encoder), reference_pixels(Image.fromarray(array), encoder))


def test_the_encoder_saves_as_safetensors_and_loads_back_the_same(tmp_path):
    encoder = ReferenceTokenEncoder(channels=8, hidden=32)
    encoder.save_pretrained(tmp_path)
    assert (tmp_path / "diffusion_pytorch_model.safetensors").is_file()
    assert not list(tmp_path.glob("*.bin"))
    loaded = ReferenceTokenEncoder.from_pretrained(tmp_path)
    pixels = torch.rand(2, 3, 32, 56) * 2 - 1
    assert torch.allclose(loaded(pixels), encoder(pixels))
