"""Widen a trained toy's latent: more VAE channels, the old ones kept, so the transformer need not start over.

The shipped toy's 16-channel encoder drops the clothes' colours (research/toy_latent_probe.py: no reader of
its latents keeps them much better than its own decoder, 0.56 of limb-frames), and a 48-channel toy trained
from scratch needs thousands of transformer steps before it draws a figure at all (docs/toy-log.md). A wider
latent grown from the trained one keeps both:

- widen_vae: the new VAE encodes and decodes exactly as the old one at the start: the old channels keep their
  weights, the new ones' decoder inputs start at zero.
- train_widened_vae: encoder and decoder train on; the old channels' latents are held where the old encoder put
  them (as the encoder leg does), the new ones are free to carry what the old ones lose.
- widen_transformer: the same for the transformer: the new channels' input weights start at zero and their
  output rows at zero, so it draws the old channels as it did and learns the new ones in a `--more` leg.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from engine.toy.factory.vae_training import VaeTrainConfig, _train_steps, set_latent_statistics, training_batch

logger = logging.getLogger(__name__)


def widen_vae(vae, channels: int):
    """A VAE of `channels` latent channels holding `vae`'s weights: the first old-z_dim channels are the old
    latents; the new ones come from freshly initialised encoder rows scaled to unit spread, and the decoder
    reads them through zero weights, so decoding is unchanged until training moves those weights."""
    import torch

    from engine.toy.model import build_vae

    old = vae.config.z_dim
    if channels <= old:
        raise ValueError(f"a wider latent needs more than the VAE's {old} channels, not {channels}")
    torch.manual_seed(old * 1000 + channels)
    wide = build_vae(**{**_vae_architecture(vae.config), "z_dim": channels})
    source, target = vae.state_dict(), wide.state_dict()
    with torch.no_grad():
        for name, value in source.items():
            if target[name].shape == value.shape:
                target[name].copy_(value)
        _grow_encoder_head(source, target, old, channels)
        _grow_decoder_head(source, target, old, channels)
    wide.load_state_dict(target)
    wide.register_to_config(latents_mean=[*vae.config.latents_mean, *[0.0] * (channels - old)],
                            latents_std=[*vae.config.latents_std, *[1.0] * (channels - old)])
    _unit_scale_new_channels(wide, old)
    return wide


def _grow_encoder_head(source: dict, target: dict, old: int, channels: int):
    """The encoder's last convolution and quant_conv give [mean | log variance], z_dim each: the old channels'
    rows and columns go where they belong in the wider layout, the new means pass through quant_conv unchanged,
    and the new log variances start at the old ones' mean."""
    import torch

    rows = torch.tensor([*range(old), *range(channels, channels + old)])
    target["encoder.conv_out.weight"][rows] = source["encoder.conv_out.weight"]
    target["encoder.conv_out.bias"][rows] = source["encoder.conv_out.bias"]
    target["encoder.conv_out.bias"][channels + old:] = source["encoder.conv_out.bias"][old:].mean()
    quant = torch.zeros_like(target["quant_conv.weight"])
    quant[:, :, 0, 0, 0] = torch.eye(2 * channels)
    quant[rows[:, None], rows[None, :]] = source["quant_conv.weight"]
    target["quant_conv.weight"].copy_(quant)
    target["quant_conv.bias"].zero_()
    target["quant_conv.bias"][rows] = source["quant_conv.bias"]


def _grow_decoder_head(source: dict, target: dict, old: int, channels: int):
    """post_quant_conv passes the new channels through; the decoder's first convolution reads them with zero
    weights, so it decodes as the old one did."""
    import torch

    post = torch.zeros_like(target["post_quant_conv.weight"])
    post[:, :, 0, 0, 0] = torch.eye(channels)
    post[:old, :old] = source["post_quant_conv.weight"]
    target["post_quant_conv.weight"].copy_(post)
    target["post_quant_conv.bias"].zero_()
    target["post_quant_conv.bias"][:old] = source["post_quant_conv.bias"]
    target["decoder.conv_in.weight"].zero_()
    target["decoder.conv_in.weight"][:, :old] = source["decoder.conv_in.weight"]


def _vae_architecture(config) -> dict:
    """The architecture fields of a VAE's config (build_vae's arguments), without its latent statistics."""
    from engine.toy.model import VAE_CONFIG

    return {key: config[key] for key in VAE_CONFIG}


def _unit_scale_new_channels(vae, old: int, clips: int = 4):
    """Scale the new channels' encoder rows so their latents have zero mean and unit spread on world clips: at a
    fresh initialisation they are about 0.06 in spread, which the decoder's norms would flatten."""
    import torch

    rng = np.random.default_rng([old, 10**8])
    config = VaeTrainConfig()
    with torch.no_grad():
        batch, _ = training_batch(rng, replace(config, clip_fraction=1.0, batch_size=clips))
        latents = vae.encode(batch).latent_dist.mode()[:, old:]
        mean, std = latents.mean(dim=(0, 2, 3, 4)), latents.std(dim=(0, 2, 3, 4)).clamp_min(1e-6)
        z = vae.config.z_dim
        vae.quant_conv.weight[old:z] /= std.view(-1, 1, 1, 1, 1)
        vae.quant_conv.bias[old:z] = (vae.quant_conv.bias[old:z] - mean) / std


def train_widened_vae(vae, old_vae, out_dir: str | Path, steps: int, learning_rate: float = 3e-4,
                      encoder_learning_rate: float = 1e-4, anchor_weight: float = 10.0, latent_noise: float = 0.5,
                      config: VaeTrainConfig = VaeTrainConfig(crops_on_figure=True), resume: bool = True, on_log=None,
                      anchored_channels: int | None = None, leg: int = 1):
    """Train a widened VAE (widen_vae) `steps` on the world's clips, pose videos and references, crops placed on
    the figure. The loss is the VAE's own (figure-weighted L1 + MSE) plus `anchor_weight` x the squared distance
    of the old channels from `old_vae`'s latents, in units of their std, so the transformer's latents stay valid;
    latents are decoded with noise up to `latent_noise` of each channel's spread, as a generation's are never
    exact. Then the new channels' statistics are measured (the old ones' are kept). Trains `vae` in place.

    `anchored_channels` (default: all of `old_vae`'s) says how many leading channels are held: a further widen
    leg on an already wide VAE holds only the channels the transformer learned longest and frees the rest. A
    leg after the first (`leg`) draws other batches."""
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frozen = copy.deepcopy(old_vae).eval().requires_grad_(False)
    old = anchored_channels or frozen.config.z_dim
    old_std = torch.tensor(frozen.config.latents_std[:old]).view(1, -1, 1, 1, 1)

    def step_loss(step: int, rng):
        batch, weights = training_batch(rng, config)
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        latents = vae.encode(batch).latent_dist.mode()
        with torch.no_grad():
            held = frozen.encode(batch).latent_dist.mode()[:, :old]
        anchor = (((latents[:, :old] - held) / old_std) ** 2).mean()
        spread = latents.detach().std(dim=(0, 2, 3, 4), keepdim=True)
        scale = torch.rand(len(latents), 1, 1, 1, 1, generator=generator) * latent_noise
        noisy = latents + scale * spread * torch.randn(latents.shape, generator=generator)
        error = vae.decode(noisy).sample - batch
        loss = (weights / weights.mean() * (error.abs() + error ** 2)).mean()
        return loss + anchor_weight * anchor + config.latent_l2 * latents.pow(2).mean(), (error ** 2).mean()

    groups = [([*vae.encoder.parameters(), *vae.quant_conv.parameters()], encoder_learning_rate),
              ([*vae.decoder.parameters(), *vae.post_quant_conv.parameters()], learning_rate)]
    config = replace(config, steps=steps, warmup_steps=min(config.warmup_steps, max(1, steps // 10)))
    _train_steps(vae, groups, config, steps, out_dir / "widen-checkpoint.pt", out_dir / "widen_loss.csv",
                 draws=(config.seed, 10**6, vae.config.z_dim, *([leg] if leg > 1 else [])), resume=resume,
                 on_log=on_log, step_loss=step_loss)
    vae.eval()
    set_new_channel_statistics(vae, old, config)
    return vae


def set_new_channel_statistics(vae, old: int, config: VaeTrainConfig = VaeTrainConfig()):
    """Measure the latent mean and std of the channels after the first `old` and store them, keeping the old
    channels' statistics: the transformer normalises the old channels with those."""
    kept_mean, kept_std = list(vae.config.latents_mean[:old]), list(vae.config.latents_std[:old])
    mean, std = set_latent_statistics(vae, config)
    vae.register_to_config(latents_mean=kept_mean + [round(v, 5) for v in mean[old:]],
                           latents_std=kept_std + [round(v, 5) for v in std[old:]])


def widen_transformer(transformer, channels: int):
    """A transformer for latents of `channels` holding `transformer`'s weights: the old channels' patch
    embeddings and output rows as they were, the new channels' input weights and output rows zero, so it
    predicts the old channels as before (and zero velocity for the new ones) until a leg trains it."""
    import torch
    from diffusers import WanVACETransformer3DModel

    config = dict(transformer.config)  # a float32 transformer (a leg trains in float32)
    old = config["in_channels"]
    if channels <= old:
        raise ValueError(f"a wider latent needs more than the transformer's {old} channels, not {channels}")
    mask_channels = config["vace_in_channels"] - 2 * old  # the VACE mask's pixels folded into channels
    fields = {key: value for key, value in config.items() if not key.startswith("_")}
    wide = WanVACETransformer3DModel(**{**fields, "in_channels": channels, "out_channels": channels,
                                        "vace_in_channels": 2 * channels + mask_channels})
    source, target = transformer.state_dict(), wide.state_dict()
    patch = int(np.prod(config["patch_size"]))
    with torch.no_grad():
        for name, value in source.items():
            if target[name].shape == value.shape:
                target[name].copy_(value.to(target[name].dtype))
        target["patch_embedding.weight"].zero_()
        target["patch_embedding.weight"][:, :old] = source["patch_embedding.weight"]
        # The VACE input is [inactive latents | reactive latents | mask], each latent part `channels` wide.
        vace_old = source["vace_patch_embedding.weight"]
        vace = torch.zeros_like(target["vace_patch_embedding.weight"])
        vace[:, :old] = vace_old[:, :old]
        vace[:, channels:channels + old] = vace_old[:, old:2 * old]
        vace[:, 2 * channels:] = vace_old[:, 2 * old:]
        target["vace_patch_embedding.weight"].copy_(vace)
        # proj_out's rows are (patch position, channel) with the channel fastest (the model's unpatchify).
        rows = (torch.arange(patch)[:, None] * channels + torch.arange(old)[None, :]).flatten()
        target["proj_out.weight"].zero_()
        target["proj_out.bias"].zero_()
        target["proj_out.weight"][rows] = source["proj_out.weight"]
        target["proj_out.bias"][rows] = source["proj_out.bias"]
    wide.load_state_dict(target)
    return wide
