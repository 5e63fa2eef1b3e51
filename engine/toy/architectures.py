"""Two ways for a Wan transformer to read its reference image, built from diffusers' Wan classes.

Both take exactly what diffusers' WanVACEPipeline gives a WanVACETransformer3DModel, so the stock pipeline, the
lab's caches, long videos and trainer run them unchanged. WanVACEPipeline lays its inputs out like this:

    hidden_states          [B, z, R + F, h, w]   R reference slots (pure noise at the step's level), F video frames
    control_hidden_states  [B, 2z + m, R + F, h, w]
                           reference slots: [reference latent | zeros | mask 0]
                           video frames:    [inactive latent | reactive latent | mask]; with a full-frame mask the
                                            inactive half is the encode of a black video, the reactive one the pose's

In stock VACE the reference reaches the video only through the VACE blocks' hints; its slot in the noisy latents
starts as noise and is denoised like any frame, so it holds the reference only late in sampling.

- ReferenceSlotVACETransformer3DModel (VACE with the reference in reach): the stock VACE model, whose reference
  slot is set to the clean reference latent at every call (so it is there from the first step, as a frame the
  main blocks attend to), modulated as clean (timestep 0), and optionally given rotary positions off the video
  grid (shifted by the grid's height and width) so it reads as a picture beside the video, not a frame of it.
- InContextTransformer3DModel (the seeds' design: RealisDance-DiT, PoseGen): no VACE branch. The clean
  reference latent gets its own patch embedding and joins the main self-attention as extra tokens, modulated
  at timestep 0, with rotary positions shifted off the video grid; it is dropped from the output. The control
  (the pose) gets its own patch embedding and a zero-initialised projection and is added to the video tokens.

Neither changes what the pipeline does; a model with neither is the stock WanVACETransformer3DModel.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.loaders import PeftAdapterMixin
from diffusers.models.attention import AttentionMixin
from diffusers.models.cache_utils import CacheMixin
from diffusers.models.modeling_outputs import Transformer2DModelOutput
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.normalization import FP32LayerNorm
from diffusers.models.transformers.transformer_wan import (WanRotaryPosEmbed, WanTimeTextImageEmbedding,
                                                           WanTransformerBlock)
from diffusers.models.transformers.transformer_wan_vace import WanVACETransformer3DModel
from torch import nn


def reference_slots(control: torch.Tensor, latent_channels: int) -> int:
    """How many leading frames of a VACE control are reference slots: WanVACEPipeline gives a reference's frame
    an all-zero reactive half, which no encoded video frame has."""
    reactive = control[:, latent_channels:2 * latent_channels]
    slots = 0
    while slots < control.shape[2] and not reactive[:, :, slots].any():
        slots += 1
    return slots


def grid_positions(frames: int, height: int, width: int, offset=(0, 0, 0)) -> torch.Tensor:
    """[frames * height * width, 3] (t, h, w) positions of a token grid, in the order patches are flattened."""
    t, h, w = torch.meshgrid(torch.arange(frames), torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([t + offset[0], h + offset[1], w + offset[2]], dim=-1).reshape(-1, 3)


def rotary_at(rope: WanRotaryPosEmbed, positions: torch.Tensor):
    """(cos, sin) [1, N, 1, head_dim] of Wan's 3D rotary embedding at the given (t, h, w) positions: what
    rope(hidden_states) gives for a plain grid, at any positions."""
    if int(positions.max()) >= rope.max_seq_len:
        raise ValueError(f"rotary position {int(positions.max())} is past rope_max_seq_len {rope.max_seq_len}")
    sizes = [rope.t_dim, rope.h_dim, rope.w_dim]
    parts = []
    for table in (rope.freqs_cos, rope.freqs_sin):
        axes = table.split(sizes, dim=1)
        parts.append(torch.cat([axes[i][positions[:, i]] for i in range(3)], dim=-1)[None, :, None, :])
    return parts[0], parts[1]


def time_projection(embedder: WanTimeTextImageEmbedding, timestep: torch.Tensor, like: torch.Tensor):
    """(temb, 6-way projection [B, 6, D]) of a timestep, without embedding the text again."""
    temb = embedder.time_embedder(embedder.timesteps_proj(timestep).to(like.dtype)).type_as(like)
    return temb, embedder.time_proj(embedder.act_fn(temb)).unflatten(1, (6, -1))


def per_token(*runs: tuple[torch.Tensor, int]) -> torch.Tensor:
    """[B, N, 6, D] modulation from (projection [B, 6, D], token count) runs, in token order (diffusers' Wan blocks
    take a modulation per token, as Wan2.2's TI2V gives its clean first frame timestep 0)."""
    return torch.cat([projection[:, None].expand(-1, count, -1, -1) for projection, count in runs], dim=1)


def unpatchify(tokens: torch.Tensor, patch: tuple, frames: int, height: int, width: int) -> torch.Tensor:
    batch = tokens.shape[0]
    p_t, p_h, p_w = patch
    tokens = tokens.reshape(batch, frames, height, width, p_t, p_h, p_w, -1).permute(0, 7, 1, 4, 2, 5, 3, 6)
    return tokens.flatten(6, 7).flatten(4, 5).flatten(2, 3)


class ReferenceSlotVACETransformer3DModel(WanVACETransformer3DModel):
    """WanVACETransformer3DModel whose reference slots hold the clean reference latent at every call."""

    @register_to_config
    def __init__(self, patch_size=(1, 2, 2), num_attention_heads=40, attention_head_dim=128, in_channels=16,
                 out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=13824, num_layers=40, cross_attn_norm=True,
                 qk_norm="rms_norm_across_heads", eps=1e-6, image_dim=None, added_kv_proj_dim=None,
                 rope_max_seq_len=1024, pos_embed_seq_len=None, vace_layers=(0, 5, 10, 15, 20, 25, 30, 35),
                 vace_in_channels=96, clean_timestep: bool = True, shift_reference_rope: bool = False):
        super().__init__(patch_size=patch_size, num_attention_heads=num_attention_heads,
                         attention_head_dim=attention_head_dim, in_channels=in_channels, out_channels=out_channels,
                         text_dim=text_dim, freq_dim=freq_dim, ffn_dim=ffn_dim, num_layers=num_layers,
                         cross_attn_norm=cross_attn_norm, qk_norm=qk_norm, eps=eps, image_dim=image_dim,
                         added_kv_proj_dim=added_kv_proj_dim, rope_max_seq_len=rope_max_seq_len,
                         pos_embed_seq_len=pos_embed_seq_len, vace_layers=list(vace_layers),
                         vace_in_channels=vace_in_channels)

    def forward(self, hidden_states, timestep, encoder_hidden_states, encoder_hidden_states_image=None,
                control_hidden_states=None, control_hidden_states_scale=None, return_dict=True,
                attention_kwargs=None):
        config = self.config
        z = config.in_channels
        slots = reference_slots(control_hidden_states, z)
        if slots:  # the clean reference where the pipeline put noise
            clean = control_hidden_states[:, :z, :slots].to(hidden_states.dtype)
            hidden_states = torch.cat([clean, hidden_states[:, :, slots:]], dim=2)
        batch, _, frames, height, width = hidden_states.shape
        p_t, p_h, p_w = config.patch_size
        grid = (frames // p_t, height // p_h, width // p_w)
        per_frame = grid[1] * grid[2]

        rotary = self.rope(hidden_states)
        if slots and config.shift_reference_rope:
            positions = torch.cat([grid_positions(slots, grid[1], grid[2], offset=(0, grid[1], grid[2])),
                                   grid_positions(grid[0] - slots, grid[1], grid[2], offset=(slots, 0, 0))])
            rotary = tuple(part.to(rotary[0].device) for part in rotary_at(self.rope, positions))

        tokens = self.patch_embedding(hidden_states).flatten(2).transpose(1, 2)
        control = self.vace_patch_embedding(control_hidden_states).flatten(2).transpose(1, 2)
        if control.shape[1] < tokens.shape[1]:
            control = torch.cat([control, control.new_zeros(batch, tokens.shape[1] - control.shape[1], control.shape[2])], 1)

        temb, projection, text, _ = self.condition_embedder(timestep, encoder_hidden_states, None)
        projection = projection.unflatten(1, (6, -1))
        main_projection = projection
        if slots and config.clean_timestep:
            _, clean_projection = time_projection(self.condition_embedder, torch.zeros_like(timestep), temb)
            main_projection = per_token((clean_projection, slots * per_frame),
                                        (projection, tokens.shape[1] - slots * per_frame))

        scales = control_hidden_states_scale
        if scales is None:
            scales = control.new_ones(len(config.vace_layers))
        hints = []
        for block in self.vace_blocks:  # VACE blocks take one modulation for all tokens (the step's)
            hint, control = block(tokens, text, control, projection, rotary)
            hints.append(hint)
        for index, block in enumerate(self.blocks):
            tokens = block(tokens, text, main_projection, rotary)
            if index in config.vace_layers:
                layer = config.vace_layers.index(index)
                tokens = tokens + hints[layer] * scales[layer]

        shift, scale = (self.scale_shift_table.to(temb.device) + temb.unsqueeze(1)).chunk(2, dim=1)
        tokens = (self.norm_out(tokens.float()) * (1 + scale) + shift).type_as(tokens)
        output = unpatchify(self.proj_out(tokens), config.patch_size, *grid)
        return (output,) if not return_dict else Transformer2DModelOutput(sample=output)


class InContextTransformer3DModel(ModelMixin, ConfigMixin, PeftAdapterMixin, CacheMixin, AttentionMixin):
    """A Wan transformer with the reference as extra self-attention tokens and the control added to the video's."""

    _supports_gradient_checkpointing = False
    _no_split_modules = ["WanTransformerBlock"]
    _keep_in_fp32_modules = ["time_embedder", "scale_shift_table", "norm1", "norm2", "norm3"]
    _repeated_blocks = ["WanTransformerBlock"]

    @register_to_config
    def __init__(self, patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                 out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                 qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024, control_in_channels=96,
                 clean_timestep: bool = True, shift_reference_rope: bool = True, vace_layers=(0,)):
        # vace_layers: where the control enters, as WanVACEPipeline counts them for conditioning_scale: once, here,
        # so a conditioning_scale is one number that scales the control added to the video tokens.
        super().__init__()
        dim = num_attention_heads * attention_head_dim
        self.rope = WanRotaryPosEmbed(attention_head_dim, patch_size, rope_max_seq_len)
        self.patch_embedding = nn.Conv3d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        self.reference_patch_embedding = nn.Conv3d(in_channels, dim, kernel_size=patch_size, stride=patch_size)
        self.control_patch_embedding = nn.Conv3d(control_in_channels, dim, kernel_size=patch_size, stride=patch_size)
        # Zero at the start: the control joins the video tokens only as far as training finds it useful.
        self.control_projection = nn.Linear(dim, dim)
        nn.init.zeros_(self.control_projection.weight)
        nn.init.zeros_(self.control_projection.bias)
        self.condition_embedder = WanTimeTextImageEmbedding(dim=dim, time_freq_dim=freq_dim, time_proj_dim=dim * 6,
                                                            text_embed_dim=text_dim)
        self.blocks = nn.ModuleList([WanTransformerBlock(dim, ffn_dim, num_attention_heads, qk_norm, cross_attn_norm,
                                                         eps) for _ in range(num_layers)])
        self.norm_out = FP32LayerNorm(dim, eps, elementwise_affine=False)
        self.proj_out = nn.Linear(dim, out_channels * patch_size[0] * patch_size[1] * patch_size[2])
        self.scale_shift_table = nn.Parameter(torch.randn(1, 2, dim) / dim ** 0.5)

    def forward(self, hidden_states, timestep, encoder_hidden_states, encoder_hidden_states_image=None,
                control_hidden_states=None, control_hidden_states_scale=None, return_dict=True,
                attention_kwargs=None):
        """Takes WanVACEPipeline's inputs; the velocity of its reference slots is zero (the pipeline drops them)."""
        config = self.config
        z = config.in_channels
        slots = reference_slots(control_hidden_states, z)
        video = hidden_states[:, :, slots:]
        batch, _, frames, height, width = video.shape
        p_t, p_h, p_w = config.patch_size
        grid = (frames // p_t, height // p_h, width // p_w)

        tokens = self.patch_embedding(video).flatten(2).transpose(1, 2)
        control = self.control_patch_embedding(control_hidden_states[:, :, slots:].to(video.dtype))
        control = self.control_projection(control.flatten(2).transpose(1, 2))
        scale = 1.0 if control_hidden_states_scale is None else control_hidden_states_scale.float().mean()
        tokens = tokens + control * scale
        positions = grid_positions(*grid)
        video_tokens = tokens.shape[1]
        if slots:
            reference = self.reference_patch_embedding(control_hidden_states[:, :z, :slots].to(video.dtype))
            tokens = torch.cat([tokens, reference.flatten(2).transpose(1, 2)], dim=1)
            offset = (0, grid[1], grid[2]) if config.shift_reference_rope else (0, 0, 0)
            positions = torch.cat([positions, grid_positions(slots, grid[1], grid[2], offset=offset)])
        rotary = tuple(part.to(tokens.device) for part in rotary_at(self.rope, positions))

        temb, projection, text, _ = self.condition_embedder(timestep, encoder_hidden_states, None)
        projection = projection.unflatten(1, (6, -1))
        if slots and config.clean_timestep:
            _, clean = time_projection(self.condition_embedder, torch.zeros_like(timestep), temb)
            projection = per_token((projection, video_tokens), (clean, tokens.shape[1] - video_tokens))
        for block in self.blocks:
            tokens = block(tokens, text, projection, rotary)

        tokens = tokens[:, :video_tokens]
        shift, scale_out = (self.scale_shift_table.to(temb.device) + temb.unsqueeze(1)).chunk(2, dim=1)
        tokens = (self.norm_out(tokens.float()) * (1 + scale_out) + shift).type_as(tokens)
        output = unpatchify(self.proj_out(tokens), config.patch_size, *grid)
        if slots:
            output = torch.cat([output.new_zeros(batch, output.shape[1], slots, height, width), output], dim=2)
        return (output,) if not return_dict else Transformer2DModelOutput(sample=output)
