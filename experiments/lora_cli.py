"""`python -m experiments lora ...`: look inside LoRA files and convert them for other tools.

    lora inspect FILE [--model M]          the file's format, layers and rank; with --model, whether it fits
    lora export FILE --out PATH            the same LoRA in ComfyUI / Wan2GP naming (lora_down / lora_up + alpha)
"""

from __future__ import annotations

import logging

logger = logging.getLogger("experiments")


def add_lora_commands(commands):
    lora = commands.add_parser("lora", help="inspect LoRA files of any tool, export ours for ComfyUI / Wan2GP")
    sub = lora.add_subparsers(dest="lora_command", required=True)

    inspect = sub.add_parser("inspect", help="format, layers and rank of a LoRA file; with --model, whether it fits")
    inspect.add_argument("file", help="a .safetensors LoRA: path, or file name in loras/")
    inspect.add_argument("--model", help="check it against this model (preset name, hub id or folder)")
    inspect.set_defaults(func=run_lora_inspect)

    export = sub.add_parser("export", help="write a LoRA in ComfyUI / Wan2GP naming")
    export.add_argument("file", help="a .safetensors LoRA of any format the lab reads")
    export.add_argument("--out", required=True, help="the .safetensors file to write")
    export.set_defaults(func=run_lora_export)


def run_lora_inspect(args) -> int:
    from engine.lora import resolve_lora
    from engine.lora_formats import check_lora_fits, read_lora_file

    path = resolve_lora(args.file)
    lora = read_lora_file(path)
    print(f"{path.name}: {lora.summary()}")
    for entry in lora.ignored:
        print(f"  not applied: {entry}")
    if args.model:
        from engine import Engine

        engine = Engine.from_name(args.model)
        check_lora_fits(lora, engine.load().transformer, engine.spec.name)
        print(f"fits {engine.spec.name}")
    return 0


def run_lora_export(args) -> int:
    from pathlib import Path

    from engine.lora import resolve_lora
    from engine.lora_formats import export_comfyui

    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise ValueError(f"--out must end in .safetensors, got {out.name}")
    written = export_comfyui(resolve_lora(args.file), out)
    print(written)
    return 0
