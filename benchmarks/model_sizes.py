"""What each real model needs on a GPU, from its architecture: parameters counted on the meta device, memory by
arithmetic. Nothing is downloaded and no weights are made, so it runs anywhere in seconds.

    python -m benchmarks.model_sizes [--json PATH]

For each family's published 14B / 1.3B transformer (the lab's preset config for VACE, diffusers' class defaults,
which are the published configs, for Animate and Animate-2): its parameter count, its bf16 weights, the video
tokens of one window or segment at the preset's default size, and for Animate-2 the per-segment key/value cache
of the driving clip that every layer keeps (2 x layers x tokens x width in bf16). The text encoder (UMT5-XXL,
about 11 GB in bf16) and the VAE come on top unless offloaded; the peak under each memory plan is engine/gpu_fit.py's
(the same arithmetic decides what a ZeroGPU Space runs). Measured peaks need a GPU: `python -m experiments bench`
on one (BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

logger = logging.getLogger("benchmarks.model_sizes")


def measure(preset: str) -> dict:
    """engine/gpu_fit.py's arithmetic for one preset, with the peak under its own memory plan and under each."""
    from engine.gpu_fit import gpu_need
    from engine.spec import ModelSpec

    need, spec = gpu_need(preset), ModelSpec.from_preset(preset)
    row = {key: value for key, value in asdict(need).items() if value or key != "driving_kv_cache_gb"}
    row["weights_bf16_gb"], row["text_encoder_bf16_gb"] = row.pop("weights_gb"), row.pop("text_encoder_gb")
    row["resident_gb"] = need.transformer_resident_gb
    row["peak_gb"] = {"no_offload": need.peak_gb(), "cpu_offload": need.peak_gb(cpu_offload=True),
                      "group_offload": need.peak_gb(group_offload=True),
                      "preset": need.peak_gb(spec.cpu_offload, spec.group_offload)}
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
                    "transformer alone %.1f GB (+ %.1f GB text encoder unless offloaded); peak with the preset's "
                    "memory plan %.1f GB", row["preset"], row["parameters_b"], row["weights_bf16_gb"], row["size"],
                    row["video_tokens"], cache, row["resident_gb"], row["text_encoder_bf16_gb"],
                    row["peak_gb"]["preset"])
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
