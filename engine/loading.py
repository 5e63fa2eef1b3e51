"""How a model spec becomes a pipeline on a device: dtypes, offloading, speed options, and one clear line
when the weights are not there. The engine calls load_pipeline once and keeps the result.

Heavy libraries are imported inside the functions, so importing this module (and the engine) stays fast.
"""

from __future__ import annotations

import logging
import time

from engine.cpu_conv import use_onednn_conv3d
from engine.spec import ModelSpec

logger = logging.getLogger(__name__)


def load_pipeline(spec: ModelSpec, source: str, device: str):
    """The lab's pipeline (engine/pipeline.py) from `source`, placed on `device` as the spec says."""
    from engine.families import family_of

    started = time.perf_counter()
    _quiet_loading_bars()
    import_lab_components(source)
    try:
        pipe = family_of(spec).pipeline_class().from_pretrained(source, dtype=torch_dtypes(spec, device))
    except (OSError, ValueError) as err:
        raise load_error(source, err) from None
    place_pipeline(pipe, spec, device)
    pipe.lab_reference_encoder = load_reference_encoder(source, device)
    logger.info("loaded %s on %s in %.1f s", source, device, time.perf_counter() - started)
    return pipe


def place_pipeline(pipe, spec: ModelSpec, device: str):
    """Put a pipeline on `device` with the spec's memory plan and speed options, and give it the lab's
    conditioning store (the pipeline has no reference encoder until load_pipeline adds its folder's)."""
    from engine.pipeline import ConditionStore

    if spec.cpu_offload and device == "cuda":
        pipe.enable_model_cpu_offload()
    elif spec.group_offload and device == "cuda":
        apply_group_offload(pipe)
    else:
        pipe.to(device)
    if spec.vae_tiling:
        pipe.vae.enable_tiling()
    if device == "cpu":
        use_onednn_conv3d(pipe.vae)  # PyTorch would pick its slow reference kernel for a VAE's convolutions
    apply_speed_options(pipe, spec)
    pipe.set_progress_bar_config(disable=True)
    pipe.lab_condition_store = ConditionStore()
    pipe.lab_reference_encoder = None
    return pipe


def load_reference_encoder(source: str, device: str):
    """The pipeline folder's reference encoder (engine/reference_tokens.py), or None when it has none."""
    from pathlib import Path

    folder = Path(source) / "reference_encoder"
    if not (folder / "config.json").is_file():
        return None
    import torch

    from engine.reference_tokens import ReferenceTokenEncoder

    encoder = ReferenceTokenEncoder.from_pretrained(folder, torch_dtype=torch.float32)
    return encoder.to(device).eval()


def import_lab_components(source: str):
    """Import the lab's own component classes that a local pipeline folder's model_index.json names (a module under
    engine.): diffusers loads a class from a module other than its own only once that module is imported."""
    import importlib
    import json
    from pathlib import Path

    index = Path(source) / "model_index.json"
    if not index.is_file():
        return
    for entry in json.loads(index.read_text()).values():
        if isinstance(entry, list) and entry and isinstance(entry[0], str) and entry[0].startswith("engine."):
            importlib.import_module(entry[0])


def torch_dtypes(spec: ModelSpec, device: str) -> dict:
    import torch

    if device == "cpu":  # bf16 matmuls are slow on CPUs, and the tiny model is float32 anyway
        return {"default": torch.float32}
    return {
        "transformer": getattr(torch, spec.transformer_dtype),
        "vae": getattr(torch, spec.vae_dtype),
        "text_encoder": getattr(torch, spec.text_encoder_dtype),
        "default": getattr(torch, spec.transformer_dtype),
    }


STREAMED_PARTS = ("transformer", "text_encoder")  # the large ones; group offload streams their layers


def apply_group_offload(pipe):
    """Transformer and text encoder stream their layers to the GPU as they run; the other parts with weights
    (the VAE, an image encoder) stay there."""
    import torch
    from diffusers.hooks import apply_group_offloading

    for name in STREAMED_PARTS:
        apply_group_offloading(getattr(pipe, name), onload_device=torch.device("cuda"),
                               offload_device=torch.device("cpu"), offload_type="leaf_level", use_stream=True)
    for name in resident_parts(pipe):
        getattr(pipe, name).to("cuda")


def resident_parts(pipe) -> list[str]:
    """The pipeline's parts with weights that group offload keeps whole on the GPU."""
    import torch

    return [name for name, part in pipe.components.items()
            if name not in STREAMED_PARTS and isinstance(part, torch.nn.Module)]


def apply_speed_options(pipe, spec: ModelSpec):
    """The attention backend, and regional compilation of the repeated blocks with LoRA hotswap."""
    if spec.attention_backend != "native":
        try:
            pipe.transformer.set_attention_backend(spec.attention_backend)
        except Exception as err:  # noqa: BLE001 - missing kernels raise several types
            raise RuntimeError(f"attention backend {spec.attention_backend!r} is not available here "
                               f"({str(err).splitlines()[0][:200]}); use native") from None
    if spec.compile_blocks:
        # Hotswap must be enabled before any LoRA loads; the first LoRA still compiles once (new layers).
        pipe.enable_lora_hotswap(target_rank=spec.lora_max_rank)
        pipe.transformer.compile_repeated_blocks(fullgraph=True)


def load_error(source: str, err: Exception) -> RuntimeError:
    return RuntimeError(
        f"could not load model {source!r} ({str(err).splitlines()[0][:200]}). Its weights must be in the local "
        "Hugging Face cache or reachable online; on a machine without them, --model auto picks a model built in this lab."
    )


def _quiet_loading_bars():
    # Loading bars from diffusers/transformers clutter the CLI and server logs; the engine logs instead.
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
