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


# Written from the formats' published key layouts, independently of engine/lora_formats.py, so that a
# naming mistake there cannot hide by being made twice.
_ORIGINAL_NAMES = {"attn1.to_q": "self_attn.q", "attn1.to_k": "self_attn.k", "attn1.to_v": "self_attn.v",
                   "attn1.to_out.0": "self_attn.o", "attn2.to_q": "cross_attn.q", "attn2.to_k": "cross_attn.k",
                   "attn2.to_v": "cross_attn.v", "attn2.to_out.0": "cross_attn.o",
                   "ffn.net.0.proj": "ffn.0", "ffn.net.2": "ffn.2", "proj_in": "before_proj", "proj_out": "after_proj"}
MAIN_BLOCKS = r"blocks\.\d+\.(attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)|blocks\.\d+\.ffn\.net\.(0\.proj|2)"
VACE_BRANCH = r"vace_blocks\.\d+\.((attn1|attn2)\.(to_q|to_k|to_v|to_out\.0)|ffn\.net\.(0\.proj|2)|proj_in|proj_out)"


def tiny_lora_layers(seed=0, rank=4, target=MAIN_BLOCKS):
    """peft LoRA weights (random, not zero) for the tiny transformer (main blocks by default), diffusers names."""
    import torch
    from peft import LoraConfig, get_peft_model_state_dict

    from engine.tiny import build_tiny_pipeline

    transformer = build_tiny_pipeline().transformer
    torch.manual_seed(seed)
    transformer.add_adapter(LoraConfig(r=rank, lora_alpha=rank, init_lora_weights=False, target_modules=target))
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


def to_diffsynth_trainer_names(layers):
    """As DiffSynth-Studio's trainer saves: original names, peft's adapter name ('default') left in each key."""
    return {key.replace(".lora_A.", ".lora_A.default.").replace(".lora_B.", ".lora_B.default."): value
            for key, value in to_original_wan_names(layers).items()}


def to_comfyui_names(layers):
    """ComfyUI / Kohya: lora_down / lora_up with an alpha per layer. alpha = rank / 2 with the up matrix doubled
    means exactly the same weights, so a loader that ignores alpha gives a different video."""
    import torch

    renamed = {}
    for key, value in to_original_wan_names(layers, "diffusion_model.").items():
        if ".lora_A." in key:
            renamed[key.replace(".lora_A.weight", ".lora_down.weight")] = value
            renamed[key.replace(".lora_A.weight", ".alpha")] = torch.tensor(value.shape[0] / 2)
        else:
            renamed[key.replace(".lora_B.weight", ".lora_up.weight")] = value * 2
    return renamed


def to_musubi_names(layers):
    """musubi-tuner: lora_unet_ + the original module name with dots as underscores, lora_down / lora_up + alpha."""
    import torch

    renamed = {}
    for key, value in to_original_wan_names(layers).items():
        module, _, part = key.partition(".lora_")
        module = "lora_unet_" + module.replace(".", "_")
        if part == "A.weight":
            renamed[f"{module}.lora_down.weight"] = value
            renamed[f"{module}.alpha"] = torch.tensor(float(value.shape[0]))
        else:
            renamed[f"{module}.lora_up.weight"] = value
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


# ---- pose: a real person photo in motion, and tiny fake DWPose ONNX models ------------------------------


def person_photo():
    """A real photo of a person that ships with matplotlib (Grace Hopper, head and shoulders)."""
    import matplotlib.cbook
    from PIL import Image

    return Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")


def moving_person_frames(count=17, width=320, height=240, shift=120):
    """The photo sliding from left to right across a grey frame: the skeleton must follow it."""
    from PIL import Image

    photo = person_photo().resize((160, 188))
    frames = []
    for index in range(count):
        dx = int(round(-shift / 2 + shift * index / max(1, count - 1)))
        canvas = Image.new("RGB", (width, height), (40, 40, 40))
        canvas.paste(photo, ((width - photo.width) // 2 + dx, 30))
        frames.append(np.asarray(canvas))
    return frames


def bright_figure_frames(boxes_per_frame, width=256, height=192):
    """Black frames with white rectangles ("people") where the fake DWPose detector will find them."""
    frames = []
    for boxes in boxes_per_frame:
        frame = np.zeros((height, width, 3), np.uint8)
        for x1, y1, x2, y2 in boxes:
            frame[y1:y2, x1:x2] = 255
        frames.append(frame)
    return frames


def _wholebody_template():
    """133 COCO-WholeBody points (u, v) in the estimator's crop: a person standing, facing the camera."""
    body = [(0.50, 0.20), (0.53, 0.18), (0.47, 0.18), (0.56, 0.19), (0.44, 0.19), (0.60, 0.30), (0.40, 0.30),
            (0.65, 0.42), (0.35, 0.42), (0.68, 0.52), (0.32, 0.52), (0.56, 0.55), (0.44, 0.55), (0.57, 0.70),
            (0.43, 0.70), (0.58, 0.85), (0.42, 0.85)]
    feet = [(0.60, 0.88), (0.62, 0.88), (0.58, 0.89), (0.40, 0.88), (0.38, 0.88), (0.42, 0.89)]
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    face = [(0.50 + 0.04 * np.cos(a), 0.21 + 0.04 * np.sin(a)) for a in angles]
    hand_angles = np.linspace(-0.6, 0.6, 21)
    left = [(0.70 + 0.03 * np.sin(a), 0.57 + 0.03 * np.cos(a)) for a in hand_angles]
    right = [(0.30 + 0.03 * np.sin(a), 0.57 + 0.03 * np.cos(a)) for a in hand_angles]
    return np.asarray(body + feet + face + left + right, dtype=np.float32)


WHOLEBODY_TEMPLATE = _wholebody_template()


def export_fake_dwpose(folder, detector_size=(128, 96), estimator_size=(48, 64)):
    """Tiny ONNX stand-ins for DWPose's two models, exported with torch.onnx, for rtmlib's real code path.

    The detector finds the bright pixels in each half of its input and returns their boxes (YOLOX's
    end-to-end layout: [1, boxes, x1 y1 x2 y2 score]). The estimator answers every crop with the same
    standing whole-body template as SimCC vectors, so keypoints land where the box is.
    Sizes are (width, height). Returns DWPoseModels for the two files.
    """
    import warnings

    import torch

    from engine.pose.backends import DWPOSE_DETECTOR, DWPOSE_ESTIMATOR, DWPoseModels

    class HalvesDetector(torch.nn.Module):
        def forward(self, image):
            bright = image.mean(dim=1)[0] > 200  # [H, W]; YOLOX pads with grey 114, which stays out
            height, width = bright.shape
            boxes = []
            for columns in (slice(0, width // 2), slice(width // 2, width)):
                part = bright[:, columns]
                rows_any, cols_any = part.any(dim=1), part.any(dim=0)
                ys = torch.arange(height, dtype=torch.float32)
                xs = torch.arange(part.shape[1], dtype=torch.float32) + columns.start
                y1 = torch.where(rows_any, ys, torch.tensor(1e9)).min()
                y2 = torch.where(rows_any, ys, torch.tensor(-1.0)).max() + 1
                x1 = torch.where(cols_any, xs, torch.tensor(1e9)).min()
                x2 = torch.where(cols_any, xs, torch.tensor(-1.0)).max() + 1
                score = rows_any.any().float()
                boxes.append(torch.stack([x1 * score, y1 * score, x2 * score, y2 * score, score]))
            return torch.stack(boxes)[None]

    class TemplateEstimator(torch.nn.Module):
        def __init__(self):
            super().__init__()
            width, height = estimator_size
            template = torch.from_numpy(WHOLEBODY_TEMPLATE)
            bins_x = (template[:, 0] * width * 2).round().long()
            bins_y = (template[:, 1] * height * 2).round().long()
            self.register_buffer("simcc_x", torch.nn.functional.one_hot(bins_x, width * 2).float()[None])
            self.register_buffer("simcc_y", torch.nn.functional.one_hot(bins_y, height * 2).float()[None])

        def forward(self, crop):
            touch = crop.mean() * 0  # keeps the input in the graph
            return self.simcc_x + touch, self.simcc_y + touch

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(HalvesDetector(), (torch.zeros(1, 3, detector_size[1], detector_size[0]),),
                          str(folder / DWPOSE_DETECTOR), dynamo=False, input_names=["images"])
        torch.onnx.export(TemplateEstimator(), (torch.zeros(1, 3, estimator_size[1], estimator_size[0]),),
                          str(folder / DWPOSE_ESTIMATOR), dynamo=False, input_names=["input"],
                          output_names=["simcc_x", "simcc_y"])
    return DWPoseModels(folder / DWPOSE_DETECTOR, folder / DWPOSE_ESTIMATOR, detector_size, estimator_size)
