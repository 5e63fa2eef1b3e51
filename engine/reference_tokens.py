"""Reference tokens: the reference image as a few extra tokens beside the prompt's, in the cross-attention.

VACE hands the reference to the transformer through its hint blocks and one latent frame in front of the
video. Wan2.1's image-to-video models take a second route as well: an image encoder (CLIP there) turns the
reference into tokens that the cross-attention reads beside the prompt's. This is that route, small: a few
convolutions and a two-layer readout turn the letterboxed reference into `num_tokens` vectors as wide as the
text encoder's, which take the prompt's first padding positions. The transformer is unchanged, and reads them
as it reads the prompt; the VACE branch still gets the control video and the reference as before.

A pipeline folder with a `reference_encoder/` subfolder (config.json and safetensors) has one; the engine
loads it beside the pipeline and adds the tokens to the positive prompt only, so classifier-free guidance
pushes away from "no reference" as it pushes away from the negative prompt.

    encoder = ReferenceTokenEncoder.from_pretrained("assets/toy/reference_encoder")
    tokens = encoder(reference_pixels(image, encoder))          # [1, num_tokens, token_dim]
    embeds = with_reference_tokens(prompt_embeds, tokens)
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

FOLDER = "reference_encoder"  # its subfolder in a pipeline folder


class ReferenceTokenEncoder(ModelMixin, ConfigMixin):
    """Reference image [B, 3, H, W] in [-1, 1] -> tokens [B, num_tokens, token_dim] for the cross-attention."""

    @register_to_config
    def __init__(self, num_tokens: int = 10, token_dim: int = 64, channels: int = 32, hidden: int = 256,
                 image_height: int = 32, image_width: int = 56):
        super().__init__()
        # Two stride-2 convolutions: each of the (H/4 x W/4) cells sees a few pixels of the figure.
        self.features = nn.Sequential(
            nn.Conv2d(3, channels, 3, padding=1), nn.GELU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.GELU(),
        )
        cells = (image_height // 4) * (image_width // 4)
        # Read out from every cell by place, not pooled: a reference stands centred, so a cell's place says which
        # part of the figure it usually shows (the top's colour is found where a torso stands).
        self.readout = nn.Sequential(nn.Linear(channels * cells, hidden), nn.GELU(),
                                     nn.Linear(hidden, num_tokens * token_dim))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        tokens = self.readout(self.features(pixels).flatten(1))
        return tokens.view(len(pixels), self.config.num_tokens, self.config.token_dim)


def reference_pixels(image, encoder: ReferenceTokenEncoder) -> torch.Tensor:
    """A PIL image (letterboxed to the frame, as the pipeline gets it) as the encoder's input [1, 3, h, w]."""
    import numpy as np
    from PIL import Image

    size = (encoder.config.image_width, encoder.config.image_height)
    array = np.asarray(image.convert("RGB").resize(size, Image.BOX), dtype=np.float32)  # BOX: averages, as a 4x cut
    return torch.from_numpy(array / 127.5 - 1.0).permute(2, 0, 1)[None]


def pixels_from_array(images, encoder: ReferenceTokenEncoder) -> torch.Tensor:
    """uint8 arrays [B, H, W, 3] (or one [H, W, 3]) as the encoder's input, the same way reference_pixels reads."""
    from PIL import Image

    images = images if getattr(images, "ndim", 4) == 4 else images[None]
    return torch.cat([reference_pixels(Image.fromarray(image), encoder) for image in images])


def prompt_length(embeds: torch.Tensor) -> int:
    """Tokens the prompt uses: Wan's encode_prompt zero-pads its output to the sequence length."""
    used = embeds[0].abs().sum(-1) > 0
    return int(used.nonzero().max()) + 1 if used.any() else 0


def with_reference_tokens(prompt_embeds: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """The prompt's embeddings with `tokens` in its first padding positions (the sequence grows only when the
    prompt leaves too little room): the transformer then sees as many tokens as it was trained on."""
    start = prompt_length(prompt_embeds)
    length = max(prompt_embeds.shape[1], start + tokens.shape[1])
    joined = prompt_embeds.new_zeros(prompt_embeds.shape[0], length, prompt_embeds.shape[2])
    joined[:, :start] = prompt_embeds[:, :start]
    joined[:, start:start + tokens.shape[1]] = tokens.to(prompt_embeds)
    return joined
