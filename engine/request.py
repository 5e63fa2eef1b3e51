"""GenerationRequest and GenerationResult: what the engine is asked for and what it gives back.

Both validate themselves, so a bad value fails at once with a message that names it, before any model
work starts.
"""

from __future__ import annotations

import dataclasses
import functools
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
# Optional input videos beside the control (each read by some families only: engine/families/base.py).
OPTIONAL_VIDEOS = ("face_video", "background_video", "mask_video", "driving_video")
SAMPLERS = ("unipc", "euler")
WINDOW_CONTEXTS = ("control", "latents")
SIZE_MULTIPLE = 16  # VAE downsamples by 8 and the transformer patches 2x2


def nearest_valid_frame_counts(n: int) -> tuple[int, int]:
    """The valid (4k+1) frame counts just below and above n."""
    below = max(1, (n - 1) // 4 * 4 + 1)
    return below, below + 4


def nearest_multiples(n: int, m: int = SIZE_MULTIPLE) -> tuple[int, int]:
    below = max(m, n // m * m)
    return below, below + m


@dataclass(frozen=True)
class FieldInfo:
    """How one request field is named and printed everywhere: Generate's widgets, --set, sweep axes, grid
    headers and legends, cells.csv and manifests. Declared once, beside the field (see `described`)."""

    name: str
    type: type
    """int, float or str (the value's type once parsed; None is allowed when `optional`)."""
    label: str
    """The one user-facing name of the idea, e.g. "LoRA strength"."""
    help: str
    """One or two sentences for widgets' info text and --help."""
    short: str = ""
    """What a grid header puts before the value ("CFG 5"); empty: the value alone."""
    unit: str = ""
    """Printed after the value where it helps ("17 frames", "16 fps")."""
    kind: str = "number"
    """number, text, file, lora, choice, scales (one float or one per VACE layer) or list (floats)."""
    axis: bool = False
    """Whether a sweep can vary it."""
    optional: bool = False

    def format(self, value) -> str:
        """The value alone, the same way everywhere: 5, 7.5, 0.3, a file's name, 'off'."""
        if value is None or (self.kind == "lora" and str(value).lower() in ("", "none", "pretrained")):
            return "pretrained" if self.kind == "lora" else ("none" if self.kind in ("file", "text") else "off")
        if isinstance(value, (list, tuple)):
            return "/".join(f"{v:g}" for v in value)
        if isinstance(value, float):
            return f"{value:g}"
        if self.kind == "lora":
            return lora_name(value)
        if self.kind == "file":
            return file_name(value)
        return str(value)

    def header(self, value) -> str:
        """The value with its name, as a grid header or legend shows it: 'CFG 5', 'LoRA strength 0.7'."""
        if self.kind == "lora":
            shown = self.format(value)
            return "Pretrained" if shown == "pretrained" else f"LoRA {shown}"
        text = self.format(value)
        if self.unit and text not in ("off", "none"):
            text = f"{text} {self.unit}"
        return f"{self.short} {text}".strip() if self.short else text


REQUIRED = dataclasses.MISSING


def described(default, label: str, help: str, **info):
    """A dataclass field with its FieldInfo (everything but name and type) in its metadata."""
    default = {} if default is REQUIRED else {"default": default}
    return field(metadata={"info": dict(label=label, help=help, **info)}, **default)


def lora_name(path) -> str:
    """Trained runs save every LoRA as pytorch_lora_weights.safetensors: name those by their folder
    (the run, or checkpoint-000050)."""
    parts = str(path).replace("\\", "/").split("/")
    if parts[-1] == "pytorch_lora_weights.safetensors" and len(parts) > 1 and parts[-2]:
        return parts[-2]
    return parts[-1]


def file_name(path) -> str:
    """The last part of a path, whichever separator it uses."""
    return str(path).replace("\\", "/").rsplit("/", 1)[-1] if path else ""


@dataclass
class GenerationRequest:
    """One video to generate: inputs, prompt and sampling settings. Each field is described once, here."""

    control_video: str = described(
        REQUIRED, "Control (pose) video", "The pose (or other control) video; resampled to fps, trimmed or padded "
        "to the frame count, fitted to the size.", short="Pose:", kind="file", axis=True)
    reference: str | None = described(
        None, "Reference image", "The subject to animate; letterboxed onto white, never cropped. Empty: pose only.",
        short="Ref:", kind="file", axis=True, optional=True)
    face_video: str | None = described(
        None, "Face video", "Face crops of the driving clip, one per frame (Animate models read expression from "
        "them; `pose --for animate` makes them). Empty: a blank face, as the model's unconditional pass sees. "
        "VACE models take none.", short="Face:", kind="file", axis=True, optional=True)
    background_video: str | None = described(
        None, "Background video", "Animate's replace mode: the driving clip with the person taken out (the pose "
        "command's --replace makes it), given with a mask video; the character is drawn into this scene. Empty: "
        "the usual mode, the scene from the reference. Other models take none.", short="Bg:", kind="file",
        axis=True, optional=True)
    mask_video: str | None = described(
        None, "Mask video", "Animate's replace mode: white where the character is drawn, black where the background "
        "video stays (the pose command's --replace makes it); given with a background video.", short="Mask:",
        kind="file", axis=True, optional=True)
    driving_video: str | None = described(
        None, "Driving video", "The raw driving clip, read in place of the control video by models that take motion "
        "from a video itself (Animate-2), so one grid can give each model its own input. Empty: they read the "
        "control video. Other models take none.", short="Drive:", kind="file", axis=True, optional=True)
    prompt: str = described("", "Prompt", "What the video should show: subject, clothing, setting, lighting.",
                            kind="text", axis=True)
    negative_prompt: str = described(DEFAULT_NEGATIVE_PROMPT, "Negative prompt",
                                     "What to steer away from; used when guidance > 1.", short="Neg:", kind="text",
                                     axis=True)
    guidance_scale: float = described(5.0, "Guidance (CFG)", "Classifier-free guidance; 1 turns it (and the "
                                      "negative prompt) off.", short="CFG", axis=True)
    guidance_stop: float = described(
        0.0, "Guidance stops at noise", "Guidance, and its second pass through the model, runs only while the "
        "noise level is at or above this (1: pure noise, the first step; 0: every step). The last steps then "
        "follow the prompt unguided, one pass each instead of two.", short="CFG stop", axis=True)
    num_inference_steps: int = described(50, "Sampling steps", "Denoising steps: more is slower, usually smoother.",
                                         short="Steps", axis=True)
    seed: int = described(1, "Seed", "The same inputs and seed give the same video.", short="Seed", axis=True)
    lora: str | None = described(None, "LoRA", "A .safetensors LoRA: a path, or a file name in loras/. "
                                 "Empty: the pretrained model.", kind="lora", axis=True, optional=True)
    lora_scale: float = described(1.0, "LoRA strength", "How strongly the LoRA applies; 0 gives the pretrained "
                                  "model's video exactly. Changing it never reloads the model.",
                                  short="LoRA strength", axis=True)
    conditioning_scale: float | list[float] = described(
        1.0, "Control strength", "Strength of the VACE control: one number, or one per VACE layer "
        "(1.0/0.5 on an axis, 1.0,0.5 in a settings line).", short="Control", kind="scales", axis=True)
    flow_shift: float = described(3.0, "Flow shift", "The scheduler's flow shift: 3 at 480p, 5 at 720p.",
                                  short="Shift", axis=True)
    height: int = described(480, "Height", "Output height in pixels, a multiple of 16.", unit="px")
    width: int = described(832, "Width", "Output width in pixels, a multiple of 16.", unit="px")
    num_frames: int = described(81, "Frames", "Frames to generate: 4n+1, e.g. 49 or 81. Longer than the model's "
                                "window (81 for Wan), the video is made in sliding windows.", unit="frames")
    fps: int = described(16, "FPS", "Frame rate of the control video as sampled and of the saved MP4.", unit="fps")
    control_fit: str = described("pad", "Control fit", "How the control video fills the frame: pad (black bars, "
                                 "keeps proportions), crop, or stretch.", kind="choice")
    window_frames: int | None = described(
        None, "Window", "Frames per window when the video is longer than one: 4n+1. Empty: the model's own "
        "(81 for Wan, 17 for the toy).", short="Window", unit="frames", axis=True, optional=True)
    window_overlap: int = described(
        5, "Window overlap", "Frames each window takes from the end of the one before, kept as they are: 4n+1, "
        "smaller than the window. More overlap: smoother seams, more windows.", short="Overlap", unit="frames",
        axis=True)
    window_noise: float = described(
        0.0, "Overlap noise", "Noise on those kept frames (standard deviation, 0-1 of the pixel range), so a "
        "window does not copy the blur of the one before; 0: off.", short="Overlap noise", axis=True)
    window_color_match: float = described(
        0.0, "Colour matching", "Moves each new window's colours (Lab mean and spread) toward the frames it "
        "continues, against drift from window to window: 0 off, 1 full.", short="Colour match", axis=True)
    window_discard: int = described(
        0, "Discarded frames", "Frames dropped from the end of each window before the next one starts (a "
        "window's last frames tend to be its weakest).", short="Discard", unit="frames", axis=True)
    window_crossfade: int = described(
        0, "Crossfade", "Overlap frames blended from the earlier window's version into the new window's (PoseGen's "
        "crossfaded transitions), at most the overlap; 0: the earlier window's frames stay as they were.",
        short="Crossfade", unit="frames", axis=True)
    window_context: str = described(
        "control", "Window context", "How each window after the first is given the frames it continues. control: "
        "in the control video, marked to keep (VACE's extension, which Wan-VACE was trained for). latents: their "
        "latents written into the video being denoised at every step, the pose everywhere in the control; needs "
        "no training for it (the toy's default: it was never taught extension).", short="Context", kind="choice",
        axis=True)
    sampler: str = described(
        "unipc", "Sampler", "unipc: diffusers' UniPC multistep, Wan's default. euler: flow-match Euler, what "
        "step-distilled LoRAs (CausVid, lightx2v) are sampled with.", kind="choice", axis=True)
    sigmas: list[float] | None = described(
        None, "Sigmas", "Explicit noise levels, decreasing, at most 1 (a timestep / 1000), e.g. 1,0.75,0.5,0.25. "
        "One per step (num_inference_steps must match); they go through flow shift like the sampler's own "
        "(shift 1 keeps them as given). Empty: the sampler's own schedule.", short="Sigmas", kind="list", optional=True)
    step_cache: float | None = described(
        None, "Step cache", "Skip the main blocks on steps whose first block barely changed (a VACE-aware First "
        "Block Cache): a threshold such as 0.05-0.2; off when empty or 0. Faster, approximate.",
        short="Cache", axis=True, optional=True)

    def __post_init__(self):
        self.control_video = str(self.control_video)
        if self.reference is not None:
            self.reference = str(self.reference)
        for name in OPTIONAL_VIDEOS:
            if getattr(self, name) is not None:
                setattr(self, name, str(getattr(self, name)))
        self._check_files()
        self._check_numbers()
        self._check_sampling()
        self._check_windows()
        if self.control_fit not in CONTROL_FITS:
            raise ValueError(f"control_fit must be one of {', '.join(CONTROL_FITS)}, got {self.control_fit!r}")
        if not isinstance(self.prompt, str) or not isinstance(self.negative_prompt, str):
            raise ValueError("prompt and negative_prompt must be text")

    def _check_files(self):
        if not Path(self.control_video).is_file():
            raise ValueError(f"control video not found: {self.control_video}")
        if self.reference is not None and not Path(self.reference).is_file():
            raise ValueError(f"reference image not found: {self.reference}")
        for name in OPTIONAL_VIDEOS:
            value = getattr(self, name)
            if value is not None and not Path(value).is_file():
                raise ValueError(f"{name.replace('_', ' ')} not found: {value}")
        if (self.background_video is None) != (self.mask_video is None):
            raise ValueError("replace mode takes a background video and a mask video together: give both or neither")

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
        if not (math.isfinite(self.guidance_stop) and 0 <= self.guidance_stop <= 1):
            raise ValueError(f"guidance_stop must be a noise level from 0 (guide every step) to 1, got "
                             f"{self.guidance_stop}")
        if self.flow_shift <= 0:
            raise ValueError(f"flow_shift must be > 0, got {self.flow_shift}")
        if self.step_cache is not None and not 0 <= self.step_cache <= 1:
            raise ValueError(f"step_cache must be between 0 and 1 (or none), got {self.step_cache}")

    def _check_sampling(self):
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        if self.sigmas is None:
            return
        sigmas = [float(s) for s in (self.sigmas if isinstance(self.sigmas, (list, tuple)) else [self.sigmas])]
        shown = ", ".join(f"{s:g}" for s in sigmas)
        if not sigmas or not all(math.isfinite(s) and 0 < s <= 1 for s in sigmas):
            raise ValueError(f"sigmas must be numbers in (0, 1] (timesteps / 1000), got {shown or 'none'}")
        if any(later >= earlier for earlier, later in zip(sigmas, sigmas[1:])):
            raise ValueError(f"sigmas must decrease from high noise to low, got {shown}")
        if self.step_cache:
            raise ValueError("step_cache and explicit sigmas do not mix: a few-step schedule changes too much "
                             "between steps for the cache to skip one safely; turn the step cache off")
        if len(sigmas) != self.num_inference_steps:  # never silently: a sweep over steps would do nothing
            raise ValueError(f"sigmas has {len(sigmas)} values but num_inference_steps is {self.num_inference_steps}; "
                             f"set num_inference_steps={len(sigmas)} too, or clear sigmas")
        self.sigmas = sigmas

    def _check_windows(self):
        from engine.windows import check_window_settings

        for name in ("window_noise", "window_color_match"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0 <= value <= 1):
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.window_frames is not None:
            if self.window_frames > self.num_frames:
                raise ValueError(f"window_frames ({self.window_frames}) is longer than the video ({self.num_frames} "
                                 "frames): it fits in one window; leave window_frames empty")
            check_window_settings(self.num_frames, self.window_frames, self.window_overlap, self.window_discard)
        elif self.window_overlap < 1 or self.window_overlap % 4 != 1 or self.window_discard < 0:
            check_window_settings(self.num_frames, 10**6 + 1, self.window_overlap, self.window_discard)
        if self.window_context not in WINDOW_CONTEXTS:
            raise ValueError(f"window_context must be one of {', '.join(WINDOW_CONTEXTS)}, got {self.window_context!r}")
        if not 0 <= self.window_crossfade <= self.window_overlap:
            raise ValueError(f"window_crossfade must be between 0 and the overlap ({self.window_overlap} frames), "
                             f"got {self.window_crossfade}")

    def is_windowed(self, native_window: int) -> bool:
        """Whether this video is made in several windows (the model makes native_window frames at a time)."""
        return self.num_frames > (self.window_frames or native_window)

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
        info = field_info(name)
        text = text.strip()
        if info.kind == "scales":
            values = [_parse_float(name, part) for part in text.replace("/", ",").split(",")]
            return values[0] if len(values) == 1 else values
        if info.optional and text.lower() in ("none", "", "off"):
            return None
        if info.kind == "list":
            return [_parse_float(name, part) for part in text.replace("/", ",").split(",")]
        if info.type is int:
            try:
                return int(text)
            except ValueError:
                raise ValueError(f"{name} must be an integer, got {text!r}") from None
        if info.type is float:
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


def field_info(name: str) -> FieldInfo:
    """The description of one GenerationRequest field; ValueError lists the fields for an unknown name."""
    infos = request_fields()
    if name not in infos:
        raise ValueError(f"unknown field {name!r}; fields: {', '.join(infos)}")
    return infos[name]


@functools.cache
def request_fields() -> dict[str, FieldInfo]:
    """Every GenerationRequest field's FieldInfo, in declaration order."""
    hints = typing.get_type_hints(GenerationRequest)
    infos = {}
    for item in dataclasses.fields(GenerationRequest):
        hint = hints[item.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = hint if not args else next((a for a in args if a in (int, float, str)), float)
        infos[item.name] = FieldInfo(name=item.name, type=base, **item.metadata["info"])
    return infos


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
