"""Stage 1 of the toy model: train the AutoencoderKLWan on the puppet world, then set its latent statistics.

The VAE sees what the pipeline will give it: clips of the world, pose videos (the control goes through the
same VAE) and references on white. Six steps in ten are whole 17-frame clips (the first frame alone, then four
groups of 4, as Wan's causal encoder splits them); the rest are single frames, which cost far less.
Everything is cropped to 64x112 and drawn fresh from the world at every step, so nothing repeats.
Loss: L1 + MSE on [-1, 1] pixels, on the latents' mode (the pipeline and the trainer encode with the mode,
never a sample), plus a small L2 on the latents that keeps their scale from drifting.

Four things make this small AutoencoderKLWan trainable from scratch (each was measured on a fixed batch:
without them it stalls at about 11 dB, below predicting each image's mean colour, 16.8 dB):
- the encoder's output is rescaled at init to unit std per channel: at its default init the latents are
  about 0.06 in spatial std, and the decoder's biases and per-pixel RMS norms flatten that to one colour;
- the encoder learns 8x slower than the decoder: at equal rates the latent scale drifts (std 1 -> 12) and
  the decoder chases it;
- the decoder's rate stays at 5e-4: at 1e-3 it falls into a constant output and never leaves it;
- the residual variant of the architecture (engine/toy/model.py), which learns several times faster.

After training, `latents_mean` / `latents_std` are measured on fresh clips and written into the config:
the pipeline normalises latents with them, and the transformer is trained on normalised latents.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from engine.cpu_conv import use_onednn_conv3d
from engine.toy import world
from engine.toy.world import HELDOUT_SEED_START
from engine.toy.model import build_vae

logger = logging.getLogger(__name__)


@dataclass
class VaeTrainConfig:
    """One VAE training run (the defaults made the shipped weights)."""

    steps: int = 900
    batch_size: int = 2
    """Clips per clip step; single-frame steps take twice as many."""
    clip_fraction: float = 0.6
    clip_frames: int = 17
    """Whole 17-frame clips: every chunk of the causal encoder and decoder (1 + 4 x 4 frames) is trained. On
    shorter clips the chunks never trained fall apart: trained on 5-frame clips, frames 5-16 reconstructed at
    8-11 dB; trained on 9-frame clips, the 4x VAE's frames 9-16 fell to 6-12 dB while frames 0-8 were at 18-21."""
    crop_height: int = 64
    crop_width: int = 112
    learning_rate: float = 5e-4
    """The decoder's learning rate."""
    encoder_learning_rate: float = 1e-4
    warmup_steps: int = 50
    latent_l2: float = 1e-4
    foreground_weight: float = 10.0
    """Loss weight of figure and skeleton pixels against 1 for the background. They are 2-8% of the pixels:
    unweighted, the VAE learned the backgrounds and reconstructed the figure as a ghost and every pose video
    as a black frame, so the latents the transformer reads carried no skeleton."""
    latent_noise: float = 0.0
    """Gaussian noise added to the latents before decoding, at a scale drawn per clip from 0 to this, in units of
    each channel's latent std. The transformer's latents are never exactly the encoder's: a toy generation's lie
    about 0.5 of a std (RMS) from what its own video encodes to. A decoder trained on clean latents alone turns
    that gap into grain on the floor. Only with the latent statistics set (a decoder leg)."""
    temporal_weight: float = 0.0
    """Weight of an L1 loss on the change from each frame to the next (reconstruction's against the clip's). The
    causal decoder starts each latent frame's 4 frames afresh, and a loss on frames alone let the video jump where
    one begins (2.4x the change elsewhere in round trips of clips that change evenly: research/toy_vae_ceiling.py).
    Only with clips of more than one frame."""
    block_colour_weight: float = 0.0
    """Weight of an L1 loss on the mean colour of each 4x4 block (one latent pixel's footprint), weighted on the
    figure. The VAE gives the clothes back greyed (a green top as grey-blue), though those block means alone keep
    0.99 of the clothes' colours (research/toy_vae_ceiling.py): this asks for them without the edges' blur."""
    crops_on_figure: bool = False
    """Place each crop so the figure's centre is inside it, not anywhere on the canvas: a random 64x112 crop of
    the 128x224 canvas often holds no figure at all, and the figure is what the VAE keeps worst."""
    seed: int = 0
    checkpoint_every: int = 250
    stats_clips: int = 64
    """Fresh clips encoded to measure the latent mean and std per channel."""


def to_tensor(frames: np.ndarray):
    """uint8 [T, H, W, 3] (or a batch [N, T, H, W, 3]) -> float [N, 3, T, H, W] in [-1, 1], as the pipeline's
    video processor gives."""
    import torch

    batch = frames if frames.ndim == 5 else frames[None]
    return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 4, 1, 2, 3).float().div(127.5).sub(1)


def training_batch(rng: np.random.Generator, config: VaeTrainConfig):
    """One step's batch, all of one shape: clips (videos 3 in 4, else pose videos) or single frames
    (video frames, references and pose frames); with each pixel's loss weight [N, 1, T, H, W]."""
    import torch

    if rng.random() < config.clip_fraction:
        clips = [training_clip(rng, config, config.clip_frames) for _ in range(config.batch_size)]
    else:
        clips = [training_clip(rng, config, 1) for _ in range(config.batch_size * 2)]
    frames = torch.cat([to_tensor(clip) for clip, _ in clips])
    weights = torch.from_numpy(np.stack([1 + config.foreground_weight * mask for _, mask in clips]))[:, None]
    return frames, weights.float()


def training_clip(rng: np.random.Generator, config: VaeTrainConfig, frames: int) -> tuple[np.ndarray, np.ndarray]:
    """A random crop of a clip, pose video or reference, and its foreground mask [T, H, W] (figure or bones)."""
    sample = world.make_sample(int(rng.integers(0, HELDOUT_SEED_START)))
    kind = rng.random()
    if frames == 1 and kind < 0.3:
        clip = sample.reference[None]
        mask = (clip < 245).any(axis=-1)  # the figure on white
    else:
        start = int(rng.integers(0, len(sample.video) - frames + 1))
        if kind < 0.75:
            clip, mask = sample.video[start:start + frames], sample.parts[start:start + frames] > 0
        else:
            clip = sample.pose_video[start:start + frames]
            mask = (clip > 20).any(axis=-1)  # bones and joints on black
    top, left = crop_corner(rng, config, mask)
    crop = (slice(None), slice(top, top + config.crop_height), slice(left, left + config.crop_width))
    return clip[crop], mask[crop].astype(np.float32)


def crop_corner(rng: np.random.Generator, config: VaeTrainConfig, mask: np.ndarray) -> tuple[int, int]:
    """The crop's top-left corner: anywhere, or (crops_on_figure) so that the centre of the mask [T, H, W] over
    all frames lies inside the crop, at a random place in it."""
    height, width = mask.shape[1:]
    top_room, left_room = height - config.crop_height, width - config.crop_width
    if not (config.crops_on_figure and mask.any()):
        return int(rng.integers(0, top_room + 1)), int(rng.integers(0, left_room + 1))
    ys, xs = np.nonzero(mask.any(axis=0))
    centre_y, centre_x = ys.mean(), xs.mean()
    top = centre_y - rng.uniform(0.25, 0.75) * config.crop_height
    left = centre_x - rng.uniform(0.25, 0.75) * config.crop_width
    return int(np.clip(round(top), 0, top_room)), int(np.clip(round(left), 0, left_room))


def vae_loss(vae, batch, latent_l2: float, weights=None, encoder_frozen: bool = False, latent_noise: float = 0.0,
             generator=None, temporal_weight: float = 0.0, block_colour_weight: float = 0.0):
    """Weighted L1 + MSE (the weights normalised to mean 1) plus the latent L2, the frame-change L1 and the block
    colour L1 (see VaeTrainConfig.temporal_weight and block_colour_weight); returns (loss, plain MSE). With the
    encoder frozen it runs without gradients, a third of a step's time saved; `latent_noise` (see VaeTrainConfig)
    is drawn from `generator`."""
    import torch

    with torch.set_grad_enabled(not encoder_frozen and torch.is_grad_enabled()):
        latents = vae.encode(batch).latent_dist.mode()
    if latent_noise:
        std = torch.tensor(vae.config.latents_std, dtype=latents.dtype).view(1, -1, 1, 1, 1)
        scale = torch.rand(len(latents), 1, 1, 1, 1, generator=generator, dtype=latents.dtype) * latent_noise
        noise = torch.randn(latents.shape, generator=generator, dtype=latents.dtype)
        latents = latents + scale * std * noise
    reconstruction = vae.decode(latents).sample
    error = reconstruction - batch
    weights = weights / weights.mean() if weights is not None else 1.0
    loss = (weights * (error.abs() + error ** 2)).mean()
    if temporal_weight and batch.shape[2] > 1:
        change_error = (reconstruction.diff(dim=2) - batch.diff(dim=2)).abs()
        into = weights[:, :, 1:] / weights[:, :, 1:].mean() if torch.is_tensor(weights) else 1.0  # the figure's
        loss = loss + temporal_weight * (into * change_error).mean()
    if block_colour_weight:
        loss = loss + block_colour_weight * block_colour_error(reconstruction, batch, weights)
    return loss + latent_l2 * latents.pow(2).mean(), (error ** 2).mean()


def block_colour_error(reconstruction, batch, weights, block: int = 4):
    """Weighted L1 between the mean colours of each block x block tile of every frame (weights: [N, 1, T, H, W]
    with mean 1, or 1.0); the weight of a tile is its pixels' mean weight."""
    import torch
    import torch.nn.functional as F

    def tiles(video):  # [N, C, T, H, W] -> [N, C, T, H / block, W / block]
        return F.avg_pool3d(video, kernel_size=(1, block, block))

    tile_weights = tiles(weights) if torch.is_tensor(weights) else 1.0
    return (tile_weights * (tiles(reconstruction) - tiles(batch)).abs()).mean()


def unit_scale_latents(vae, config: VaeTrainConfig):
    """Rescale the encoder's mean output to zero mean and unit std per channel on fresh clips (see above)."""
    import torch

    rng = np.random.default_rng([config.seed, 10**8])
    z_dim = vae.config.z_dim
    with torch.no_grad():
        batch = torch.cat([to_tensor(training_clip(rng, config, 1)[0]) for _ in range(16)])
        latents = vae.encode(batch).latent_dist.mode()
        mean, std = latents.mean(dim=(0, 2, 3, 4)), latents.std(dim=(0, 2, 3, 4))
        vae.quant_conv.weight[:z_dim] /= std.view(-1, 1, 1, 1, 1)
        vae.quant_conv.bias[:z_dim] = (vae.quant_conv.bias[:z_dim] - mean) / std


def train_vae(out_dir: str | Path, config: VaeTrainConfig = VaeTrainConfig(), resume: bool = True, on_log=None,
              architecture: dict | None = None):
    """Train, checkpointing to out_dir/vae-checkpoint; returns the trained VAE with its statistics set.
    `architecture` overrides the VAE's config (model.VAE_CONFIG) for a pilot of another geometry."""
    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(config.seed)
    vae = build_vae(**(architecture or {}))
    use_onednn_conv3d(vae)  # on a CPU: PyTorch would pick its slow reference kernel for these convolutions
    unit_scale_latents(vae, config)
    groups = [([*vae.encoder.parameters(), *vae.quant_conv.parameters()], config.encoder_learning_rate),
              ([*vae.decoder.parameters(), *vae.post_quant_conv.parameters()], config.learning_rate)]
    _train_steps(vae, groups, config, config.steps, out_dir / "vae-checkpoint.pt", out_dir / "vae_loss.csv",
                 draws=(config.seed,), resume=resume, on_log=on_log)
    vae.eval()
    set_latent_statistics(vae, config)
    return vae


def train_decoder(vae, out_dir: str | Path, steps: int, learning_rate: float = 3e-4,
                  config: VaeTrainConfig = VaeTrainConfig(), leg: int = 1, resume: bool = True, on_log=None,
                  latent_noise: float = 0.0, temporal_weight: float = 0.0):
    """A decoder leg: train a trained VAE's decoder `steps` more on a fresh cosine schedule, its encoder frozen.

    The encoder's latents stay exactly as they were, so the latent statistics, the transformer trained on them
    and every latent cache stay valid: only how latents become pixels changes. That is the one part of the toy
    that a CPU can improve without training the transformer again. Trains `vae` in place and returns it."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    use_onednn_conv3d(vae)
    for parameter in [*vae.encoder.parameters(), *vae.quant_conv.parameters()]:
        parameter.requires_grad_(False)
    groups = [([*vae.decoder.parameters(), *vae.post_quant_conv.parameters()], learning_rate)]
    config = replace(config, steps=steps, warmup_steps=min(config.warmup_steps, max(1, steps // 10)),
                     latent_noise=latent_noise, temporal_weight=temporal_weight)
    _train_steps(vae, groups, config, steps, out_dir / "decoder-checkpoint.pt", out_dir / "decoder_loss.csv",
                 draws=(config.seed, 10**7, leg), resume=resume, on_log=on_log, encoder_frozen=True)
    vae.eval()
    return vae


ENCODER_LEG_DRAWS = 77  # the encoder leg's batches: default_rng([77, step])
ENCODER_LEG_KINDS = ("pose", "clip", "pose", "reference")  # step % 4: half the steps on pose videos
ANCHORED_KINDS = ("clip", "reference")


def encoder_leg_batch(rng: np.random.Generator, config: VaeTrainConfig, kind: str):
    """One encoder-leg step's crops, all of one `kind`: two pose videos or clips (their first clip_frames), or
    four references on white; with each pixel's loss weight [N, 1, T, H, W] as training_batch gives."""
    import torch

    crops = []
    for _ in range(4 if kind == "reference" else 2):
        sample = world.make_sample(int(rng.integers(0, HELDOUT_SEED_START)))
        if kind == "pose":
            frames, mask = sample.pose_video, (sample.pose_video > 20).any(axis=-1)  # bones and joints on black
        elif kind == "clip":
            frames, mask = sample.video, sample.parts > 0
        else:
            frames = sample.reference[None]
            mask = (frames < 245).any(axis=-1)  # the figure on white
        top = int(rng.integers(0, world.HEIGHT - config.crop_height + 1))
        left = int(rng.integers(0, world.WIDTH - config.crop_width + 1))
        window = (slice(0, config.clip_frames), slice(top, top + config.crop_height), slice(left, left + config.crop_width))
        crops.append((frames[window], mask[window].astype(np.float32)))
    batch = torch.cat([to_tensor(frames) for frames, _ in crops])
    weights = torch.from_numpy(np.stack([1 + config.foreground_weight * mask for _, mask in crops]))[:, None]
    return batch, weights.float()


def train_encoder(vae, out_dir: str | Path, steps: int, learning_rate: float = 2e-4,
                  encoder_learning_rate: float = 1e-4, anchor_weight: float = 10.0,
                  config: VaeTrainConfig = VaeTrainConfig(), resume: bool = True, on_log=None):
    """An encoder leg: train a trained VAE's encoder and decoder `steps` more so that pose videos come through
    it, holding the latents of clips and references where they were.

    The control reaches a VACE transformer only as this VAE encodes it, and the first VAE, trained mostly on
    clips, gives back a third to a half of a pose video's bone pixels after frame 0 (four frames share a
    latent, and thin moving limbs smear): limbs it loses, no transformer can follow. Half the steps here are
    pose videos, free to move their latents; on the others (clips, references) the loss adds
    `anchor_weight` x the squared distance from a frozen copy's latents, in units of the latent std, so the
    latents the transformer learned to draw stay nearly where they were (the transformer still needs a leg
    to read the new pose latents). The latent statistics are kept. Trains `vae` in place and returns it."""
    import copy

    import torch

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frozen = copy.deepcopy(vae).eval().requires_grad_(False)
    for model in (vae, frozen):
        use_onednn_conv3d(model)
    std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)

    def step_loss(step: int, rng):
        kind = ENCODER_LEG_KINDS[step % len(ENCODER_LEG_KINDS)]
        batch, weights = encoder_leg_batch(rng, config, kind)
        latents = vae.encode(batch).latent_dist.mode()
        error = vae.decode(latents).sample - batch
        loss = (weights / weights.mean() * (error.abs() + error ** 2)).mean()
        if kind in ANCHORED_KINDS:
            with torch.no_grad():
                held = frozen.encode(batch).latent_dist.mode()
            loss = loss + anchor_weight * (((latents - held) / std) ** 2).mean()
        return loss + config.latent_l2 * latents.pow(2).mean(), (error ** 2).mean()

    groups = [([*vae.encoder.parameters(), *vae.quant_conv.parameters()], encoder_learning_rate),
              ([*vae.decoder.parameters(), *vae.post_quant_conv.parameters()], learning_rate)]
    _train_steps(vae, groups, config, steps, out_dir / "encoder-checkpoint.pt", out_dir / "encoder_loss.csv",
                 draws=(ENCODER_LEG_DRAWS,), resume=resume, on_log=on_log, step_loss=step_loss)
    vae.eval()
    return vae


def _train_steps(vae, groups: list, config: VaeTrainConfig, steps: int, checkpoint: Path, log_path: Path,
                 draws: tuple, resume: bool, on_log=None, encoder_frozen: bool = False, step_loss=None):
    """The VAE's training loop: AdamW over parameter groups [(parameters, peak rate)], a warmed-up cosine
    schedule, batches drawn from the world by (draws..., step) so a resumed run sees the same ones.
    `step_loss(step, rng) -> (loss, plain MSE)` replaces the usual batch and loss (the encoder leg's)."""
    import torch

    parameters = [p for group, _ in groups for p in group]
    optimizer = torch.optim.AdamW([{"params": group} for group, _ in groups], lr=groups[-1][1], weight_decay=0.0)
    start = 0
    if resume and checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=True)
        vae.load_state_dict(state["vae"])
        optimizer.load_state_dict(state["optimizer"])
        start = int(state["step"])
        logger.info("VAE: resuming at step %d", start)
    if start == 0:
        log_path.write_text("step,loss,mse,psnr,lr,seconds\n")
    vae.train()
    for step in range(start, steps):
        rng = np.random.default_rng([*draws, step])
        if step_loss is None:
            batch, weights = training_batch(rng, config)
            generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        started = time.perf_counter()
        factor = _schedule(step, config.warmup_steps, steps)
        for group, (_, rate) in zip(optimizer.param_groups, groups):
            group["lr"] = rate * factor
        if step_loss is None:
            value, mse = vae_loss(vae, batch, config.latent_l2, weights, encoder_frozen=encoder_frozen,
                                  latent_noise=config.latent_noise, generator=generator,
                                  temporal_weight=config.temporal_weight,
                                  block_colour_weight=config.block_colour_weight)
        else:
            value, mse = step_loss(step, rng)
        value.backward()
        loss, mse_total = float(value.detach()), float(mse.detach())
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds = time.perf_counter() - started
        psnr = 10 * math.log10(4.0 / max(mse_total, 1e-10))  # pixels span 2 in [-1, 1]
        with log_path.open("a") as handle:
            handle.write(f"{step + 1},{loss:.5f},{mse_total:.6f},{psnr:.2f},{groups[-1][1] * factor:.2e},{seconds:.2f}\n")
        if on_log:
            on_log(step + 1, loss, psnr)
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == steps:
            torch.save({"vae": vae.state_dict(), "optimizer": optimizer.state_dict(), "step": step + 1},
                       checkpoint.with_suffix(".partial"))
            checkpoint.with_suffix(".partial").replace(checkpoint)
            logger.info("VAE step %d: loss %.4f, batch PSNR %.1f dB", step + 1, loss, psnr)


def _schedule(step: int, warmup: int, total: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))) * 0.95 + 0.05


def set_latent_statistics(vae, config: VaeTrainConfig):
    """Measure per-channel latent mean and std on fresh clips (videos and pose videos alike) and store them."""
    import torch

    rng = np.random.default_rng([config.seed, 10**9])
    latents = []
    with torch.no_grad():
        for index in range(config.stats_clips):
            sample = world.make_sample(int(rng.integers(0, HELDOUT_SEED_START)))
            frames = sample.video if index % 2 == 0 else sample.pose_video
            latents.append(vae.encode(to_tensor(frames)).latent_dist.mode())
    stacked = torch.cat([z.permute(1, 0, 2, 3, 4).flatten(1) for z in latents], dim=1)
    mean = stacked.mean(dim=1).tolist()
    std = stacked.std(dim=1).clamp_min(1e-3).tolist()
    vae.register_to_config(latents_mean=[round(v, 5) for v in mean], latents_std=[round(v, 5) for v in std])
    return mean, std
