"""What a real model needs on one GPU, by arithmetic, and whether it fits a ZeroGPU Space's slice.

The transformer is built on the meta device (no weights, no download) and its parameters counted; memory is then
its bf16 weights, the per-layer key/value cache of the driving clip (Animate-2), one layer's activations at the
preset's default size, and the text encoder (UMT5-XXL), each placed as the preset's memory plan places it:
- no offload: everything on the GPU at once;
- cpu_offload: one component at a time, so the larger of the transformer and the text encoder;
- group_offload: the layers stream through, so what every layer keeps (activations, the driving cache) plus
  a few layers' weights in flight.
The VAE's decode comes on top (vae_tiling bounds it). These are estimates until `python -m experiments bench`
measures a GPU (BENCHMARKS.md); benchmarks/model_sizes.py prints them for every real preset.

On a Hugging Face Space with ZeroGPU (SPACES_ZERO_GPU set), each job gets a slice of one GPU; a model whose
estimate is over it is refused in one line before anything downloads, so the page runs only what fits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from engine.families import on_zerogpu

GB = 1e9
BF16 = 2
TEXT_ENCODER_GB = 5.7e9 * BF16 / GB  # UMT5-XXL's encoder, about 5.7 B parameters
STREAMED_LAYERS = 2  # group offload: the layer running and the one being copied in
# A ZeroGPU job's GPU memory: "Nvidia H200 ... 70GB of vRAM are available for each workload" (the README of
# huggingface.co/spaces/zero-gpu-explorers; it said A100 and 40 GB before). VACE_LAB_ZEROGPU_GB changes it.
ZEROGPU_GB = ("VACE_LAB_ZEROGPU_GB", 70.0)


@dataclass(frozen=True)
class GpuNeed:
    """One preset's transformer and what it keeps on the GPU at its default size, in GB (bf16)."""

    preset: str
    family: str
    parameters_b: float
    layers: int
    size: str
    video_tokens: int
    weights_gb: float
    one_layer_activations_gb: float
    driving_kv_cache_gb: float = 0.0
    text_encoder_gb: float = TEXT_ENCODER_GB

    @property
    def transformer_resident_gb(self) -> float:
        """The transformer whole on the GPU with what it keeps while it runs."""
        return self.weights_gb + self.driving_kv_cache_gb + self.one_layer_activations_gb

    def peak_gb(self, cpu_offload: bool = False, group_offload: bool = False) -> float:
        """GPU memory at the peak under a memory plan (see the module's docstring)."""
        if group_offload:
            streamed = STREAMED_LAYERS * self.weights_gb / self.layers
            return streamed + self.driving_kv_cache_gb + self.one_layer_activations_gb
        if cpu_offload:
            return max(self.transformer_resident_gb, self.text_encoder_gb)
        return self.transformer_resident_gb + self.text_encoder_gb


_NEEDS: dict = {}  # model name -> GpuNeed or None: each architecture is counted once a process


def gpu_need(spec_or_preset) -> GpuNeed | None:
    """The arithmetic for one real model (a spec or a preset name), or None for the small CPU models and for a
    folder or hub id whose architecture the spec does not give. The first call for a model takes a few seconds:
    diffusers is imported and the transformer built on the meta device by its family."""
    from engine.families import family_of
    from engine.spec import ModelSpec
    from engine.train.estimate import count_tokens

    spec = ModelSpec.from_preset(spec_or_preset) if isinstance(spec_or_preset, str) else spec_or_preset
    if spec.name in _NEEDS:
        return _NEEDS[spec.name]
    family = family_of(spec)
    transformer = family.published_transformer(spec)
    if transformer is None:
        _NEEDS[spec.name] = None
        return None
    parameters = sum(p.numel() for p in transformer.parameters())
    defaults, config = spec.defaults, transformer.config
    # One window's or segment's video tokens (Wan's VAE: 8x in space, 4x in time), the reference not counted.
    tokens = count_tokens(config, defaults["height"], defaults["width"], defaults["num_frames"], with_reference=False)
    width = config.get("dim") or config["num_attention_heads"] * config["attention_head_dim"]
    layers = config["num_layers"]
    # A model that reads the raw driving clip keeps its keys and values in every layer for the whole segment.
    cache = 2 * layers * tokens * width * BF16 / GB if family.reads_driving_video else 0.0
    _NEEDS[spec.name] = GpuNeed(
        preset=spec.name, family=spec.family, parameters_b=parameters / 1e9, layers=layers,
        size=f"{defaults['width']}x{defaults['height']}x{defaults['num_frames']}", video_tokens=tokens,
        weights_gb=parameters * BF16 / GB,
        # One layer's activations at a time in inference: the hidden states and the FFN's, in bf16.
        one_layer_activations_gb=tokens * (width + config.get("ffn_dim", 0)) * BF16 / GB, driving_kv_cache_gb=cache)
    return _NEEDS[spec.name]


def zerogpu_memory_gb() -> float:
    """A ZeroGPU job's GPU memory in GB: VACE_LAB_ZEROGPU_GB, or Hugging Face's 70."""
    variable, default = ZEROGPU_GB
    text = os.environ.get(variable, "")
    try:
        return float(text) if text.strip() else default
    except ValueError:
        raise ValueError(f"{variable} is a number of GB, not {text!r}") from None


def zerogpu_refusal(spec) -> str | None:
    """On a ZeroGPU Space, one line saying why this model does not fit the slice (None when it fits, when the
    model is one of the CPU models, and anywhere but ZeroGPU)."""
    need = gpu_need(spec) if on_zerogpu() else None
    if need is None:
        return None
    peak = need.peak_gb(spec.cpu_offload, spec.group_offload)
    available = zerogpu_memory_gb()
    if peak <= available:
        return None
    advice = {"group_offload": "choose a smaller model", "cpu_offload": "try group_offload or a smaller model",
              "none": "try cpu_offload or group_offload, or a smaller model"}[spec.memory_plan]
    plan = "no offload" if spec.memory_plan == "none" else spec.memory_plan
    return (f"{spec.name} does not fit this Space's ZeroGPU slice: about {peak:.0f} GB with its memory plan "
            f"({plan}) against {available:.0f} GB ({ZEROGPU_GB[0]}); {advice}")


def zerogpu_note() -> str:
    """For the page's banner on a ZeroGPU Space: which real models fit the slice with their presets' memory plans
    (empty anywhere else)."""
    if not on_zerogpu():
        return ""
    from engine.spec import ModelSpec, preset_names

    specs = [ModelSpec.from_preset(name) for name in preset_names()]
    real = [spec for spec in specs if gpu_need(spec) is not None]
    fit = [spec.name for spec in real if zerogpu_refusal(spec) is None]
    over = [spec.name for spec in real if spec.name not in fit]
    text = (f"On this ZeroGPU Space ({zerogpu_memory_gb():.0f} GB a job) these models fit with their memory plans, "
            f"by arithmetic: {', '.join(fit) or 'none'}.")
    return text + (f" Not offered here: {', '.join(over)}." if over else "")
