"""What a training run is: TrainConfig (YAML presets in presets/train map 1:1 onto its fields), the LoRA
target presets, and the learning-rate schedule."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from engine.presets import PRESET_KINDS, find_preset, preset_names as names_of, read_mapping
from engine.train.timesteps import SAMPLERS

TRAIN_PRESETS_DIR = PRESET_KINDS["train"]
_ATTENTION = r"attn[12]\.(to_q|to_k|to_v|to_out\.0)"
_FFN = r"ffn\.net\.(0\.proj|2)"
TARGETS = {
    # The blog's first run: attention and feed-forward of the main blocks.
    "main_blocks": rf"^blocks\.\d+\.({_ATTENTION}|{_FFN})$",
    # Its second run: self-attention only.
    "self_attention": r"^blocks\.\d+\.attn1\.(to_q|to_k|to_v|to_out\.0)$",
    # DiffSynth-Studio's VACE recipe: only the VACE branch learns; the base model is left as it was.
    "vace_branch": rf"^vace_blocks\.\d+\.({_ATTENTION}|{_FFN}|proj_in|proj_out)$",
}
FULL = "full"  # no LoRA: the whole transformer trains


@dataclass
class TrainConfig:
    """One training run. Every field can come from a YAML preset (presets/train) or --set."""

    target: str = "self_attention"
    """main_blocks, self_attention, vace_branch, custom (then target_regex), or full: every transformer
    weight trains and no LoRA is added (how the toy model is trained from scratch)."""
    target_regex: str = ""
    """For target=custom: a regex matched against full module names, e.g. ^blocks\\.\\d+\\.attn1\\.to_q$."""
    rank: int = 8
    lora_alpha: float = 8.0
    lora_dropout: float = 0.0
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    warmup_steps: int = 10
    """Linear learning-rate warmup, then cosine decay to zero at max_steps."""
    max_steps: int = 200
    batch_size: int = 1
    """Samples per micro-batch. Those of one shape share a forward pass, so memory grows with it: on a large
    model keep it small and raise gradient_accumulation instead."""
    gradient_accumulation: int = 1
    """Micro-batches per optimizer step. Large batches, few steps (RealisDance-DiT)."""
    max_grad_norm: float = 1.0
    sampler: str = "low_noise_warmup"
    """uniform, logit_normal, shifted, or low_noise_warmup (RealisDance-DiT)."""
    logit_mean: float = 0.0
    logit_std: float = 1.0
    shift: float = 3.0
    warmup_alpha: float = 1.0
    """Low-noise warmup: how strongly early steps favour low noise (0-1)."""
    warmup_tau: int = 100
    """Low-noise warmup: the step from which sampling is uniform."""
    reference_dropout: float = 0.05
    prompt_dropout: float = 0.05
    gradient_checkpointing: bool = False
    mixed_precision: str = "auto"
    """auto: bf16 autocast on CUDA, fp32 on CPU; or no / bf16."""
    seed: int = 0
    height: int = 128
    width: int = 224
    num_frames: int = 17
    fps: int = 16
    fit: str = "crop"
    """How clips are fitted to the training size: crop (fill) or pad."""
    checkpoint_every: int = 50
    validate_every: int = 0
    """Render a validation video at a fixed seed every N steps (0: never)."""
    validation_prompt: str = ""

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise ValueError(f"unknown training setting(s): {', '.join(unknown)}")
        return cls(**data)

    @classmethod
    def from_preset(cls, name_or_path: str) -> "TrainConfig":
        return cls.from_dict(read_mapping(find_preset("train", name_or_path)))

    @staticmethod
    def preset_names() -> list[str]:
        return names_of("train")

    def with_changes(self, **changes) -> "TrainConfig":
        return TrainConfig.from_dict({**asdict(self), **changes})

    @classmethod
    def parse_overrides(cls, pairs: list[str]) -> dict:
        """["rank=16", "sampler=uniform"] -> {"rank": 16, "sampler": "uniform"}, typed by the field."""
        changes = {}
        kinds = {f.name: f.type for f in fields(cls)}
        for pair in pairs:
            name, sep, text = pair.partition("=")
            name = name.strip()
            if not sep or name not in kinds:
                raise ValueError(f"--set {pair!r}: expected FIELD=VALUE with a training setting "
                                 f"({', '.join(cls.field_names())})")
            changes[name] = _typed(name, kinds[name], text.strip(), pair)
        return changes

    def __post_init__(self):
        if self.target not in (*TARGETS, "custom", FULL):
            raise ValueError(f"target must be one of {', '.join((*TARGETS, 'custom', FULL))}, got {self.target!r}")
        if self.target == "custom" and not self.target_regex:
            raise ValueError("target custom needs target_regex")
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {', '.join(SAMPLERS)}, got {self.sampler!r}")
        for name in ("rank", "max_steps", "batch_size", "gradient_accumulation", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("reference_dropout", "prompt_dropout", "lora_dropout", "warmup_alpha"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        if (self.num_frames - 1) % 4:
            raise ValueError(f"num_frames must be 4n+1, got {self.num_frames}")
        if self.height % 16 or self.width % 16:
            raise ValueError(f"height and width must be multiples of 16, got {self.height}x{self.width}")
        if self.fit not in ("crop", "pad"):
            raise ValueError(f"fit must be crop or pad, got {self.fit!r}")
        if self.mixed_precision not in ("auto", "no", "bf16"):
            raise ValueError(f"mixed_precision must be auto, no or bf16, got {self.mixed_precision!r}")

    @property
    def is_full(self) -> bool:
        return self.target == FULL

    @property
    def target_pattern(self) -> str:
        if self.is_full:
            return r".*"
        return self.target_regex if self.target == "custom" else TARGETS[self.target]


def _typed(name: str, kind: str, text: str, pair: str):
    """A --set value as its field's type (plain int() / float(): YAML would read 2e-4 as a string)."""
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bool":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        return text
    except ValueError:
        raise ValueError(f"--set {pair!r}: {name} takes a {kind}") from None


def learning_rate_factor(step: int, warmup_steps: int, max_steps: int) -> float:
    """Linear warmup to 1, then cosine to 0 at max_steps."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
