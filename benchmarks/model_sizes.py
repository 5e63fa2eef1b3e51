"""What each real model needs on a GPU, from its architecture: parameters counted on the meta device, memory by
arithmetic. Nothing is downloaded and no weights are made, so it runs anywhere in seconds.

    python -m benchmarks.model_sizes [--json PATH]

For each family's published 14B / 1.3B transformer (the lab's preset config for VACE, diffusers' class defaults,
which are the published configs, for Animate and Animate-2): its parameter count, its bf16 weights, the video
tokens of one window or segment at the preset's default size, and for Animate-2 the per-segment key/value cache
of the driving clip that every layer keeps (2 x layers x tokens x width in bf16). The text encoder (UMT5-XXL,
about 11 GB in bf16) and the VAE come on top unless offloaded. Measured peaks need a GPU: `python -m experiments
bench` on one (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("benchmarks.model_sizes")

GB = 1e9
BF16 = 2
TEXT_ENCODER_GB = 5.7e9 * BF16 / GB  # UMT5-XXL encoder, about 5.7 B parameters


def build_on_meta(preset: str):
    """The preset's transformer with no storage behind its parameters."""
    import torch
    from diffusers import WanAnimate2Transformer3DModel, WanAnimateTransformer3DModel, WanVACETransformer3DModel

    from engine.spec import ModelSpec

    spec = ModelSpec.from_preset(preset)
    with torch.device("meta"):
        if spec.family == "wan-vace":
            return spec, WanVACETransformer3DModel(**spec.transformer_config)
        if spec.family == "wan-animate":
            # The original Animate config's use_img_emb: the reference's CLIP features get their own key/value
            # projections in every cross-attention, as in Wan's image-to-video 14B.
            return spec, WanAnimateTransformer3DModel(added_kv_proj_dim=5120)
        return spec, WanAnimate2Transformer3DModel()


def measure(preset: str) -> dict:
    from engine.train.estimate import count_tokens

    spec, transformer = build_on_meta(preset)
    parameters = sum(p.numel() for p in transformer.parameters())
    defaults = spec.defaults
    config = transformer.config
    # One window's or segment's video tokens (Wan's VAE: 8x in space, 4x in time), the reference not counted.
    tokens = count_tokens(config, defaults["height"], defaults["width"], defaults["num_frames"],
                          with_reference=False)
    width = config.get("dim") or config["num_attention_heads"] * config["attention_head_dim"]
    layers = config["num_layers"]
    row = {
        "preset": preset, "family": spec.family, "parameters_b": parameters / 1e9,
        "weights_bf16_gb": parameters * BF16 / GB,
        "size": f"{defaults['width']}x{defaults['height']}x{defaults['num_frames']}", "video_tokens": tokens,
        # One layer's activations at a time in inference: the hidden states and the FFN's, in bf16.
        "one_layer_activations_gb": tokens * (width + config.get("ffn_dim", 0)) * BF16 / GB,
        "text_encoder_bf16_gb": TEXT_ENCODER_GB,
    }
    if spec.family.startswith("wan-animate-2"):
        row["driving_kv_cache_gb"] = 2 * layers * tokens * width * BF16 / GB
    row["resident_gb"] = row["weights_bf16_gb"] + row.get("driving_kv_cache_gb", 0.0) + row["one_layer_activations_gb"]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--preset", action="append", help="repeatable; default: every real model preset")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    presets = args.preset or ["wan-vace-1.3b", "wan-vace-14b", "wan-animate-14b", "wan-animate-2-14b"]
    rows = [measure(preset) for preset in presets]
    for row in rows:
        cache = f", driving K/V {row['driving_kv_cache_gb']:.1f} GB" if "driving_kv_cache_gb" in row else ""
        logger.info("%-18s %5.2f B parameters, %5.1f GB bf16 weights, %s = %d tokens%s; resident with the "
                    "transformer alone %.1f GB (+ %.1f GB text encoder unless offloaded)", row["preset"],
                    row["parameters_b"], row["weights_bf16_gb"], row["size"], row["video_tokens"], cache,
                    row["resident_gb"], row["text_encoder_bf16_gb"])
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
