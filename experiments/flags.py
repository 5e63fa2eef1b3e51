"""Command-line flags the app (`python app.py`) and the CLI (`python -m experiments ...`) share."""

from __future__ import annotations

import argparse

from services.exit_codes import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_OK  # noqa: F401 (every command's)

MODEL_HELP = ("preset (toy, tiny, wan-vace-1.3b, wan-vace-14b), hub id or local folder; "
              "auto: wan-vace-1.3b on CUDA, else the toy model when its weights are in assets/toy, else tiny")


def add_model_arguments(parser: argparse.ArgumentParser, default: str = "auto"):
    parser.add_argument("--model", default=default, help=MODEL_HELP)
    parser.add_argument("--cpu-offload", action="store_true", help="model CPU offload (GPUs with little memory)")
    parser.add_argument("--vae-tiling", action="store_true", help="tile the VAE to cut peak memory")
    add_speed_arguments(parser)


def add_speed_arguments(parser: argparse.ArgumentParser):
    """Engine speed options (ModelSpec fields)."""
    parser.add_argument("--group-offload", action="store_true", help="group offload, for GPUs of 16 GB or less")
    parser.add_argument("--attention-backend", default=None,
                        help="diffusers attention backend: native, flash, _flash_3, sage, _native_cudnn, ...")
    parser.add_argument("--compile-blocks", action="store_true",
                        help="torch.compile the repeated blocks (LoRAs are hotswapped: no recompiles)")


def speed_changes(args) -> dict:
    """The ModelSpec changes the flags ask for."""
    changes = {name: True for name in ("cpu_offload", "vae_tiling", "group_offload", "compile_blocks")
               if getattr(args, name, False)}
    if getattr(args, "attention_backend", None):
        changes["attention_backend"] = args.attention_backend
    return changes
