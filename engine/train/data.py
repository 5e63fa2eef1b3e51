"""Training samples: find them, check every one before training, and encode them once to a cache.

A sample is a target clip (num_frames at fps, at the training size), its pose video (extracted when
missing), a reference image (the clip's first frame when missing) and a prompt. `--data DIR` is a folder
with metadata.csv (video, prompt; optional pose_video, reference_image; paths relative to DIR) or a plain
folder of clips (prompts then come from a sidecar .txt, else stay empty and say so).

Validation catches what cost the blog days: clips too short for the frame count, missing files, and a
reference that never reaches the model (its config passed the image under a key the trainer ignored).
Here the reference is checked in the encoded conditioning itself: it must add one latent frame.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import media
from engine.latents import frames_to_latents
from engine.train.metadata_csv import ClipRow, read_metadata_csv

logger = logging.getLogger(__name__)


@dataclass
class Sample:
    video: Path
    prompt: str
    pose_video: Path | None
    reference_image: Path | None

    @property
    def name(self) -> str:
        return self.video.name


@dataclass
class EncodedSample:
    """What one training step needs, already encoded. Tensors live on the CPU in the cache."""

    name: str
    target: object
    """Normalised VAE latents of the clip with the reference latent prepended: [1, z, 1 + f, h, w]."""
    conditioning: object
    """VACE conditioning (control latents + mask) with the reference: [1, c, 1 + f, h, w]."""
    target_without_reference: object
    conditioning_without_reference: object
    prompt_embeds: object
    loss_weight: object = None
    """Optional weight per latent position of the clip, [1, 1, f, h, w] (the reference frame not included):
    the toy world weights its figure up. None: every position counts the same."""
    prompt_embeds_without_reference: object = None
    """For a model with a reference encoder, whose prompt_embeds carry the reference's tokens: the prompt alone,
    for steps that drop the reference. None: prompt_embeds has no reference in it."""


def find_samples(data_dir: str | Path) -> list[Sample]:
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ValueError(f"{data_dir}: no such folder")
    csv_path = data_dir / "metadata.csv"
    if csv_path.is_file():
        rows = read_metadata_csv(csv_path)
    else:
        rows = [ClipRow(video=path.name, prompt=_sidecar_prompt(path))
                for path in sorted(data_dir.iterdir()) if path.suffix.lower() in media.VIDEO_SUFFIXES]
    if not rows:
        raise ValueError(f"{data_dir}: no metadata.csv and no video clips")

    def resolve(text: str) -> Path | None:
        return (data_dir / text) if text else None

    return [Sample(video=data_dir / row.video, prompt=row.prompt, pose_video=resolve(row.pose_video),
                   reference_image=resolve(row.reference_image)) for row in rows]


def _sidecar_prompt(video: Path) -> str:
    text = video.with_suffix(".txt")
    return text.read_text().strip() if text.is_file() else ""


@dataclass
class SampleCheck:
    name: str
    problems: list[str]
    notes: list[str]


def check_sample(sample: Sample, num_frames: int, fps: int) -> SampleCheck:
    """Everything that can be checked without the model: files exist and read, clips are long enough."""
    problems, notes = [], []
    for label, path in (("video", sample.video), ("pose_video", sample.pose_video)):
        if path is None:
            continue
        if not path.is_file():
            problems.append(f"{label} {path.name} is missing")
            continue
        try:
            window = media.read_video_window(path, 0, fps, num_frames)
        except ValueError as err:
            problems.append(str(err))
            continue
        if window.padded:
            have = num_frames - window.padded
            problems.append(f"{label} {path.name} has {have} frames at {fps} fps; training needs {num_frames}")
    if sample.pose_video is None:
        notes.append("no pose video: it will be extracted")
    if sample.reference_image is None:
        notes.append("no reference image: the clip's first frame is used")
    elif not sample.reference_image.is_file():
        problems.append(f"reference_image {sample.reference_image.name} is missing")
    else:
        try:
            media.load_image(sample.reference_image)
        except ValueError as err:
            problems.append(str(err))
    if not sample.prompt.strip():
        notes.append("empty prompt")
    return SampleCheck(sample.name, problems, notes)


def validate_samples(samples: list[Sample], num_frames: int, fps: int) -> list[SampleCheck]:
    """Check every sample; raise one ValueError listing every problem (training starts only when clean)."""
    checks = [check_sample(sample, num_frames, fps) for sample in samples]
    bad = [check for check in checks if check.problems]
    if bad:
        details = "; ".join(f"{check.name}: {', '.join(check.problems)}" for check in bad)
        raise ValueError(f"{len(bad)} of {len(samples)} samples cannot be used: {details}")
    return checks


def sample_key(sample: Sample, height: int, width: int, num_frames: int, fps: int, model: str) -> str:
    """Cache key: the files' contents and the encoding settings."""
    from engine.records import sha256_file

    digest = hashlib.sha256(repr((height, width, num_frames, fps, model, sample.prompt)).encode())
    for path in (sample.video, sample.pose_video, sample.reference_image):
        digest.update((sha256_file(path) if path else "-").encode())
    return digest.hexdigest()[:24]


def read_clip(path: Path, height: int, width: int, num_frames: int, fps: int, fit: str) -> np.ndarray:
    window = media.read_video_window(path, 0, fps, num_frames,
                                     prepare=lambda frame: media.fit_frame(frame, height, width, fit))
    return np.stack(window.frames)


def ensure_pose_video(sample: Sample, work_dir: Path, height: int, width: int, num_frames: int, fps: int) -> Path:
    """The sample's pose video, extracted (and kept in the cache) when the dataset has none."""
    if sample.pose_video is not None:
        return sample.pose_video
    from engine.pose.extract import PoseRequest, extract_pose

    out = work_dir / "poses" / sample.video.stem
    # Detect at 256 px or more on the short side (small training sizes would starve the detector); the
    # pose video is fitted to the training size when it is read, like the clip.
    scale = max(1.0, 256 / min(height, width))
    if not (out / "pose.mp4").is_file():
        extract_pose(PoseRequest(video=str(sample.video), num_frames=num_frames, fps=fps, fit="crop",
                                 width=int(round(width * scale / 16)) * 16, height=int(round(height * scale / 16)) * 16),
                     out)
    return out / "pose.mp4"


def reference_image(sample: Sample, frames: np.ndarray, height: int, width: int):
    """The sample's reference image letterboxed to the training size; the clip's first frame when it has none."""
    from PIL import Image

    image = media.load_image(sample.reference_image) if sample.reference_image else Image.fromarray(frames[0])
    placed, _ = media.letterbox(image, height, width)
    return placed


class SampleEncoder:
    """Encodes samples once, exactly as WanVACEPipeline prepares its inputs, and keeps them in a cache folder.

    Per sample: the clip's normalised latents with the reference latent prepended (the target), the VACE
    conditioning with and without the reference (for reference dropout), and the prompt's embedding.
    """

    def __init__(self, pipe, engine, config, cache: Path):
        self.pipe, self.engine, self.config, self.cache = pipe, engine, config, Path(cache)

    def encode(self, sample: Sample) -> tuple[EncodedSample, Path]:
        """(the encoded sample, its pose video): read from the cache when the files and settings are unchanged."""
        import torch

        c = self.config
        model = self.engine.spec.name + ("+reference-tokens" if self.engine.reads_reference_tokens else "")
        key = sample_key(sample, c.height, c.width, c.num_frames, c.fps, model)
        path = self.cache / f"{key}.pt"
        pose_path = ensure_pose_video(sample, self.cache, c.height, c.width, c.num_frames, c.fps)
        if path.is_file():
            return EncodedSample(**torch.load(path, weights_only=True)), pose_path
        frames = read_clip(sample.video, c.height, c.width, c.num_frames, c.fps, c.fit)
        pose = read_clip(pose_path, c.height, c.width, c.num_frames, c.fps, c.fit)
        reference = reference_image(sample, frames, c.height, c.width)
        with torch.no_grad():
            clip_latents = self.encode_video(frames)
            with_reference = self.encode_conditioning(pose, reference)
            without_reference = self.encode_conditioning(pose, None)
            if with_reference.shape[2] != without_reference.shape[2] + 1:
                raise ValueError(f"{sample.name}: the reference did not reach the conditioning")
            z = clip_latents.shape[1]
            reference_latent = with_reference[:, :z, :1]
            prompt_embeds = self.encode_prompt(sample.prompt)
            with_tokens = self.engine.with_reference_tokens(prompt_embeds, reference)
        encoded = dict(name=sample.name, target=torch.cat([reference_latent, clip_latents], dim=2).cpu(),
                       conditioning=with_reference.cpu(), target_without_reference=clip_latents.cpu(),
                       conditioning_without_reference=without_reference.cpu(), prompt_embeds=with_tokens.cpu(),
                       prompt_embeds_without_reference=None if with_tokens is prompt_embeds else prompt_embeds.cpu())
        self.cache.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.partial")
        torch.save(encoded, partial)
        partial.replace(path)  # atomic: another process never reads half a file
        return EncodedSample(**encoded), pose_path

    def encode_video(self, frames: np.ndarray):
        """Normalised VAE latents of a clip, [1, z, f, h, w], as the pipeline's latents are."""
        return frames_to_latents(self.pipe, frames)

    def encode_conditioning(self, pose_frames: np.ndarray, reference):
        """The VACE conditioning (control latents and masks) through the pipeline's own preparation."""
        import torch
        from PIL import Image

        pipe, c = self.pipe, self.config
        device = pipe._execution_device
        video = [Image.fromarray(frame) for frame in pose_frames]
        video, mask, references = pipe.preprocess_conditions(
            video, None, reference, 1, c.height, c.width, c.num_frames, torch.float32, device)
        latents = pipe.prepare_video_latents(video, mask, references, None, device)
        masks = pipe.prepare_masks(mask, references, None)
        return torch.cat([latents, masks], dim=1).float()

    def encode_prompt(self, text: str):
        # The engine's encoder: the same max_sequence_length (512 for Wan) as generation; diffusers'
        # encode_prompt alone would default to 226 tokens and train on other embeddings than it generates with.
        return self.engine.prompt_embedding(text).float()
