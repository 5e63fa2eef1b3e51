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


# ---- tiny random language models of the captioner / rewriter classes ----------------------------------

def _byte_level_vocab(specials):
    from tokenizers.pre_tokenizers import ByteLevel

    return {token: index for index, token in enumerate(list(specials) + sorted(ByteLevel.alphabet()))}


def save_tiny_florence2(folder):
    """A Florence-2 of the real classes with random weights and a character-level tokenizer."""
    import torch
    from transformers import (BartConfig, BartTokenizer, CLIPImageProcessor, Florence2Config,
                              Florence2ForConditionalGeneration, Florence2Processor, Florence2VisionConfig)

    tokenizer = BartTokenizer(vocab=_byte_level_vocab(["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<image>"]),
                              merges=[], extra_special_tokens={"image_token": "<image>"})
    images = CLIPImageProcessor(size={"height": 64, "width": 64}, crop_size={"height": 64, "width": 64},
                                do_center_crop=False)
    images.image_seq_length = 5  # 64x64 through DaViT's 32x downsampling: 2x2 patches + 1 pooled token
    processor = Florence2Processor(image_processor=images, tokenizer=tokenizer)
    torch.manual_seed(0)
    vision = Florence2VisionConfig(depths=[1, 1, 1, 1], embed_dim=[8, 16, 32, 64], num_heads=[1, 1, 2, 2],
                                   num_groups=[1, 1, 2, 2], window_size=2, projection_dim=32)
    text = BartConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                      encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                      max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                      bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                      decoder_start_token_id=tokenizer.eos_token_id)
    model = Florence2ForConditionalGeneration(
        Florence2Config(vision_config=vision, text_config=text, image_token_id=tokenizer.image_token_id))
    processor.save_pretrained(folder)
    model.save_pretrained(folder)
    return Path(folder)


def save_tiny_qwen2(folder):
    """A Qwen2 causal LM of the real class with random weights, a character-level tokenizer and a chat template."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM, Qwen2Tokenizer

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokenizer = Qwen2Tokenizer(vocab=_byte_level_vocab(specials), merges=[], eos_token="<|im_end|>",
                               pad_token="<|endoftext|>")
    tokenizer.chat_template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, max_position_embeddings=2048, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id))
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return Path(folder)
