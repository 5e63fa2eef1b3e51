"""The embedded tiny engine: a WanVACE pipeline of the real classes with small random weights.

It is built in code (no download), seeded so every machine gets the same weights, written with
save_pretrained and then loaded back with from_pretrained like any real checkpoint. That way the tests
exercise the real loading path, and the app runs end to end on a CPU. Its videos are noise.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import string
import uuid
from pathlib import Path

from engine.paths import workspace_dir

logger = logging.getLogger(__name__)

# Bump when anything below changes, so a stale build in the workspace is not reused.
TINY_VERSION = 1
TEXT_DIM = 32

# The transformer config of diffusers' own WanVACE tests, at a size a CPU handles in milliseconds.
TINY_TRANSFORMER = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=12,
    in_channels=16,
    out_channels=16,
    text_dim=TEXT_DIM,
    freq_dim=256,
    ffn_dim=32,
    num_layers=3,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    rope_max_seq_len=32,
    vace_layers=[0, 2],
    vace_in_channels=96,
)

# Enough whole words that typical prompts tokenize into roughly word-sized pieces; anything else falls
# back to single characters, so every prompt still tokenizes.
_COMMON_WORDS = (
    "a an the of and with in on at to is he she his her they wearing dressed man woman person young adult "
    "dance dances dancing performs smooth natural following skeleton pose exactly video high quality "
    "photorealistic consistent character clean indoor outdoor setting soft lighting light studio black "
    "white red blue green dark brown hair skin face eyes glasses shirt t-shirt jeans sneakers room camera "
    "cinematic detailed 4k 8k background motion movement body hands arms legs fluid steady sharp focus"
).split()


# A WanAnimate transformer at the same scale: 2 blocks, 24-wide tokens, a 16-pixel face encoder (the 14B's is
# 512) with 8 channels at every resolution, and face cross-attention after every block.
TINY_ANIMATE_TRANSFORMER = dict(
    patch_size=(1, 2, 2),
    num_attention_heads=2,
    attention_head_dim=12,
    in_channels=36,
    latent_channels=16,
    out_channels=16,
    text_dim=TEXT_DIM,
    freq_dim=256,
    ffn_dim=32,
    num_layers=2,
    cross_attn_norm=True,
    qk_norm="rms_norm_across_heads",
    rope_max_seq_len=32,
    image_dim=4,
    motion_encoder_channel_sizes={"16": 8, "8": 8, "4": 8},
    motion_encoder_size=16,
    motion_style_dim=8,
    motion_dim=4,
    motion_encoder_dim=8,
    face_encoder_hidden_dim=16,
    face_encoder_num_heads=2,
    inject_face_latents_blocks=1,
)
TINY_CLIP = dict(hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
                 intermediate_size=16, patch_size=8)
# A Wan-Animate-2 transformer at the same scale. Its image projection takes CLIP's 1280-wide features (fixed in
# diffusers' class), so the tiny CLIP tower for it is 1280 wide, one layer deep, on 32-pixel patches.
TINY_ANIMATE2_TRANSFORMER = dict(
    patch_size=(1, 2, 2), text_len=512, in_dim=36, dim=24, ffn_dim=32, freq_dim=16, text_dim=TEXT_DIM,
    out_dim=16, num_heads=2, num_layers=2,
)
TINY_CLIP_1280 = dict(hidden_size=1280, projection_dim=4, num_hidden_layers=1, num_attention_heads=2,
                      image_size=224, intermediate_size=16, patch_size=32)
TINY_TRANSFORMERS = {"vace": TINY_TRANSFORMER, "animate": TINY_ANIMATE_TRANSFORMER,
                     "animate-2": TINY_ANIMATE2_TRANSFORMER}
TINY_KINDS = tuple(TINY_TRANSFORMERS)


def tiny_model_dir(kind: str = "vace") -> Path:
    return workspace_dir("models") / (f"tiny-v{TINY_VERSION}" if kind == "vace" else f"tiny-{kind}-v{TINY_VERSION}")


def ensure_tiny_pipeline(kind: str = "vace") -> Path:
    """Build the tiny pipeline of `kind` (TINY_KINDS) into the workspace once; return its folder."""
    target = tiny_model_dir(kind)
    if (target / "model_index.json").is_file():
        return target
    logger.info("building the tiny Wan %s pipeline in %s", kind, target)
    pipe = build_tiny(kind)
    # A folder of our own, renamed into place at once: a killed build leaves no half-written model, and
    # when several processes build at the same time (accelerate launch) the first one to finish wins.
    tmp = target.with_name(f"{target.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    pipe.save_pretrained(tmp)
    (tmp / "lab_tiny.json").write_text(json.dumps({"version": TINY_VERSION, "transformer": TINY_TRANSFORMERS[kind]}))
    try:
        tmp.rename(target)
    except OSError:
        if not (target / "model_index.json").is_file():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def build_tiny(kind: str = "vace"):
    """The tiny pipeline of `kind` (TINY_KINDS), built in memory with its seeded random weights."""
    builders = {"vace": build_tiny_pipeline, "animate": build_tiny_animate_pipeline,
                "animate-2": build_tiny_animate2_pipeline}
    return builders[kind]()


def build_tiny_tokenizer():
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("\u2581" + word, -1.0) for word in _COMMON_WORDS]
    pieces += [("\u2581", -3.0)]
    pieces += [(ch, -5.0) for ch in string.ascii_letters + string.digits + string.punctuation]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def build_tiny_pipeline():
    import torch
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline, WanVACETransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = build_tiny_tokenizer()
    torch.manual_seed(0)
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=TEXT_DIM,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            decoder_start_token_id=tokenizer.pad_token_id,
        )
    )
    torch.manual_seed(1)
    transformer = WanVACETransformer3DModel(**TINY_TRANSFORMER)
    torch.manual_seed(2)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    # The same scheduler family and flow settings as the published Wan2.1-VACE checkpoints.
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    return WanVACEPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer, vae=vae, scheduler=scheduler
    )


def build_tiny_animate_pipeline():
    """A WanAnimatePipeline of the real classes with tiny random weights: the tiny VACE's tokenizer, text encoder
    and VAE, a tiny WanAnimate transformer and a tiny CLIP vision tower for the reference's image features."""
    import torch
    from diffusers import UniPCMultistepScheduler, WanAnimatePipeline, WanAnimateTransformer3DModel
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    base = build_tiny_pipeline()
    torch.manual_seed(3)
    transformer = WanAnimateTransformer3DModel(**TINY_ANIMATE_TRANSFORMER)
    torch.manual_seed(4)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(**TINY_CLIP))
    image_processor = CLIPImageProcessor(crop_size=TINY_CLIP["image_size"], size=TINY_CLIP["image_size"])
    # Wan2.2-Animate's sampler: UniPC on flow sigmas, shift 5 (the lab's request sets the shift it runs at).
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0)
    return WanAnimatePipeline(tokenizer=base.tokenizer, text_encoder=base.text_encoder, vae=base.vae,
                              scheduler=scheduler, image_processor=image_processor, image_encoder=image_encoder,
                              transformer=transformer)


def build_tiny_animate2_pipeline():
    """Wan-Animate-2's modular pipeline (engine/families/animate2_pipeline.py) of the real classes with tiny random
    weights: the tiny VACE's tokenizer, text encoder and VAE, a tiny WanAnimate2 transformer and a CLIP tower."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanAnimate2Transformer3DModel
    from transformers import CLIPVisionConfig, CLIPVisionModel

    from engine.families.animate2_pipeline import LabAnimate2Pipeline

    base = build_tiny_pipeline()
    torch.manual_seed(5)
    transformer = WanAnimate2Transformer3DModel(**TINY_ANIMATE2_TRANSFORMER)
    torch.manual_seed(6)
    image_encoder = CLIPVisionModel(CLIPVisionConfig(**TINY_CLIP_1280))
    # Its segment loop passes a generator to the scheduler's step: flow-match Euler, at Animate's shift of 5.
    scheduler = FlowMatchEulerDiscreteScheduler(shift=5.0)
    return LabAnimate2Pipeline(text_encoder=base.text_encoder, tokenizer=base.tokenizer, image_encoder=image_encoder,
                               vae=base.vae, transformer=transformer, scheduler=scheduler)
