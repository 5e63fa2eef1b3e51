"""Stages 2 and 3 of the toy model: encode a puppet-world dataset once, then train the transformer with the
lab's own trainer (engine/train/trainer.py, target `full`), and assemble the pipeline that ships.

    vae = train_vae(out_dir)                                   # stage 1, engine/toy/factory/vae_training.py
    pipe = initial_pipeline(vae)                               # trained VAE + random transformer
    samples = encode_world(engine, seeds)                      # stage 2: latents, conditioning, prompts
    train_transformer(engine, samples, config, out_dir)        # stage 3: flow matching, VACE conditioning

Encoding follows the pipeline exactly (a test compares it with WanVACEPipeline's own prepare_video_latents):
the control's "inactive" half is the encode of an all-zero video, the same for every clip, so it is
encoded once; the pose video, the clip and the reference are encoded in batches.
"""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path

import numpy as np

from engine.toy import world
from engine.toy.model import assemble_pipeline, build_transformer
from engine.toy.factory.vae_training import to_tensor
from engine.latents import normalised_latents

logger = logging.getLogger(__name__)

MAX_SEQUENCE_LENGTH = 64  # toy prompts are under 30 tokens; Wan's 512 would only cost cross-attention time
ENCODE_BATCH = 4


def initial_pipeline(vae):
    import torch

    torch.manual_seed(1)
    return assemble_pipeline(vae, build_transformer(vae.config.z_dim))


class WorldEncoder:
    """Encodes world samples the way WanVACEPipeline prepares them, for training."""

    def __init__(self, pipe, num_frames: int = world.NUM_FRAMES, height: int = world.HEIGHT, width: int = world.WIDTH):
        import torch

        self.pipe = pipe
        vae = pipe.vae
        self.device = vae.device  # encoded on the pipeline's device (a GPU in seconds), kept on the CPU
        with torch.no_grad():
            zeros = torch.zeros(1, 3, num_frames, height, width, device=self.device, dtype=vae.dtype)
            self.inactive = normalised_latents(vae, zeros).cpu()
            mask = torch.ones(1, 3, num_frames, height, width)
            # The masks the pipeline builds for a full-frame control plus one reference image.
            self.masks = pipe.prepare_masks(mask, [[None]]).float()

    def encode(self, frames: np.ndarray):
        import torch

        vae = self.pipe.vae
        with torch.no_grad():
            return normalised_latents(vae, to_tensor(frames).to(self.device, vae.dtype)).cpu()

    def encode_samples(self, samples: list) -> list[dict]:
        """Per sample: target (reference latent + clip latents), conditioning with the reference, and the
        same two without it (views: the reference is the first latent frame)."""
        import torch

        clips = self.encode(np.stack([s.video for s in samples]))
        poses = self.encode(np.stack([s.pose_video for s in samples]))
        references = self.encode(np.stack([s.reference[None] for s in samples]))
        encoded = []
        for index in range(len(samples)):
            reference = references[index:index + 1]
            control = torch.cat([self.inactive, poses[index:index + 1]], dim=1)
            reference_frame = torch.cat([reference, torch.zeros_like(reference)], dim=1)
            conditioning = torch.cat([torch.cat([reference_frame, control], dim=2), self.masks], dim=1)
            target = torch.cat([reference, clips[index:index + 1]], dim=2)
            encoded.append(dict(target=target, conditioning=conditioning, target_without_reference=target[:, :, 1:],
                                conditioning_without_reference=conditioning[:, :, 1:]))
        return encoded


def figure_weight(parts: np.ndarray, weight: float, spatial: int = 4, temporal: int = 4, grow_px: int = 4):
    """[1, 1, f, h, w] loss weights on the latent grid: `weight` where the figure (grown by grow_px) touches a
    latent position, 1 elsewhere."""
    return weight_from_mask(figure_latent_mask(parts, spatial, temporal, grow_px), weight)


def weight_from_mask(mask, weight: float):
    return 1 + (weight - 1) * mask


def figure_latent_mask(parts: np.ndarray, spatial: int = 4, temporal: int = 4, grow_px: int = 4):
    """[1, 1, f, h, w]: 1 where the figure (grown by grow_px) touches a latent position, else 0. Wan's causal VAE
    gives the first frame a latent of its own, then one per `temporal` frames."""
    import torch
    import torch.nn.functional as F

    mask = torch.from_numpy(parts > 0).float()[None]  # [1, T, H, W]
    if grow_px:
        mask = F.max_pool2d(mask, 2 * grow_px + 1, stride=1, padding=grow_px)
    mask = F.max_pool2d(mask, spatial)[0]  # [T, h, w]
    groups = [mask[:1]] + [mask[1 + i: 1 + i + temporal] for i in range(0, mask.shape[0] - 1, temporal)]
    return torch.stack([group.amax(dim=0) for group in groups])[None, None]  # [1, 1, f, h, w]


def uses_scene_prompt(seed: int, share: float) -> bool:
    """Whether clip `seed` trains with the prompt that leaves the clothes out: a fixed draw per seed, so a
    resumed run or a later leg gives each clip the same prompt."""
    return share > 0 and float(np.random.default_rng([seed, 99]).random()) < share


def uses_reference_tokens(seed: int, share: float) -> bool:
    """Whether clip `seed` trains with the scene prompt and its reference's tokens beside it, as a generation with
    a reference encoder gets them (a fixed draw per seed, like uses_scene_prompt)."""
    return share > 0 and float(np.random.default_rng([seed, 94]).random()) < share


def uses_aligned_reference(seed: int, share: float) -> bool:
    """Whether clip `seed` trains with its reference in the pose and place of one of its own frames (a fixed
    draw per seed, like uses_scene_prompt)."""
    return share > 0 and float(np.random.default_rng([seed, 98]).random()) < share


def aligned_reference_frame(seed: int, num_frames: int = world.NUM_FRAMES) -> int:
    """Which of clip `seed`'s frames its aligned reference copies the pose and place of."""
    return int(np.random.default_rng([seed, 97]).integers(num_frames))


def aligned_sample(seed: int):
    """World clip `seed` with its aligned reference (a top-level function, so worker processes can draw it)."""
    return world.make_sample(seed, reference_frame=aligned_reference_frame(seed))


TRAVEL_SPEEDS = (2.0, 5.0)
"""Pixels a frame a travelling clip crosses at (either way): from the world's fastest walks (2.5) to past the
eval's unseen walk (4), so 17 frames carry the figure 32-80 px, two to five of the transformer's 16-px tokens."""


def uses_travel(seed: int, share: float) -> bool:
    """Whether clip `seed` trains crossing the frame (world.make_sample's travel; a fixed draw per seed)."""
    return share > 0 and float(np.random.default_rng([seed, 96]).random()) < share


def travel_speed(seed: int) -> float:
    low, high = TRAVEL_SPEEDS
    rng = np.random.default_rng([seed, 95])
    return float(rng.choice([-1.0, 1.0]) * rng.uniform(low, high))


def travelling_sample(seed: int):
    """World clip `seed` crossing the frame at its travel_speed (top-level, so worker processes can draw it)."""
    return world.make_sample(seed, travel=travel_speed(seed))


def leg_clip(seed: int, travelling: frozenset = frozenset()):
    """The clip a leg trains on for `seed`: crossing the frame when the seed is among `travelling`, else the
    world's own (top-level, so worker processes can draw it)."""
    return travelling_sample(seed) if seed in travelling else world.make_sample(seed)


def clip_key(seed: int, travelling: bool) -> str:
    """The cache's name for a clip: its seed, marked when it travels (another clip of the same seed)."""
    return f"{seed}.travelling" if travelling else str(seed)


def encode_world(engine, seeds: list[int], on_progress=None, cache: str | Path | None = None,
                 foreground_weight: float = 1.0, scene_prompt_share: float = 0.0,
                 aligned_reference_share: float = 0.0, travel_share: float = 0.0,
                 reference_token_share: float = 0.0) -> list:
    """EncodedSample for each world seed (prompts through the engine's encoder, as generation does).

    With `cache` (a .safetensors path), samples already there are read back instead of encoded again, and the
    file is written when encoding finishes: a resumed build skips minutes of encoding. A foreground_weight
    above 1 weights the figure's latent positions up in the loss (figure_weight). A scene_prompt_share of
    clips train with world.scene_prompt (action and floor only) instead of the full prompt, so their look can
    come only from the reference. An aligned_reference_share of clips train with the reference in the pose and
    place of one of their frames (world.make_sample's reference_frame): colours there can be copied straight
    across. A travel_share of clips cross the frame at 2-5 pixels a frame (travelling_sample; they keep the
    neutral reference), where the world's own figures mostly move in place. A reference_token_share of clips
    train with the scene prompt and the reference encoder's tokens for their reference beside it (the engine's
    with_reference_tokens, as generation gives them), so the look comes from those tokens; it needs a pipeline
    with a reference encoder. The cache keeps one probe prompt's features beside the prompts' (and one
    reference's tokens): when the text encoder (or the reference encoder) has changed since, they are made again.
    """
    from engine.train.data import EncodedSample

    if reference_token_share and not engine.reads_reference_tokens:
        raise ValueError("training with the reference's tokens needs a pipeline with a reference encoder: "
                         "run a --reference-encoder leg first")
    stored = _read_cache(cache)
    probe = _prompt_probe(engine)
    if not _same_probe(stored.get("text_encoder.probe"), probe):
        # Encoded by another text encoder (a leg that changed it), or by a cache too old to say: stale prompts.
        _forget_prompts(stored)
    token_probe = _reference_token_probe(engine)
    if token_probe is None or not _same_probe(stored.get("reference_encoder.probe"), token_probe):
        _forget_prompts(stored, ".reference_prompt")  # made by another reference encoder, or by none
    travelling = frozenset(seed for seed in seeds if uses_travel(seed, travel_share))
    aligned = {seed for seed in seeds
               if seed not in travelling and uses_aligned_reference(seed, aligned_reference_share)}
    keys = {seed: clip_key(seed, seed in travelling) for seed in seeds}
    draw = partial(leg_clip, travelling=travelling)
    missing = [seed for seed in seeds if f"{keys[seed]}.target" not in stored]
    unaligned = [seed for seed in seeds if seed in aligned and f"{seed}.aligned_reference" not in stored]
    tokened = {seed for seed in seeds if uses_reference_tokens(seed, reference_token_share)}
    unprompted = [seed for seed in seeds if f"{keys[seed]}.target" in stored and (
        f"{keys[seed]}.prompt" not in stored or (seed in tokened and f"{keys[seed]}.reference_prompt" not in stored))]
    if missing or unaligned or unprompted:
        encoder = WorldEncoder(engine.load())
        _encode_in_batches(missing, draw, lambda batch: _store_clips(stored, engine, encoder, batch), on_progress)
        # An aligned clip differs from the plain one only in its reference: that latent is all it adds.
        _encode_in_batches(unaligned, aligned_sample,
                           lambda batch: _store_aligned_references(stored, encoder, batch), on_progress)
        _encode_in_batches(unprompted, draw, lambda batch: _store_prompts(stored, engine, batch), on_progress)
        stored["text_encoder.probe"] = probe
        if token_probe is not None:
            stored["reference_encoder.probe"] = token_probe
        _write_cache(cache, stored)
    samples = []
    for seed in seeds:
        key = keys[seed]
        target, conditioning = stored[f"{key}.target"], stored[f"{key}.conditioning"]
        if seed in aligned:
            target, conditioning = with_reference_latent(target, conditioning, stored[f"{seed}.aligned_reference"])
        prompt = stored[f"{key}.prompt"]
        if uses_scene_prompt(seed, scene_prompt_share):
            prompt = stored[f"{key}.scene_prompt"]
        if seed in tokened:
            prompt = stored[f"{key}.reference_prompt"]
        weight = None
        if foreground_weight != 1.0:
            mask = stored.get(f"{key}.figure")
            if mask is None:  # a cache from before the masks were stored (none travelled then)
                mask = figure_latent_mask(world.make_sample(seed).parts)
            weight = weight_from_mask(mask, foreground_weight)
            if weight.shape[2:] != target[:, :, 1:].shape[2:]:  # the clip's frames, without the reference
                raise ValueError(f"figure weights {tuple(weight.shape)} do not fit latents {tuple(target.shape)}")
        samples.append(EncodedSample(name=f"world-{key}", target=target, conditioning=conditioning,
                                     target_without_reference=target[:, :, 1:],
                                     conditioning_without_reference=conditioning[:, :, 1:],
                                     prompt_embeds=prompt, loss_weight=weight))
    return samples


def _encode_in_batches(seeds: list[int], make, store, on_progress=None):
    """Draw the seeds' samples (`make`) ENCODE_BATCH at a time and `store` each batch's encodes."""
    started = time.perf_counter()
    for done, batch in enumerate(render_in_batches(seeds, ENCODE_BATCH, make=make), start=1):
        store(batch)
        if on_progress:
            on_progress(min(done * ENCODE_BATCH, len(seeds)), len(seeds), time.perf_counter() - started)


def _store_clips(stored: dict, engine, encoder: WorldEncoder, batch: list):
    for sample, tensors in zip(batch, encoder.encode_samples(batch)):
        key = clip_key(sample.seed, sample.travel is not None)
        # Rounded through half precision as the cache stores them, so a resumed build sees the same.
        stored[f"{key}.target"] = tensors["target"].half().float()
        stored[f"{key}.conditioning"] = tensors["conditioning"].half().float()
        stored[f"{key}.figure"] = figure_latent_mask(sample.parts)
    _store_prompts(stored, engine, batch)


def _store_prompts(stored: dict, engine, batch: list):
    from PIL import Image

    for sample in batch:
        key = clip_key(sample.seed, sample.travel is not None)
        stored[f"{key}.prompt"] = _embedding(engine, sample.prompt)
        stored[f"{key}.scene_prompt"] = _embedding(engine, world.scene_prompt(sample.look, sample.motion))
        if engine.reads_reference_tokens:  # the world's references are drawn at the frame's size: no letterbox
            with_tokens = engine.with_reference_tokens(stored[f"{key}.scene_prompt"], Image.fromarray(sample.reference))
            stored[f"{key}.reference_prompt"] = with_tokens.half().float()  # as the cache keeps it


def _forget_prompts(stored: dict, endings: tuple[str, ...] | str = (".prompt", ".scene_prompt", ".reference_prompt")):
    """Drop the cached prompt embeddings whose names end so (every kind, .reference_prompt too, by default)."""
    for name in [name for name in stored if name.endswith(endings)]:
        del stored[name]


def _reference_token_probe(engine):
    """One reference's tokens from the engine's reference encoder (None without one), stored with the cache."""
    if not engine.reads_reference_tokens:
        return None
    from PIL import Image

    reference = Image.fromarray(world.make_sample(0).reference)
    return engine.with_reference_tokens(_embedding(engine, "a figure"), reference).half().float().cpu()


def _prompt_probe(engine):
    """One prompt's features, stored with the cache: they differ when the text encoder does."""
    return _embedding(engine, "a person in a red top and blue trousers dances on a grey background")


def _same_probe(stored_probe, probe) -> bool:
    """Whether a cache's probe (a text or reference encoder's output for a fixed input) is today's: an encoder
    that changed since gives another."""
    import torch

    return stored_probe is not None and stored_probe.shape == probe.shape and torch.allclose(stored_probe, probe,
                                                                                            atol=1e-3)


def _embedding(engine, prompt: str):
    # Rounded through half precision as the cache stores it, so a resumed build sees the same.
    return engine.prompt_embedding(prompt).half().float().cpu()


def _store_aligned_references(stored: dict, encoder: WorldEncoder, batch: list):
    references = encoder.encode(np.stack([sample.reference[None] for sample in batch]))
    for index, sample in enumerate(batch):
        stored[f"{sample.seed}.aligned_reference"] = references[index:index + 1].half().float()


def with_reference_latent(target, conditioning, reference):
    """The target and conditioning of a clip with another reference latent [1, z, 1, h, w]: the reference is the
    target's first latent frame and the first z channels of the conditioning's (WorldEncoder.encode_samples)."""
    import torch

    z = reference.shape[1]
    conditioning = conditioning.clone()
    conditioning[:, :z, :1] = reference
    return torch.cat([reference, target[:, :, 1:]], dim=2), conditioning


def render_in_batches(seeds: list[int], size: int, workers: int | None = None, make=world.make_sample):
    """World samples for the seeds (`make` draws one), `size` at a time, drawn by `workers` processes (default:
    all but one of the CPU cores): on a GPU machine drawing the clips, not encoding them, is what takes the time."""
    import multiprocessing
    import os

    if workers is None:
        workers = max(1, min((os.cpu_count() or 1) - 1, len(seeds) // size))
    if workers == 1:
        for start in range(0, len(seeds), size):
            yield [make(seed) for seed in seeds[start:start + size]]
        return
    # fork: the workers only draw with numpy, and start without importing anything again.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        batch = []
        for sample in pool.imap(make, seeds, chunksize=size):
            batch.append(sample)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch


def _read_cache(cache) -> dict:
    from safetensors.torch import load_file

    if cache is None or not Path(cache).is_file():
        return {}
    return {name: value.float() for name, value in load_file(cache).items()}


def _write_cache(cache, stored: dict):
    from safetensors.torch import save_file

    if cache is None:
        return
    # Half precision halves the file; the latents are normalised to unit scale, well inside its range.
    save_file({name: value.half().contiguous() for name, value in stored.items()}, str(cache))


def train_transformer(engine, samples: list, config, out_dir: str | Path, on_step=None, resume=None) -> Path:
    """Train every transformer weight on pre-encoded samples with the lab's Trainer; returns the weights folder."""
    from engine.train.trainer import Trainer

    if not config.is_full:
        raise ValueError("the toy transformer trains with target: full")
    trainer = Trainer(config, data_dir=Path(out_dir) / "data", out_dir=out_dir, engine=engine)
    trainer.load_model()
    trainer.encoded = samples
    trainer.empty_prompt = engine.prompt_embedding("").float().cpu()  # beside the samples' prompts
    trainer.checks = []
    return trainer.run(on_step=on_step, resume=resume)
