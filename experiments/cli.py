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
    return parser


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
