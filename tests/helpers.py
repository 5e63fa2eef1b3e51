"""Helpers for tests: videos with known content, LoRA files in the formats people bring."""

from pathlib import Path

import numpy as np


def write_video(path, frames, fps, codec="libx264"):
    import imageio.v2 as imageio

    writer = imageio.get_writer(str(path), format="ffmpeg", fps=fps, codec=codec, macro_block_size=1,
                                ffmpeg_log_level="error", **({"pixelformat": "yuv420p"} if codec == "libx264" else {}))
    for frame in frames:
        writer.append_data(frame)
    writer.close()
    return Path(path)


def numbered_frames(count, height=64, width=96):
    """Frames whose brightness encodes their index, so a test can tell which source frame it got."""
    return [np.full((height, width, 3), min(255, 8 * i), np.uint8) for i in range(count)]


# ---- LoRA files in the formats people bring ----------------------------------------------------------


_ORIGINAL_NAMES = {"attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v",
                   "attn1.to_out.0": "self_attn.o", "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k",
                   "attn2.to_v": "cross_attn.v", "attn2.to_out.0": "cross_attn.o",
                   "ffn.net.0.proj": "ffn.0", "ffn.net.2": "ffn.2"}


def tiny_lora_layers(seed=0, rank=4):
    """peft LoRA weights (random, not zero) for the tiny transformer's main blocks, diffusers names."""
    import torch
    from peft import LoraConfig, get_peft_model_state_dict

    from engine.tiny import build_tiny_pipeline

    transformer = build_tiny_pipeline().transformer
    torch.manual_seed(seed)
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False,
                                       target_modules=r"blocks\.\d+\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)|blocks\.\d+\.ffn\.net\.(0\.proj|2)"))
    return {k: v.detach().clone().contiguous() for k, v in get_peft_model_state_dict(transformer).items()}


def save_diffusers_lora(folder, layers):
    from diffusers import WanVACEPipeline

    WanVACEPipeline.save_lora_weights(str(folder), transformer_lora_layers=layers)
    return Path(folder) / "pytorch_lora_weights.safetensors"


def to_original_wan_names(layers, prefix=""):
    """diffusers names -> original Wan names (DiffSynth-Studio without prefix, ComfyUI with diffusion_model.)."""
    renamed = {}
    for key, value in layers.items():
        for new, old in _ORIGINAL_NAMES.items():
            key = key.replace(f".{new}.", f".{old}.")
        renamed[prefix + key] = value
    return renamed
