"""Model families: what a kind of model adds to the generic engine (its banner, its one-click sample, how it
reads a prompt, where its weights come from). A model preset names its family (ModelSpec.family); the
generation core asks the family's hook (engine/families/base.py) and never branches on a family itself.

    family = family_of(spec)
    spec = model_spec("auto")     # a preset, a folder a family recognises, a local pipeline or a hub id
"""

from __future__ import annotations

import importlib
import logging
import os
from pathlib import Path

from engine.families.base import ModelFamily

logger = logging.getLogger(__name__)

# family name -> the module whose FAMILY is its hook
FAMILY_MODULES = {
    "wan-vace": "engine.families.base",
    "tiny": "engine.families.tiny",
    "wan-animate": "engine.families.animate",
    "tiny-animate": "engine.families.tiny_animate",
    "wan-animate-2": "engine.families.animate2",
    "wan-animate-2-distilled": "engine.families.animate2_distilled",
    "tiny-animate-2": "engine.families.tiny_animate2",
    "toy": "engine.toy.family",
}


def family_named(name: str) -> ModelFamily:
    if name not in FAMILY_MODULES:
        raise ValueError(f"unknown model family {name!r}; families: {', '.join(FAMILY_MODULES)}")
    module = importlib.import_module(FAMILY_MODULES[name])
    return getattr(module, "FAMILY", None) or ModelFamily()


def family_of(spec) -> ModelFamily:
    return family_named(spec.family or "wan-vace")


def model_spec(name: str):
    """The ModelSpec for a --model value: 'auto' (resolve_model_name), a preset, a pipeline folder one of the
    families recognises (a toy training run), any other diffusers folder, or a hub id."""
    from engine.spec import ModelSpec

    name = resolve_model_name(name)
    path = Path(name)
    if path.is_dir():
        for family in FAMILY_MODULES:
            spec = family_named(family).spec_for_folder(path)
            if spec is not None:
                return spec
    return ModelSpec.from_preset(name)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def on_zerogpu() -> bool:
    """Whether this process serves a ZeroGPU Space (Hugging Face sets SPACES_ZERO_GPU there)."""
    return os.environ.get("SPACES_ZERO_GPU", "").strip().lower() in ("1", "true")


def resolve_model_name(name: str) -> str:
    """'auto' picks the real 1.3B model on a CUDA machine or a ZeroGPU Space and the trained toy model otherwise
    (the random tiny engine only when the toy model's weights are missing)."""
    if name != "auto":
        return name
    if cuda_available() or on_zerogpu():  # ZeroGPU gives a GPU to each job, not to the process that starts
        chosen = "wan-vace-1.3b"
    else:
        chosen = "toy" if family_named("toy").is_shipped() else "tiny"
        if chosen == "tiny":
            logger.warning("the toy model's weights are not in assets/toy: using the random tiny engine")
    logger.info("--model auto -> %s", chosen)
    return chosen
