"""GenerationRequest and GenerationResult: what the engine is asked for and what it gives back.

Both validate themselves, so a bad value fails at once with a message that names it, before any model
work starts.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

# Wan's standard negative prompt (English rendering of the one Wan's authors ship in Chinese).
DEFAULT_NEGATIVE_PROMPT = (
    "Bright tones, overexposed, static, blurred details, subtitles, style, works, paintings, images, static, "
    "overall gray, worst quality, low quality, JPEG compression residue, ugly, incomplete, extra fingers, "
    "poorly drawn hands, poorly drawn faces, deformed, disfigured, misshapen limbs, fused fingers, still "
    "picture, messy background, three legs, many people in the background, walking backwards"
)

CONTROL_FITS = ("pad", "crop", "stretch")
SIZE_MULTIPLE = 16  # VAE downsamples by 8 and the transformer patches 2x2


def nearest_valid_frame_counts(n: int) -> tuple[int, int]:
    """The valid (4k+1) frame counts just below and above n."""
    below = max(1, (n - 1) // 4 * 4 + 1)
    return below, below + 4


def nearest_multiples(n: int, m: int = SIZE_MULTIPLE) -> tuple[int, int]:
    below = max(m, n // m * m)
    return below, below + m


@dataclass
class GenerationRequest:
    """One video to generate: inputs, prompt and sampling settings."""

    control_video: str
    """Pose (or other control) video; resampled to fps, trimmed/padded to num_frames, fitted to the size."""
    reference: str | None = None
    """Reference image of the subject; letterboxed onto white, never cropped. None: pose only."""
    prompt: str = ""
    """What the video should show."""
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    """What to steer away from (used when guidance_scale > 1)."""
    guidance_scale: float = 5.0
    """Classifier-free guidance; 1 disables the unconditional pass."""
    num_inference_steps: int = 50
    """Denoising steps."""
    seed: int = 1
    """Same request and seed give the same frames."""
    lora: str | None = None
    """A .safetensors LoRA: a path, or a file name in loras/."""
    lora_scale: float = 1.0
    """LoRA strength; 0 gives the base model's output."""
    conditioning_scale: float | list[float] = 1.0
    """Strength of the VACE control: one float, or one per VACE layer."""
    flow_shift: float = 3.0
    """Scheduler flow shift (3.0 at 480p, 5.0 at 720p)."""
    height: int = 480
    width: int = 832
    num_frames: int = 81
    """Frames to generate; must be 4n+1."""
    fps: int = 16
    """Frame rate of the control video as sampled and of the saved MP4."""
    control_fit: str = "pad"
    """How the control video fills the frame: pad (black bars), crop, or stretch."""
    step_cache: float | None = None
    """Skip the main transformer blocks on steps whose first block barely changed (a VACE-aware First
    Block Cache): the threshold, e.g. 0.05-0.2; None is off. Faster and approximate."""

    def __post_init__(self):
        self.control_video = str(self.control_video)
        if self.reference is not None:
            self.reference = str(self.reference)
        self._check_files()
        self._check_numbers()
        if self.control_fit not in CONTROL_FITS:
            raise ValueError(f"control_fit must be one of {', '.join(CONTROL_FITS)}, got {self.control_fit!r}")
        if not isinstance(self.prompt, str) or not isinstance(self.negative_prompt, str):
            raise ValueError("prompt and negative_prompt must be text")

    def _check_files(self):
        if not Path(self.control_video).is_file():
            raise ValueError(f"control video not found: {self.control_video}")
        if self.reference is not None and not Path(self.reference).is_file():
            raise ValueError(f"reference image not found: {self.reference}")

    def _check_numbers(self):
        for name in ("height", "width"):
            value = getattr(self, name)
            if value < SIZE_MULTIPLE or value % SIZE_MULTIPLE:
                lo, hi = nearest_multiples(value)
                raise ValueError(f"{name} must be a multiple of {SIZE_MULTIPLE}, got {value}; nearest valid: {lo} or {hi}")
        if self.num_frames < 1 or self.num_frames % 4 != 1:
            lo, hi = nearest_valid_frame_counts(self.num_frames)
            raise ValueError(f"num_frames must be 4n+1, got {self.num_frames}; nearest valid: {lo} or {hi}")
        if not 1 <= self.num_inference_steps <= 1000:
            raise ValueError(f"num_inference_steps must be between 1 and 1000, got {self.num_inference_steps}")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps must be between 1 and 120, got {self.fps}")
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed}")
        scales = self.conditioning_scale if isinstance(self.conditioning_scale, list) else [self.conditioning_scale]
        for name, value in [("guidance_scale", self.guidance_scale), ("lora_scale", self.lora_scale),
                            ("flow_shift", self.flow_shift)] + [("conditioning_scale", s) for s in scales]:
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value}")
        if self.guidance_scale < 0:
            raise ValueError(f"guidance_scale must be >= 0, got {self.guidance_scale}")
        if self.flow_shift <= 0:
            raise ValueError(f"flow_shift must be > 0, got {self.flow_shift}")
        if self.step_cache is not None and not 0 <= self.step_cache <= 1:
            raise ValueError(f"step_cache must be between 0 and 1 (or none), got {self.step_cache}")

    @property
    def uses_cfg(self) -> bool:
        """Whether the unconditional pass runs (diffusers skips it at guidance <= 1)."""
        return self.guidance_scale > 1.0

    def replace(self, **changes) -> "GenerationRequest":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def parse_field(cls, name: str, text: str):
        """Turn a command-line string into the field's type (used by --set field=value)."""
        hints = typing.get_type_hints(cls)
        if name not in hints:
            raise ValueError(f"unknown field {name!r}; fields: {', '.join(cls.field_names())}")
        hint = hints[name]
        text = text.strip()
        if name == "conditioning_scale":
            values = [_parse_float(name, part) for part in text.split(",")]
            return values[0] if len(values) == 1 else values
        if hint is int:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{name} must be an integer, got {text!r}") from None
        if text.lower() in ("none", "") and type(None) in typing.get_args(hint):
            return None
        if hint is float or float in typing.get_args(hint):
            return _parse_float(name, text)
        return text


    @classmethod
    def parse_overrides(cls, pairs: list[str], source: str = "--set") -> dict:
        """'field=value' strings (--set, the Sweep tab's settings box) -> typed fields."""
        fields = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            if not sep:
                raise ValueError(f"{source} expects FIELD=VALUE, got {pair!r}")
            fields[name.strip()] = cls.parse_field(name.strip(), value)
        return fields


def _parse_float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None


@dataclass
class GenerationResult:
    """A finished generation: frames, where the video was saved, and how long each stage took."""

    frames: typing.Any
    """uint8 array [num_frames, height, width, 3]."""
    fps: int
    seed: int
    model: str
    timings: dict
    """Seconds: prompt_encode, condition_encode, denoise, s_per_step, decode, total."""
    peak_memory_mb: float
    memory_kind: str
    """'cuda_max_allocated' or 'process_peak_rss' (CPU)."""
    cache_hits: dict = field(default_factory=dict)
    lora_sha256: str | None = None
    video_path: str | None = None

    def __post_init__(self):
        if getattr(self.frames, "ndim", None) != 4 or self.frames.shape[-1] != 3:
            shape = getattr(self.frames, "shape", None)
            raise ValueError(f"frames must be [T, H, W, 3], got shape {shape}")
        if str(self.frames.dtype) != "uint8":
            raise ValueError(f"frames must be uint8, got {self.frames.dtype}")

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.frames.shape[1]), int(self.frames.shape[2])
