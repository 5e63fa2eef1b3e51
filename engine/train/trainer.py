"""A small LoRA trainer for WanVACETransformer3DModel, with peft, in the flow-matching objective Wan uses.

    config = TrainConfig.from_preset("self-attention")
    trainer = Trainer(config, data_dir, out_dir)
    trainer.run()

Each step: pick samples, draw noise levels (engine/train/timesteps.py), drop the reference and the prompt now
and then (so classifier-free guidance still works after training), noise the clip latents
x_s = (1 - s) x0 + s noise, and regress the velocity noise - x0 on the clip's frames. Not on the prepended
reference frame: WanVACEPipeline denoises that slot too and drops it before decoding, and the model reads
the reference from its conditioning (on the toy model, pinning the slot to the noised reference at every
sampling step changed no score). AdamW with linear warmup and cosine decay.

Samples are encoded once, as the pipeline prepares them, by engine/train/data.py (SampleEncoder).

Randomness is drawn from generators seeded by (seed, step), so a run resumed from a checkpoint repeats
the losses of an uninterrupted one exactly. Checkpoints are diffusers LoRA files (they load in the
Generate and Sweep tabs) with the optimizer and scheduler state and the resolved config beside them.
"""

from __future__ import annotations

import csv
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import yaml

from engine.lora import TRAINING_PROMPT_FILE
from engine.train.timesteps import sample_sigmas, timestep_bucket
from engine.train.config import TrainConfig, learning_rate_factor

logger = logging.getLogger(__name__)

CHECKPOINT_PREFIX = "checkpoint-"
LORA_FILE = "pytorch_lora_weights.safetensors"
FULL_WEIGHTS = "transformer"  # target full: a diffusers transformer folder instead of a LoRA file


class TrainingCancelled(RuntimeError):
    pass


def make_trainable(transformer, config: TrainConfig) -> int:
    """Every weight (target full, in fp32), or a LoRA on the targeted layers; returns trainable parameters."""
    if not config.is_full:
        return add_lora(transformer, config)
    transformer.requires_grad_(True)
    for parameter in transformer.parameters():
        parameter.data = parameter.data.float()
    return sum(p.numel() for p in transformer.parameters())


def add_lora(transformer, config: TrainConfig) -> int:
    """Freeze the transformer, attach a peft LoRA to the targeted layers; returns trainable parameters."""
    import re

    import torch
    from peft import LoraConfig

    names = [name for name, _ in transformer.named_modules() if re.fullmatch(config.target_pattern, name)]
    if not names:
        raise ValueError(f"target {config.target!r} matches no layer of this transformer ({config.target_pattern})")
    transformer.requires_grad_(False)
    torch.manual_seed(config.seed)  # peft draws the LoRA A matrices from the global generator
    transformer.add_adapter(LoraConfig(r=config.rank, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                       target_modules=config.target_pattern, init_lora_weights=True))
    trainable = [p for p in transformer.parameters() if p.requires_grad]
    for parameter in trainable:  # AdamW on bf16 weights loses small updates: train the LoRA in fp32
        parameter.data = parameter.data.float()
    return sum(p.numel() for p in trainable)


def weighted_mse(prediction, target, weight=None):
    """Mean squared error of each sample in the batch, [B]; with `weight` (broadcast over channels), a weighted
    mean: uniform weights of any size give the plain loss."""
    errors = (prediction.float() - target.float()) ** 2
    dims = tuple(range(1, errors.ndim))
    if weight is None:
        return errors.mean(dim=dims)
    weight = weight.expand_as(errors)
    return (errors * weight).sum(dim=dims) / weight.sum(dim=dims)


class Draw(NamedTuple):
    """What a training step drew for one of its samples."""

    sigma: float
    drop_reference: bool
    drop_prompt: bool


class Trainer:
    """Owns one pipeline (loaded from `model`), the encoded dataset, the optimizer and the run folder."""

    def __init__(self, config: TrainConfig, data_dir: str | Path, out_dir: str | Path, model: str = "auto",
                 accelerator=None, engine=None):
        import torch
        from accelerate import Accelerator

        self.config = config
        self.data_dir = Path(data_dir)
        self.out_dir = Path(out_dir)
        self.model = model
        self.engine = engine  # an Engine to train instead of loading `model` (the toy model's own run)
        mixed = config.mixed_precision
        if mixed == "auto":
            mixed = "bf16" if torch.cuda.is_available() else "no"
        # Without CUDA, cpu=True gives a gloo process group, so `accelerate launch` works with CPU processes.
        self.accelerator = accelerator or Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=mixed)
        self.samples = []
        self.encoded = []
        self.losses = []

    # ---- set-up ---------------------------------------------------------------------------------------

    def load_model(self):
        from engine.engine import Engine

        engine = self.engine or Engine.from_name(self.model, device=str(self.accelerator.device))
        self.engine = engine  # also renders the validation videos, with the LoRA as it is being trained
        self.pipe = engine.load()
        self.transformer = self.pipe.transformer
        self.pipe.vae.requires_grad_(False)
        self.pipe.text_encoder.requires_grad_(False)
        self.trainable_parameters = make_trainable(self.transformer, self.config)
        if self.config.gradient_checkpointing:
            self.transformer.enable_gradient_checkpointing()
        return self.pipe

    def estimate(self):
        """Tokens, FLOPs, memory and a time floor for one sample-step at the configured size."""
        from engine.train.estimate import estimate_step

        c = self.config
        model = self.accelerator.unwrap_model(self.transformer)
        return estimate_step(dict(model.config), c.height, c.width, c.num_frames, self.trainable_parameters,
                             c.gradient_checkpointing, parameters=sum(p.numel() for p in model.parameters()),
                             spatial_factor=self.pipe.vae_scale_factor_spatial)

    def check_data(self):
        """Find and validate every sample (no model needed): call it first to fail fast."""
        from engine.train.data import find_samples, validate_samples

        self.samples = find_samples(self.data_dir)
        self.checks = validate_samples(self.samples, self.config.num_frames, self.config.fps)
        return self.checks

    def prepare_data(self, on_progress=None):
        if not self.samples:
            self.check_data()
        from engine.train.data import SampleEncoder

        encoder = SampleEncoder(self.pipe, self.engine, self.config, self.out_dir / "cache")
        self.encoded, self.pose_videos = [], []
        for index, sample in enumerate(self.samples):
            if on_progress:
                on_progress(index, len(self.samples), sample.name)
            encoded, pose_video = encoder.encode(sample)
            self.encoded.append(encoded)
            self.pose_videos.append(pose_video)
        self.empty_prompt = encoder.encode_prompt("").cpu()
        if self.accelerator.device.type == "cuda" and not self.config.validate_every:
            # Prompts are encoded: the text encoder (UMT5-XXL, ~11 GB in bf16) is not needed on the GPU.
            self.pipe.text_encoder.to("cpu")
        return self.checks

    # ---- training -------------------------------------------------------------------------------------

    def make_optimizer(self):
        import torch

        c = self.config
        self.trainable = [p for p in self.transformer.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.trainable, lr=c.learning_rate, weight_decay=c.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: learning_rate_factor(step, c.warmup_steps, c.max_steps))
        # The scheduler stays outside accelerate, which would step it once per process: the learning rate
        # follows optimizer steps, however many processes share them.
        self.transformer, self.optimizer = self.accelerator.prepare(self.transformer, self.optimizer)
        layers = len(self.accelerator.unwrap_model(self.transformer).config.vace_layers)
        self.vace_scale = torch.ones(layers, device=self.accelerator.device)

    def step_generator(self, step: int):
        import torch

        return torch.Generator().manual_seed(self.config.seed * 1_000_003 + step)

    def micro_batches(self, step: int) -> list[list[int]]:
        """Which samples each micro-batch of this step sees: a seeded shuffle, split across processes."""
        import torch

        c = self.config
        needed = c.batch_size * c.gradient_accumulation * self.accelerator.num_processes
        order = []
        epoch_seed = c.seed * 7919 + step
        while len(order) < needed:
            order += torch.randperm(len(self.encoded), generator=torch.Generator().manual_seed(epoch_seed)).tolist()
            epoch_seed += 1_000_000
        mine = order[self.accelerator.process_index::self.accelerator.num_processes][:c.batch_size * c.gradient_accumulation]
        return [mine[i:i + c.batch_size] for i in range(0, len(mine), c.batch_size)]

    def batch_losses(self, samples: list, sigmas: list[float], generator, drop_reference: bool,
                     drop_prompts: list[bool]):
        """Flow-matching loss of each sample, [B], from one forward pass: the samples share a shape (the same
        drop_reference, the same size). One pass for the batch keeps a GPU busy where the toy model's small
        samples one at a time would leave it waiting on kernel launches."""
        import torch

        device = self.accelerator.device
        target = torch.cat([s.target_without_reference if drop_reference else s.target for s in samples]).to(device)
        conditioning = torch.cat([s.conditioning_without_reference if drop_reference else s.conditioning
                                  for s in samples]).to(device)
        prompt = torch.cat([self.prompt_for(s, drop, drop_reference) for s, drop in zip(samples, drop_prompts)]).to(device)
        noise = torch.randn(target.shape, generator=generator).to(device)
        sigma = torch.tensor(sigmas, device=device, dtype=torch.float32).view(-1, 1, 1, 1, 1)
        noisy = (1 - sigma) * target + sigma * noise
        with self.accelerator.autocast():
            prediction = self.transformer(hidden_states=noisy, timestep=sigma.flatten() * 1000.0,
                                          encoder_hidden_states=prompt, control_hidden_states=conditioning,
                                          control_hidden_states_scale=self.vace_scale, return_dict=False)[0]
        skip = 0 if drop_reference else 1  # the prepended reference frame is copied, not learned
        velocity = noise - target
        return weighted_mse(prediction[:, :, skip:], velocity[:, :, skip:], self.loss_weights(samples, velocity))

    @staticmethod
    def loss_weights(samples: list, velocity):
        """The samples' loss weights stacked [B, 1, f, h, w], ones where a sample has none; None if none has."""
        import torch

        if all(s.loss_weight is None for s in samples):
            return None
        shape = (1, 1, *samples[0].target_without_reference.shape[2:])  # the clip's frames, as the loss keeps
        return torch.cat([torch.ones(shape) if s.loss_weight is None else s.loss_weight for s in samples]).to(velocity.device)

    def evaluation_loss(self, sigmas=(0.2, 0.4, 0.6, 0.8), seed: int = 1234) -> float:
        """Mean loss over every sample at fixed noise levels and fixed noise: comparable between steps."""
        import torch

        self.transformer.eval()
        generator = torch.Generator().manual_seed(seed)
        losses = []
        with torch.no_grad():
            for sample in self.encoded:
                for sigma in sigmas:
                    losses.append(float(self.batch_losses([sample], [sigma], generator, False, [False])[0]))
        return sum(losses) / len(losses)

    def train_step(self, step: int) -> dict:
        import torch

        c = self.config
        generator = self.step_generator(step)
        torch.manual_seed(c.seed * 1_000_003 + step)  # peft's LoRA dropout draws from the global generator
        self.transformer.train()
        batches = self.micro_batches(step)
        count = sum(len(batch) for batch in batches)
        draws = self.draws(count, step, generator)
        total, records, position = 0.0, [None] * count, 0
        for batch in batches:
            entries = [(position + i, index) for i, index in enumerate(batch)]  # (draw, sample) pairs
            position += len(batch)
            for group in self.same_shape_groups(entries, draws):
                picked = [draws[p] for p, _ in group]
                losses = self.batch_losses([self.encoded[index] for _, index in group], [d.sigma for d in picked],
                                           generator, picked[0].drop_reference, [d.drop_prompt for d in picked])
                self.accelerator.backward(losses.sum() / count)
                for (p, _), d, value in zip(group, picked, losses.detach().float().tolist()):
                    total += value / count
                    records[p] = (d.sigma, value, d.drop_reference, d.drop_prompt)
        if c.max_grad_norm:
            self.accelerator.clip_grad_norm_(self.trainable, c.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        record = {"step": step + 1, "loss": total, "lr": self.scheduler.get_last_lr()[0], "samples": records}
        if self.accelerator.device.type == "cuda":
            record["peak_memory_gb"] = torch.cuda.max_memory_allocated() / 1e9
        return record

    def draws(self, count: int, step: int, generator) -> list[Draw]:
        """The step's noise level and reference / prompt drops for each of its `count` samples."""
        import torch

        c = self.config
        sigmas = sample_sigmas(count, c.sampler, step, generator=generator, logit_mean=c.logit_mean,
                               logit_std=c.logit_std, shift=c.shift, warmup_alpha=c.warmup_alpha,
                               warmup_tau=c.warmup_tau).tolist()
        drops = torch.rand(count, 2, generator=generator).tolist()
        return [Draw(sigma, reference < c.reference_dropout, prompt < c.prompt_dropout)
                for sigma, (reference, prompt) in zip(sigmas, drops)]

    def prompt_for(self, sample, drop_prompt: bool, drop_reference: bool):
        """The prompt embedding a step trains on: the empty prompt when it drops the prompt, the prompt without
        the reference's tokens when it drops the reference (engine/reference_tokens.py), else the sample's."""
        if drop_prompt:
            return self.empty_prompt
        if drop_reference and getattr(sample, "prompt_embeds_without_reference", None) is not None:
            return sample.prompt_embeds_without_reference
        return sample.prompt_embeds

    def same_shape_groups(self, entries: list[tuple[int, int]], draws: list) -> list[list[tuple[int, int]]]:
        """(draw, sample) pairs of a micro-batch grouped so that each group can share one forward pass: the same
        reference drop and the same latent, conditioning and prompt shapes."""
        groups: dict[tuple, list] = {}
        for position, index in entries:
            sample, draw = self.encoded[index], draws[position]
            prompt = self.prompt_for(sample, draw.drop_prompt, draw.drop_reference)
            key = (draw.drop_reference, tuple(sample.target.shape), tuple(sample.conditioning.shape),
                   tuple(prompt.shape))
            groups.setdefault(key, []).append((position, index))
        return list(groups.values())

    def run(self, on_step=None, should_stop=None, resume: str | Path | None = None) -> Path:
        """Train to max_steps; returns the final LoRA file. Cancelling saves a checkpoint first."""
        c = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # The main process builds the tiny model and fills the encode cache first; the others then read them.
        with self.accelerator.main_process_first():
            if not hasattr(self, "pipe"):
                self.load_model()
            if not self.encoded:
                self.prepare_data()
        self.make_optimizer()
        start = self.load_checkpoint(resume) if resume else 0
        self.write_config()
        if c.validate_every and start == 0:
            self.render_validation(0)  # the model before training (a new LoRA changes nothing): what to compare with
        for step in range(start, c.max_steps):
            if should_stop and should_stop():
                self.save_checkpoint(step)
                raise TrainingCancelled(f"stopped at step {step}; checkpoint saved")
            started = time.perf_counter()
            record = self.train_step(step)
            record["seconds"] = time.perf_counter() - started
            self.losses.append(record)
            self.append_loss(record)
            if on_step:
                on_step(record)
            if (step + 1) % c.checkpoint_every == 0 and step + 1 < c.max_steps:
                self.save_checkpoint(step + 1)
            if c.validate_every and (step + 1) % c.validate_every == 0:
                self.render_validation(step + 1)
        return self.save_lora(self.out_dir)

    def render_validation(self, step: int) -> Path | None:
        """A video at a fixed seed from the first sample's pose and reference, to watch what the LoRA learns.

        The blog saw identity and background leaking into its LoRA only after three days; a video every
        few hundred steps shows it early.
        """
        if not self.accelerator.is_main_process:
            return None
        c = self.config
        sample = self.samples[0]
        folder = self.out_dir / "validation"
        folder.mkdir(parents=True, exist_ok=True)
        reference = folder / "reference.png"
        if not reference.is_file():
            from engine.train.data import read_clip, reference_image

            frames = read_clip(sample.video, c.height, c.width, c.num_frames, c.fps, c.fit)
            reference_image(sample, frames, c.height, c.width).save(reference)
        request = self.engine.default_request(
            control_video=str(self.pose_videos[0]), reference=str(reference),
            prompt=c.validation_prompt or sample.prompt, seed=c.seed, height=c.height, width=c.width,
            num_frames=c.num_frames, fps=c.fps, control_fit=c.fit)
        result = self.engine.generate(request, out_dir=folder / f"step-{step:06d}")
        self.transformer.train()
        logger.info("validation video %s", result.video_path)
        return Path(result.video_path)

    # ---- files ----------------------------------------------------------------------------------------

    def write_config(self):
        if self.accelerator.is_main_process:
            (self.out_dir / "config.yaml").write_text(yaml.safe_dump(asdict(self.config), sort_keys=False))

    def append_loss(self, record: dict):
        if not self.accelerator.is_main_process:
            return
        path = self.out_dir / "loss.csv"
        new = not path.is_file()
        with path.open("a", newline="") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["step", "loss", "lr", "seconds", "sigma", "sample_loss", "bucket"])
            for sigma, value, _, _ in record["samples"]:
                writer.writerow([record["step"], f"{record['loss']:.6f}", f"{record['lr']:.3e}",
                                 f"{record['seconds']:.3f}", f"{sigma:.4f}", f"{value:.6f}", timestep_bucket(sigma)])

    def save_lora(self, folder: Path) -> Path:
        from diffusers import WanVACEPipeline
        from peft import get_peft_model_state_dict

        folder.mkdir(parents=True, exist_ok=True)
        model = self.accelerator.unwrap_model(self.transformer)
        if self.accelerator.is_main_process:
            if self.config.is_full:
                model.save_pretrained(folder / FULL_WEIGHTS)
            else:
                layers = get_peft_model_state_dict(model)
                # The metadata keeps lora_alpha with the file: without it a reader must assume alpha == rank.
                WanVACEPipeline.save_lora_weights(str(folder), transformer_lora_layers=layers,
                                                  transformer_lora_adapter_metadata={"r": self.config.rank,
                                                                                     "lora_alpha": self.config.lora_alpha})
            (folder / "config.yaml").write_text(yaml.safe_dump(asdict(self.config), sort_keys=False))
            prompts = [sample.prompt for sample in self.samples if sample.prompt]
            if prompts:  # Generate shows it beside the LoRA: what to ask for to see what the LoRA learned
                (folder / TRAINING_PROMPT_FILE).write_text(prompts[0] + "\n")
        self.accelerator.wait_for_everyone()
        return folder / (FULL_WEIGHTS if self.config.is_full else LORA_FILE)

    def save_checkpoint(self, step: int) -> Path:
        import torch

        folder = self.out_dir / f"{CHECKPOINT_PREFIX}{step:06d}"
        self.save_lora(folder)
        if self.accelerator.is_main_process:
            torch.save({"step": step, "optimizer": self.optimizer.state_dict(),
                        "scheduler": self.scheduler.state_dict()}, folder / "training_state.pt")
        self.accelerator.wait_for_everyone()
        if self.accelerator.is_main_process:
            logger.info("checkpoint %s", folder)
        return folder

    def load_checkpoint(self, folder: str | Path) -> int:
        """Restore the trained weights (LoRA or full), optimizer and scheduler; returns the step to continue from."""
        import torch
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        folder = Path(folder)
        weights_name = FULL_WEIGHTS if self.config.is_full else LORA_FILE
        if not (folder / weights_name).exists() or not (folder / "training_state.pt").is_file():
            raise ValueError(f"{folder}: not a training checkpoint (needs {weights_name} and training_state.pt)")
        model = self.accelerator.unwrap_model(self.transformer)
        if self.config.is_full:
            from safetensors.torch import load_file as load_weights

            model.load_state_dict(load_weights(folder / FULL_WEIGHTS / "diffusion_pytorch_model.safetensors"))
        else:
            weights = load_file(folder / LORA_FILE)
            weights = {name.removeprefix("transformer."): value for name, value in weights.items()}
            set_peft_model_state_dict(model, weights)
        state = torch.load(folder / "training_state.pt", weights_only=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        return int(state["step"])


def read_loss_csv(run_dir: str | Path) -> list[dict]:
    path = Path(run_dir) / "loss.csv"
    if not path.is_file():
        return []
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    return sorted(Path(run_dir).glob(f"{CHECKPOINT_PREFIX}*/{LORA_FILE}"))
