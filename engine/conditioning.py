"""What the model receives: the control video and reference fitted to the request, and a preview of it.

Built once per distinct input (file contents + geometry) and shared by inspect() and generate(), so the
preview a student looks at is the very thing the pipeline gets.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from engine import media
from engine.records import sha256_file
from engine.request import GenerationRequest

NUM_PREVIEW_FRAMES = 4


@dataclass
class Conditions:
    """The control video and reference exactly as the model receives them."""

    control_frames: np.ndarray
    reference: object | None  # PIL image, letterboxed to the frame
    reference_box: media.Box | None
    source_fps: float
    source_frames: int
    source_size: tuple[int, int]
    padded_frames: int
    key: str
    face_frames: np.ndarray | None = None
    """The face video's crops (request.face_video), one per output frame, square; None without one."""
    background_frames: np.ndarray | None = None
    """Replace mode's background and mask videos, sampled and fitted as the control is; None without them."""
    mask_frames: np.ndarray | None = None


@dataclass
class Inspection:
    """What engine.inspect returns: the inputs as placed, and the numbers that matter."""

    reference: object | None
    reference_box: media.Box | None
    control_samples: list
    sample_indices: list[int]
    num_frames: int
    fps: int
    height: int
    width: int
    source_fps: float
    source_frames: int
    source_size: tuple[int, int]
    padded_frames: int
    prompt_tokens: int
    negative_tokens: int
    max_sequence_length: int
    uses_cfg: bool
    notes: list[str] = field(default_factory=list)

    @property
    def prompt_truncated(self) -> bool:
        return self.prompt_tokens > self.max_sequence_length

    def summary_lines(self) -> list[str]:
        src_h, src_w = self.source_size
        lines = [
            f"Output: {self.num_frames} frames at {self.fps} fps ({self.num_frames / self.fps:.2f} s), {self.width}x{self.height}",
            f"Control video: {self.source_frames} frames at {self.source_fps:g} fps, {src_w}x{src_h}",
            f"Prompt: {self.prompt_tokens} / {self.max_sequence_length} tokens"
            + (" (TRUNCATED: the end of the prompt is cut off)" if self.prompt_truncated else ""),
        ]
        if self.uses_cfg:
            lines.append(f"Negative prompt: {self.negative_tokens} / {self.max_sequence_length} tokens")
        else:
            lines.append("Guidance <= 1: the negative prompt is not used")
        return lines + self.notes


def control_source(request: GenerationRequest) -> str:
    """The video the model reads as its control: the driving clip when one is given (only families that read
    one accept it: ModelFamily.reads_driving_video), else the control video."""
    return request.driving_video or request.control_video


def condition_key(request: GenerationRequest) -> str:
    digest = hashlib.sha256()
    digest.update(sha256_file(control_source(request)).encode())
    digest.update((sha256_file(request.reference) if request.reference else "no-reference").encode())
    digest.update((sha256_file(request.face_video) if request.face_video else "no-face").encode())
    for path in (request.background_video, request.mask_video):
        digest.update((sha256_file(path) if path else "none").encode())
    digest.update(repr((request.height, request.width, request.num_frames, request.fps, request.control_fit)).encode())
    return digest.hexdigest()


def build_conditions(request: GenerationRequest, key: str) -> Conditions:
    clip = media.read_video(control_source(request))
    frames, padded = sample_like_control(clip, request)
    reference, box = None, None
    if request.reference is not None:
        reference, box = media.letterbox(media.load_image(request.reference), request.height, request.width)
    return Conditions(
        face_frames=read_face_frames(request) if request.face_video else None,
        background_frames=read_like_control(request.background_video, request),
        mask_frames=read_like_control(request.mask_video, request),
        control_frames=frames,
        reference=reference,
        reference_box=box,
        source_fps=clip.fps,
        source_frames=len(clip.frames),
        source_size=tuple(clip.frames.shape[1:3]),
        padded_frames=padded,
        key=key,
    )


def sample_like_control(clip, request: GenerationRequest) -> tuple[np.ndarray, int]:
    """A clip's frames resampled to the request's fps and frame count and fitted to its size, as the control is;
    with the number of frames padded at the end (the clip ran out)."""
    indices, padded = media.resample_indices(len(clip.frames), clip.fps, request.fps, request.num_frames)
    frames = np.stack([media.fit_frame(clip.frames[i], request.height, request.width, request.control_fit)
                       for i in indices])
    return frames, padded


def read_like_control(path: str | None, request: GenerationRequest) -> np.ndarray | None:
    """Another video of the driving clip (replace mode's background or mask), sampled and fitted as the control;
    None without one."""
    return sample_like_control(media.read_video(path), request)[0] if path else None


def read_face_frames(request: GenerationRequest) -> np.ndarray:
    """The face video sampled as the control is (same fps and frame count), each frame cropped to its central
    square: face crops are square, and the model resizes them to its own face size."""
    clip = media.read_video(request.face_video)
    indices, _padded = media.resample_indices(len(clip.frames), clip.fps, request.fps, request.num_frames)
    side = min(clip.frames.shape[1:3])
    return np.stack([media.fit_frame(clip.frames[i], side, side, "crop") for i in indices])


def condition_notes(request: GenerationRequest, conditions: Conditions) -> list[str]:
    notes = []
    if conditions.padded_frames:
        notes.append(
            f"The control video covers {request.num_frames - conditions.padded_frames} of {request.num_frames} frames "
            f"at {request.fps} fps: the last {conditions.padded_frames} repeat its final frame."
        )
    if abs(conditions.source_fps - request.fps) > 0.01:
        notes.append(f"Control video resampled from {conditions.source_fps:g} fps to {request.fps} fps by timestamp.")
    src_h, src_w = conditions.source_size
    if (src_h, src_w) != (request.height, request.width):
        notes.append(f"Control video fitted from {src_w}x{src_h} to {request.width}x{request.height} ({request.control_fit}).")
    if conditions.reference_box is not None:
        box = conditions.reference_box
        notes.append(
            f"Reference letterboxed onto white: the whole image sits at {box.width}x{box.height} "
            f"(left {box.left}, top {box.top}); nothing is cropped."
        )
    else:
        notes.append("No reference image: the model follows the pose and the prompt only.")
    return notes


def preview_indices(num_frames: int, count: int = NUM_PREVIEW_FRAMES) -> list[int]:
    """Evenly spaced frame indices, first and last included."""
    count = min(count, num_frames)
    return sorted({round(i * (num_frames - 1) / max(1, count - 1)) for i in range(count)})


def preview_frames(conditions: Conditions, indices: list[int]) -> list:
    return [Image.fromarray(conditions.control_frames[i]) for i in indices]

