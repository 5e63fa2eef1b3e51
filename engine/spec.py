"""ModelSpec: which weights to load and how. YAML presets in presets/models/ map 1:1 onto its fields."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path

from engine.presets import find_preset, from_mapping, preset_names as names_of, read_mapping

logger = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16")
# Request fields a model preset may give defaults for (a small model wants small sizes on a CPU; a model never
# trained on VACE's extension task continues long videos through latents; Animate-2 samples with Euler).
DEFAULTABLE_FIELDS = ("height", "width", "num_frames", "num_inference_steps", "flow_shift", "fps", "guidance_scale",
                      "guidance_stop", "negative_prompt", "window_context", "window_overlap", "sampler")


@dataclass
class ModelSpec:
    """How to build one WanVACE pipeline."""

    name: str
    """Short name shown in the UI and written to manifests."""
    source: str
    """'tiny' (built in code), a Hugging Face hub id, or a local diffusers directory."""
    description: str = ""
    """One line for the banner."""
    family: str = "wan-vace"
    """The model family (engine/families): its banner, sample, how it reads prompts, where its weights come
    from. A sweep preset's `models:` section is keyed by it."""
    transformer_dtype: str = "bfloat16"
    """Transformer weights dtype on CUDA; on a CPU everything runs in float32."""
    vae_dtype: str = "float32"
    """VAE dtype; Wan's VAE is kept in float32 because bf16 decoding shows banding."""
    text_encoder_dtype: str = "bfloat16"
    """umt5 text encoder dtype on CUDA."""
    cpu_offload: bool = False
    """diffusers' model CPU offload: moves each component to the GPU only while it runs."""
    vae_tiling: bool = False
    """Decode/encode the VAE in tiles to cut peak memory at large sizes."""
    group_offload: bool = False
    """diffusers' group offload of the transformer and text encoder (leaf level, with CUDA streams): for GPUs
    of 16 GB or less; slower than cpu_offload's whole-model moves but with a much lower peak."""
    attention_backend: str = "native"
    """diffusers attention backend: native (PyTorch SDPA), flash, _flash_3, sage, _native_cudnn, ... where
    installed; see diffusers.models.attention_dispatch.AttentionBackendName."""
    compile_blocks: bool = False
    """torch.compile the repeated transformer blocks (regional compilation), with LoRA hotswap so loading
    another LoRA or changing its strength does not recompile."""
    lora_max_rank: int = 64
    """With compile_blocks: the largest LoRA rank that can be hotswapped in."""
    max_sequence_length: int = 512
    """Prompt tokens the text encoder sees; longer prompts are truncated (Wan uses 512)."""
    max_frames: int = 241
    """Most frames one request may ask for (past the model's window, in sliding windows): 15 s at 16 fps."""
    max_side: int = 1280
    """Largest height or width in pixels a request may ask for (Wan's 720p is 720x1280)."""
    defaults: dict = field(default_factory=dict)
    """Request defaults for this model (size, frames, steps, flow shift)."""
    transformer_config: dict | None = None
    """The transformer's config, to build the architecture without weights (tests, benchmarks)."""
    profiles: dict = field(default_factory=dict)
    """Named sampling profiles (sampler, steps, sigmas, guidance, shift set together) for step-distilled
    LoRAs; see engine/profiles.py. 'default' is always there: the settings above."""

    def __post_init__(self):
        for name in ("transformer_dtype", "vae_dtype", "text_encoder_dtype"):
            value = getattr(self, name)
            if value not in DTYPES:
                raise ValueError(f"{name} must be one of {', '.join(DTYPES)}, got {value!r}")
        unknown = sorted(set(self.defaults) - set(DEFAULTABLE_FIELDS))
        if unknown:
            raise ValueError(f"model preset defaults has unknown field(s) {unknown}; allowed: {list(DEFAULTABLE_FIELDS)}")
        from engine.profiles import model_profiles

        model_profiles(self)  # a bad profile fails when the preset loads, naming the field
        if self.max_frames < 1 or self.max_side < 16:
            raise ValueError(f"max_frames and max_side must be positive, got {self.max_frames} and {self.max_side}")
        if self.max_sequence_length < 1:
            raise ValueError(f"max_sequence_length must be positive, got {self.max_sequence_length}")
        if self.cpu_offload and self.group_offload:
            raise ValueError("choose cpu_offload or group_offload, not both")
        if self.attention_backend != "native":  # checked lazily: importing diffusers costs seconds at start-up
            from diffusers.models.attention_dispatch import AttentionBackendName

            backends = [backend.value for backend in AttentionBackendName]
            if self.attention_backend not in backends:
                raise ValueError(f"attention_backend must be one of {', '.join(backends)}, "
                                 f"got {self.attention_backend!r}")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "ModelSpec":
        return from_mapping(cls, read_mapping(path), f"model preset {Path(path).name}")

    @classmethod
    def from_preset(cls, name_or_path: str) -> "ModelSpec":
        """A preset name (toy, tiny, wan-vace-1.3b, ...), a YAML file, a local diffusers folder or a hub id."""
        try:
            return cls.from_yaml(find_preset("models", name_or_path))
        except ValueError as err:
            if not str(err).startswith("unknown model preset"):
                raise
        path = Path(name_or_path)
        if path.is_dir():
            if not (path / "model_index.json").is_file():
                raise ValueError(f"model folder {path} has no model_index.json; expected a diffusers pipeline folder")
            return cls(name=path.name, source=str(path), description=f"local pipeline at {path}")
        if _looks_like_hub_id(name_or_path):
            return cls(name=name_or_path, source=name_or_path, description=f"{name_or_path} from the Hugging Face hub")
        raise ValueError(
            f"unknown model {name_or_path!r}: use a preset ({', '.join(preset_names())}), "
            "a local diffusers folder, or a hub id like Org/Name"
        )

    @property
    def memory_plan(self) -> str:
        """How the weights sit on the GPU: "group_offload", "cpu_offload" or "none" (all of it, the whole time)."""
        return "group_offload" if self.group_offload else "cpu_offload" if self.cpu_offload else "none"

    def with_overrides(self, **changes) -> "ModelSpec":
        return dataclasses.replace(self, **changes)


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return len(parts) == 2 and all(parts) and not text.startswith((".", "/"))


def preset_names() -> list[str]:
    return names_of("models")
