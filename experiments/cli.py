"""The headless command line. Every command exits non-zero with a one-line reason on bad input.

    python -m experiments generate --reference IMG --control VIDEO --prompt TEXT --out DIR
                                   [--model M] [--lora FILE] [--set field=value]...
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

logger = logging.getLogger("experiments")

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1
EXIT_CANCELLED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments", description="VACE Lab, headless.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="generate one video from a reference image and a control video")
    gen.add_argument("--control", required=True, help="control (pose) video: mp4, mov, webm, avi, gif")
    gen.add_argument("--reference", help="reference image of the subject (letterboxed, never cropped)")
    gen.add_argument("--prompt", required=True, help="what the video should show")
    gen.add_argument("--negative-prompt", help="default: Wan's standard negative prompt")
    gen.add_argument("--out", required=True, help="folder for video.mp4 and manifest.json")
    add_model_arguments(gen)
    gen.add_argument("--lora", help="a .safetensors LoRA: path, or file name in loras/")
    gen.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                     help="any GenerationRequest field, e.g. --set guidance_scale=7.5 --set num_frames=49")
    gen.set_defaults(func=run_generate)
    add_prompts_commands(commands)
    return parser


def add_prompts_commands(commands):
    prompts = commands.add_parser("prompts", help="prompt variants, captions, and metadata.csv for a folder of clips")
    sub = prompts.add_subparsers(dest="prompts_command", required=True)

    variants = sub.add_parser("variants", help="print every prompt variant with its token count")
    add_description_arguments(variants)
    variants.add_argument("--model", default="auto", help="whose tokenizer counts the tokens (default: auto)")
    variants.add_argument("--json", help="also write {name: prompt} here (a prompt set for sweeps)")
    variants.set_defaults(func=run_prompt_variants)

    batch = sub.add_parser("batch", help="write metadata.csv (+ DiffSynth-Studio's layout) for a folder of clips")
    batch.add_argument("folder", help="folder of video clips")
    add_description_arguments(batch, with_clip=False)
    batch.add_argument("--template", default="Caption + Metadata", help="template filled for each clip")
    batch.add_argument("--caption", action="store_true", help="caption each first frame with Florence-2")
    batch.add_argument("--rewrite", action="store_true", help="rewrite caption + metadata with the LLM")
    add_language_model_arguments(batch)
    batch.set_defaults(func=run_prompt_batch)

    caption = sub.add_parser("caption", help="caption an image (Florence-2), optionally rewrite it into a prompt")
    caption.add_argument("image")
    caption.add_argument("--clip", help="an AIST clip name whose metadata joins the rewrite")
    caption.add_argument("--rewrite", action="store_true")
    add_language_model_arguments(caption)
    caption.set_defaults(func=run_prompt_caption)


def add_description_arguments(parser, with_clip=True):
    parser.add_argument("--description", help="a description preset (blog-reference, lab-sample) or a YAML file")
    parser.add_argument("--templates", help="a folder of your own template YAML files, added to the built-in ones")
    if with_clip:
        parser.add_argument("--clip", help="a clip file name; AIST names add genre, situation and camera words")
        parser.add_argument("--caption", default="", help="a caption of the reference, for Caption + Metadata")


def add_language_model_arguments(parser):
    from engine.captioning import CAPTIONER_ID, REWRITER_ID

    parser.add_argument("--captioner", default=CAPTIONER_ID, help="Florence-2 checkpoint (hub id or folder)")
    parser.add_argument("--rewriter", default=REWRITER_ID, help="instruct LLM checkpoint (hub id or folder)")


def load_description(arg: str | None):
    from pathlib import Path

    from engine.prompts import ReferenceDescription

    if not arg:
        return ReferenceDescription()
    if arg.endswith((".yaml", ".yml")):
        if not Path(arg).is_file():
            raise ValueError(f"description file not found: {arg}")
        return ReferenceDescription.from_yaml(arg)
    return ReferenceDescription.from_preset(arg)


def run_prompt_variants(args) -> int:
    import json
    from pathlib import Path

    from engine import Engine
    from engine.aist import parse_aist_name
    from engine.prompts import build_variants, load_templates, template_values

    templates = load_templates([Path(args.templates)] if args.templates else None)
    metadata = {"caption": args.caption}
    if args.clip:
        metadata.update(parse_aist_name(args.clip).words())
    description = load_description(args.description)
    variants = build_variants(description, metadata, templates)
    values = template_values(description, metadata)
    engine = Engine.from_name(args.model)
    limit = engine.spec.max_sequence_length
    for name, text in variants.items():
        tokens = engine.count_tokens(text)
        flag = " TRUNCATED" if tokens > limit else ""
        missing = templates[name].missing(values)
        print(f"== {name} ({tokens}/{limit} tokens{flag})" + (f" missing: {', '.join(missing)}" if missing else ""))
        print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(variants, indent=2, ensure_ascii=False))
    return 0


def run_prompt_batch(args) -> int:
    from engine.captioning import Captioner, Rewriter
    from engine.metadata_csv import DIFFSYNTH_FLAGS
    from experiments.prompt_batch import BatchOptions, build_batch

    options = BatchOptions(
        template=args.template,
        description=load_description(args.description),
        captioner=Captioner(args.captioner) if args.caption or args.rewrite else None,
        rewriter=Rewriter(args.rewriter) if args.rewrite else None,
    )
    ours, theirs, rows = build_batch(args.folder, options,
                                     on_clip=lambda i, n, name: logger.info("%d/%d %s", i, n, name))
    logger.info("%d clips: %s (our trainer), %s (DiffSynth-Studio: pass %s)", len(rows), ours, theirs, DIFFSYNTH_FLAGS)
    print(ours)
    return 0


def run_prompt_caption(args) -> int:
    from engine import media
    from engine.aist import parse_aist_name
    from engine.captioning import Captioner, Rewriter

    caption = Captioner(args.captioner).caption(media.load_image(args.image))
    print(caption)
    if args.rewrite:
        print(Rewriter(args.rewriter).rewrite(caption, parse_aist_name(args.clip).words() if args.clip else {}))
    return 0


def add_model_arguments(parser: argparse.ArgumentParser):
    parser.add_argument("--model", default="auto",
                        help="preset (tiny, wan-vace-1.3b, wan-vace-14b), hub id or local folder; "
                             "auto: wan-vace-1.3b on CUDA, else tiny")
    parser.add_argument("--cpu-offload", action="store_true", help="model CPU offload (GPUs with little memory)")
    parser.add_argument("--vae-tiling", action="store_true", help="tile the VAE to cut peak memory")


def parse_overrides(pairs: list[str]) -> dict:
    from engine.request import GenerationRequest

    fields = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects FIELD=VALUE, got {pair!r}")
        fields[name.strip()] = GenerationRequest.parse_field(name.strip(), value)
    return fields


def make_engine(args):
    from engine import Engine

    changes = {}
    if args.cpu_offload:
        changes["cpu_offload"] = True
    if args.vae_tiling:
        changes["vae_tiling"] = True
    return Engine.from_name(args.model, **changes)


def run_generate(args) -> int:
    fields = parse_overrides(args.overrides)
    fields.update(control_video=args.control, reference=args.reference, prompt=args.prompt)
    if args.negative_prompt is not None:
        fields["negative_prompt"] = args.negative_prompt
    if args.lora:
        fields["lora"] = args.lora
    engine = make_engine(args)
    request = engine.default_request(**fields)
    logger.info("%s", engine.banner().replace("**", ""))
    for line in engine.inspect(request).summary_lines():
        logger.info("input: %s", line)
    last_report = [0.0]

    def report(step, total):
        now = time.perf_counter()
        if step == total or now - last_report[0] > 2:
            last_report[0] = now
            logger.info("step %d/%d", step, total)

    result = engine.generate(request, on_step=report, out_dir=args.out)
    t = result.timings
    logger.info(
        "wrote %s (%d frames at %d fps); prompt %.2fs, condition %.2fs, %.3f s/step, decode %.2fs, total %.2fs",
        result.video_path, result.num_frames, result.fps, t["prompt_encode"], t["condition_encode"],
        t["s_per_step"], t["decode"], t["total"],
    )
    print(result.video_path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    from engine.engine import GenerationCancelled

    try:
        return args.func(args)
    except GenerationCancelled as err:
        print(f"cancelled: {err}", file=sys.stderr)
        return EXIT_CANCELLED
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED
