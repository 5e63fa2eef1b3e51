"""The real models' architectures with random weights, built in memory: what `bench` times on a GPU at each
model's default size and memory plan, with nothing downloaded (the weights' values change neither the time nor
the memory).

Each part is the published one: the family's transformer (its hook, engine/families), Wan's UMT5-XXL text encoder,
the CLIP ViT-H/14 image tower Animate and Animate-2 read the reference with, and Wan2.1's VAE (AutoencoderKLWan's
defaults). The tokenizer, scheduler and image processor are the tiny pipeline's of the same kind (engine/tiny.py):
they hold no weights, and the tokenizer's ids all fall inside the real vocabulary.
"""

from __future__ import annotations

import contextlib
import inspect

# google/umt5-xxl's encoder, as Wan's text_encoder/config.json has it: about 5.7 B parameters.
UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, relative_attention_max_distance=128,
                feed_forward_proj="gated-gelu")
# open-clip's ViT-H/14 vision tower (xlm-roberta-large-vit-huge-14), Wan's image_encoder: about 0.63 B parameters.
CLIP_VIT_H = dict(hidden_size=1280, intermediate_size=5120, num_hidden_layers=32, num_attention_heads=16,
                  patch_size=14, image_size=224, projection_dim=1024, hidden_act="gelu")
# Which tiny pipeline (engine/tiny.py's TINY_KINDS) lends each family its tokenizer, scheduler and processor.
TINY_KIND = {"wan-vace": "vace", "wan-animate": "animate", "wan-animate-2": "animate-2",
             "wan-animate-2-distilled": "animate-2"}
REAL_PARTS = ("transformer", "text_encoder", "image_encoder", "vae")


@contextlib.contextmanager
def built_as(device: str, dtype):
    """Modules made inside are made on `device` in `dtype` (initialised there, never first in float32)."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(before)


def text_encoder(tokenizer, device: str = "cpu", dtype=None):
    import torch
    from transformers import UMT5Config, UMT5EncoderModel

    with built_as(device, dtype or torch.bfloat16):
        return UMT5EncoderModel(UMT5Config(**UMT5_XXL, pad_token_id=tokenizer.pad_token_id,
                                           eos_token_id=tokenizer.eos_token_id))


def image_encoder(device: str = "cpu", dtype=None):
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModel

    with built_as(device, dtype or torch.bfloat16):
        return CLIPVisionModel(CLIPVisionConfig(**CLIP_VIT_H))


def vae(device: str = "cpu", dtype=None):
    import torch
    from diffusers import AutoencoderKLWan

    with built_as(device, dtype or torch.float32):
        return AutoencoderKLWan()


def random_pipeline(spec, real_parts=REAL_PARTS, device: str = "cpu"):
    """The spec's pipeline (its family's class) with the published architecture and random weights for each of
    `real_parts`, in the dtypes the spec gives CUDA, built on `device`; the other parts are the tiny pipeline's.
    On a CPU this is seconds for the tiny parts and minutes for the real ones (a 14B transformer is 35 GB)."""
    import torch
    from transformers import CLIPImageProcessor

    from engine.families import family_of
    from engine.loading import torch_dtypes
    from engine.tiny import build_tiny

    family = family_of(spec)
    kind = getattr(family, "tiny_kind", None) or TINY_KIND[family.name]  # a tiny family names its own
    parts = dict(build_tiny(kind).components)
    dtypes = torch_dtypes(spec, "cuda")
    torch.manual_seed(0)
    if "transformer" in real_parts:
        with built_as(device, dtypes["transformer"]):
            parts["transformer"] = family.published_transformer(spec, device=device)
        if parts["transformer"] is None:
            raise ValueError(f"{spec.name} has no published architecture to build: choose a real model preset")
    if "text_encoder" in real_parts:
        parts["text_encoder"] = text_encoder(parts["tokenizer"], device, dtypes["text_encoder"])
    if "vae" in real_parts:
        parts["vae"] = vae(device, dtypes["vae"])
    if "image_encoder" in real_parts and "image_encoder" in parts:
        parts["image_encoder"] = image_encoder(device, dtypes["default"])
        if "image_processor" in parts:
            size = CLIP_VIT_H["image_size"]
            parts["image_processor"] = CLIPImageProcessor(size=size, crop_size=size)
    pipeline_class = family.pipeline_class()
    accepted = inspect.signature(pipeline_class.__init__).parameters
    return pipeline_class(**{name: part for name, part in parts.items() if name in accepted})
