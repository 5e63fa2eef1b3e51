"""The headless command line. Every command exits non-zero with a one-line reason on bad input.

    python -m experiments generate --reference IMG --control VIDEO --prompt TEXT --out DIR
                                   [--face VIDEO] [--background VIDEO --mask VIDEO] [--model M] [--lora FILE]
                                   [--set field=value]...
    python -m experiments pose VIDEO --out DIR [--backend dwpose|mediapipe] [--fps 16] [--frames 81] [--size WxH]
    python -m experiments train PRESET.yaml --data DIR --out DIR [--model M] [--set field=value]...
    python -m experiments toy sample|dataset|train|eval ...   (experiments/toy_cli.py)
    python -m experiments lora inspect|export FILE ...        (experiments/lora_cli.py)
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from experiments.flags import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, add_model_arguments, speed_changes

logger = logging.getLogger("experiments")



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m experiments", description="VACE Lab, headless.")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(dest="command", required=True)

    gen = commands.add_parser("generate", help="generate one video from a reference image and a control video")
    gen.add_argument("--control", required=True, help="control video: the pose video for VACE and Animate, the raw "
                     "driving clip for Animate-2 (mp4, mov, webm, avi, gif)")
    gen.add_argument("--reference", help="reference image of the subject (letterboxed, never cropped)")
    gen.add_argument("--face", help="face crops of the driving clip, for Animate models (`pose CLIP --for animate` "
                     "makes them); VACE models take none")
    gen.add_argument("--background", help="Animate's replace mode: the clip with the person taken out (`pose CLIP "
                     "--for animate --replace` makes it); with --mask")
    gen.add_argument("--mask", help="Animate's replace mode: white where the character is drawn; with --background")
    gen.add_argument("--prompt", required=True, help="what the video should show")
    gen.add_argument("--negative-prompt", help="default: Wan's standard negative prompt")
    gen.add_argument("--out", required=True, help="folder for video.mp4 and manifest.json")
    add_model_arguments(gen)
    gen.add_argument("--lora", help="a .safetensors LoRA: path, or file name in loras/")
    gen.add_argument("--profile", help="a sampling profile of the model (sampler, steps, sigmas, CFG, shift), "
                     "e.g. causvid-4step for the CausVid LoRA; --set fields still win")
    gen.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                     help="any GenerationRequest field, e.g. --set guidance_scale=7.5 --set num_frames=49")
    gen.set_defaults(func=run_generate)
    add_pose_command(commands)
    add_prompts_commands(commands)
    add_train_command(commands)
    bench = commands.add_parser("bench", help="measure speed: stages, s/step, speed options, overhead ratios, startup")
    bench.add_argument("--quick", action="store_true", help="small sizes only (a minute or two on a CPU)")
    bench.add_argument("--json", help="also write the results here")
    bench.add_argument("--model", default="tiny", help="the engine to measure end to end (default: tiny)")
    bench.add_argument("--families", action="store_true",
                       help="on CUDA, also build Animate 14B and Animate-2 14B whole (random weights) and run each "
                            "at its default size and memory plan (several minutes: 47 GB of parts built)")
    bench.set_defaults(func=run_bench_command)
    add_sweep_command(commands)
    from experiments.toy_cli import add_toy_commands

    add_toy_commands(commands)
    from experiments.lora_cli import add_lora_commands

    add_lora_commands(commands)
    return parser


# pose --for: the family -> its pose video's default (fps, frames)
FOR_MODELS = {"vace": (16, 81), "animate": (30, 77)}


def add_pose_command(commands):
    pose = commands.add_parser("pose", help="a DWPose-style skeleton video (+ overlay, first frame) from a driving video")
    pose.add_argument("video", nargs="?", help="driving video: mp4, mov, webm, avi, gif (optional with --keypoints)")
    pose.add_argument("--out", required=True, help="folder for pose.mp4, overlay.mp4, first_frame.png, keypoints.json")
    pose.add_argument("--backend", default="auto", help="dwpose, mediapipe or auto (DWPose where its models are on disk)")
    pose.add_argument("--for", dest="target", choices=FOR_MODELS, default="vace",
                      help="the model family it is for: vace draws body and face; animate draws body and hands, "
                           "writes face.mp4 (the face cropped from each frame, 512x512) and defaults to 77 frames "
                           "at 30 fps, as Wan2.2-Animate")
    pose.add_argument("--replace", action="store_true",
                      help="with --for animate: also write background.mp4 (the clip with the person taken out) and "
                           "mask.mp4 (where the person is), for Animate's replace mode")
    pose.add_argument("--fps", type=int, default=None, help="frame rate of the pose video (default: VACE 16, "
                                                             "Animate 30)")
    pose.add_argument("--frames", type=int, default=None, help="frames in the pose video, 4n+1 (default: VACE 81, "
                                                                "Animate 77)")
    pose.add_argument("--size", default="832x480", help="WxH of the pose video")
    pose.add_argument("--start", type=float, default=0.0, help="seconds into the video where the clip starts")
    pose.add_argument("--fit", choices=("pad", "crop"), default="pad", help="pad with black bars, or crop to fill")
    pose.add_argument("--reference-frame", type=int, default=0, help="which frame becomes first_frame.png")
    pose.add_argument("--person", default="largest", help="largest, all, or an index counted from the left")
    pose.add_argument("--hands", action="store_true", help="draw hands too (VACE's default annotator does not)")
    pose.add_argument("--no-face", action="store_true", help="do not draw the face")
    pose.add_argument("--no-body", action="store_true", help="do not draw the body")
    pose.add_argument("--threshold", type=float, default=0.3, help="confidence below which a point is not drawn")
    pose.add_argument("--smooth", type=float, default=0.0, help="temporal smoothing, Gaussian sigma in frames")
    pose.add_argument("--fit-to", metavar="IMAGE", help="fit the skeleton to the person in this photo")
    pose.add_argument("--fit-mode", choices=("scale", "limbs"), default="scale",
                      help="with --fit-to: match size and position, or also each limb's length")
    pose.add_argument("--keypoints", help="import COCO-17 keypoints (AIST++ .pkl, .npy, .npz, .json) instead")
    pose.add_argument("--keypoints-fps", type=float, help="their frame rate, when the file does not say")
    pose.add_argument("--keypoints-size", help="WxH they were measured on, when neither file nor video says")
    pose.add_argument("--camera", type=int, help="AIST++ camera 1-9 (default: the file name's cNN)")
    pose.set_defaults(func=run_pose)


def run_bench_command(args) -> int:
    from experiments.bench import main as bench_main

    return bench_main(args)


def add_train_command(commands):
    train = commands.add_parser("train", help="train a LoRA on a folder of clips (or a metadata.csv)")
    train.add_argument("preset", help="a training preset (main-blocks, self-attention, vace-branch, custom-regex) "
                                      "or a YAML file")
    train.add_argument("--data", required=True, help="folder with metadata.csv, or a plain folder of clips")
    train.add_argument("--out", required=True, help="run folder: LoRA, checkpoints, loss.csv, config.yaml")
    train.add_argument("--model", default="auto", help="tiny, wan-vace-1.3b, a hub id or a folder (auto: 1.3B on CUDA)")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                       help="any TrainConfig field, e.g. --set rank=16 --set sampler=uniform")
    train.add_argument("--resume", metavar="CHECKPOINT", help="a checkpoint-NNNNNN folder to continue from")
    train.add_argument("--stop-file", metavar="PATH", help="stop (saving a checkpoint) when this file appears; "
                                                          "the Train tab's Stop button creates it")
    train.set_defaults(func=run_train)


def run_train(args) -> int:
    from engine.train.trainer import Trainer, TrainConfig

    config = TrainConfig.from_preset(args.preset)
    config = config.with_changes(**TrainConfig.parse_overrides(args.overrides))
    trainer = Trainer(config, args.data, args.out, model=args.model)
    main_process = trainer.accelerator.is_main_process
    checks = trainer.check_data()
    with trainer.accelerator.main_process_first():  # the main process builds the model and encode cache first
        trainer.load_model()
        trainer.prepare_data(on_progress=lambda i, n, name: logger.info("encoding %d/%d %s", i + 1, n, name)
                             if main_process else None)
    if main_process:
        for check in checks:
            for note in check.notes:
                logger.info("%s: %s", check.name, note)
        logger.info("%d samples; target %s, rank %d", len(checks), config.target, config.rank)
        logger.info("estimate: %s", trainer.estimate().summary())
    last = [0.0]

    def report(record):
        if main_process and (time.perf_counter() - last[0] > 2 or record["step"] == config.max_steps):
            last[0] = time.perf_counter()
            logger.info("step %d/%d loss %.4f lr %.2e (%.2f s/step)", record["step"], config.max_steps,
                        record["loss"], record["lr"], record["seconds"])

    should_stop = (lambda: os.path.exists(args.stop_file)) if args.stop_file else None
    lora = trainer.run(on_step=report, should_stop=should_stop, resume=args.resume)
    if main_process:
        print(lora)
    return 0


def add_sweep_command(commands):
    sweep = commands.add_parser("sweep", help="a grid of generations, rendered as labelled GIF / MP4 / PNG")
    sweep.add_argument("preset", nargs="?", help="a sweep preset name (see presets/sweeps) or a YAML file")
    sweep.add_argument("--out", required=True, help="the run folder (re-running the same command resumes it)")
    add_model_arguments(sweep)
    sweep.add_argument("--reference", help="reference image (default: the sample in assets/)")
    sweep.add_argument("--control", help="control video (default: the sample in assets/)")
    sweep.add_argument("--face", help="face crops for Animate models (`pose CLIP --for animate`); on a model axis "
                       "only the models that take them get them")
    sweep.add_argument("--driving", help="the raw driving clip, for Animate-2 models in place of --control; on a "
                       "model axis only they get it, the others keep the pose video")
    sweep.add_argument("--lora", help="the LoRA a preset's $lora stands for")
    sweep.add_argument("--prompt-set", help="a prompt set (a name saved in the Prompts tab, or a .yaml/.json file "
                                            "from `prompts variants --json`), swept by name on a free axis")
    for axis in ("x", "y", "z"):
        sweep.add_argument(f"--{axis}", metavar="FIELD=VALUES", help=f"{axis.upper()} axis, e.g. guidance_scale=3,5,7.5")
    sweep.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                       help="a GenerationRequest field for every cell")
    sweep.add_argument("--max-cells", type=int, help="raise the grid-size cap")
    sweep.add_argument("--dry-run", action="store_true", help="plan only: cells, steps and an estimated time")
    sweep.add_argument("--gif-scale", type=float, default=1.0, help="shrink grid tiles to keep the GIF small")
    sweep.add_argument("--gif-step", type=int, default=1, help="keep every n-th frame in the grid")
    sweep.add_argument("--zip", action="store_true", help="also write the whole run as a ZIP")
    sweep.set_defaults(func=run_sweep)


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
    parser.add_argument("--description", help="a description preset (blog-reference, lab-sample, toy-sample) or a YAML file")
    parser.add_argument("--templates", help="a folder of your own template YAML files, added to the built-in ones")
    if with_clip:
        parser.add_argument("--clip", help="a clip file name; AIST names add genre, situation and camera words")
        parser.add_argument("--caption", default="", help="a caption of the reference, for Caption + Metadata")


def add_language_model_arguments(parser):
    from engine.prompts.captioning import CAPTIONER_ID, REWRITER_ID

    parser.add_argument("--captioner", default=CAPTIONER_ID, help="Florence-2 checkpoint (hub id or folder)")
    parser.add_argument("--rewriter", default=REWRITER_ID, help="instruct LLM checkpoint (hub id or folder)")


def load_description(arg: str | None):
    from pathlib import Path

    from engine.prompts.variants import ReferenceDescription

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
    from engine.pose.aist import parse_aist_name
    from engine.prompts.variants import load_templates, templates_for_family, variants_with_gaps

    engine = Engine.from_name(args.model)
    templates = templates_for_family(load_templates([Path(args.templates)] if args.templates else None),
                                     engine.spec.family)
    metadata = {"caption": args.caption}
    if args.clip:
        metadata.update(parse_aist_name(args.clip).words())
    variants = variants_with_gaps(load_description(args.description), metadata, templates)
    limit = engine.spec.max_sequence_length
    for name, (text, missing) in variants.items():
        tokens = engine.count_tokens(text)
        flag = " TRUNCATED" if tokens > limit else ""
        if missing:
            print(f"== {name}: not built, fill {', '.join(missing)}")
            continue
        print(f"== {name} ({tokens}/{limit} tokens{flag})")
        print(text)
        for note in engine.prompt_notes({"prompt": text}):
            print(f"   {note}")
    if args.json:
        Path(args.json).write_text(json.dumps({n: t for n, (t, _) in variants.items()}, indent=2, ensure_ascii=False))
    return 0


def run_prompt_batch(args) -> int:
    from engine.prompts.captioning import Captioner, Rewriter
    from engine.train.metadata_csv import DIFFSYNTH_FLAGS
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
    from engine.pose.aist import parse_aist_name
    from engine.prompts.captioning import Captioner, Rewriter

    caption = Captioner(args.captioner).caption(media.load_image(args.image))
    print(caption)
    if args.rewrite:
        print(Rewriter(args.rewriter).rewrite(caption, parse_aist_name(args.clip).words() if args.clip else {}))
    return 0


def parse_overrides(pairs: list[str]) -> dict:
    from engine.request import GenerationRequest

    return GenerationRequest.parse_overrides(pairs)


def make_engine(args, device: str | None = None):
    from engine import Engine

    return Engine.from_name(args.model, device=device, **speed_changes(args))


def run_generate(args) -> int:
    from engine.profiles import suggest_profile

    fields = parse_overrides(args.overrides)
    fields.update(control_video=args.control, reference=args.reference, prompt=args.prompt)
    if args.face:
        fields["face_video"] = args.face
    if args.background or args.mask:
        fields.update(background_video=args.background, mask_video=args.mask)
    if args.negative_prompt is not None:
        fields["negative_prompt"] = args.negative_prompt
    if args.lora:
        fields["lora"] = args.lora
    engine = make_engine(args)
    request = engine.default_request(profile=args.profile, **fields)
    logger.info("%s", engine.banner().replace("**", ""))
    suggested = suggest_profile(engine.profiles, request.lora) if request.lora and not args.profile else None
    if suggested:
        logger.info("this LoRA looks made for the %s profile: add --profile %s (%s)", suggested.name,
                    suggested.name, suggested.note)
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


def pose_request_from_args(args):
    from engine.pose.extract import PoseRequest, parse_size

    width, height = parse_size(args.size)
    animate = getattr(args, "target", "vace") == "animate"
    fps, frames = FOR_MODELS[getattr(args, "target", "vace")]
    return PoseRequest(
        video=args.video, start=args.start, fps=args.fps or fps, num_frames=args.frames or frames, width=width,
        height=height, fit=args.fit, reference_frame=args.reference_frame, backend=args.backend, person=args.person,
        body=not args.no_body, hands=args.hands or animate, face=not (args.no_face or animate), face_crops=animate,
        replace_inputs=getattr(args, "replace", False), threshold=args.threshold,
        smoothing=args.smooth, fit_to_reference=args.fit_mode if args.fit_to else "off",
        reference_image=args.fit_to, keypoints=args.keypoints, keypoints_fps=args.keypoints_fps,
        keypoints_size=args.keypoints_size, camera=args.camera,
    )


def run_pose(args) -> int:
    from engine.pose.extract import extract_pose

    request = pose_request_from_args(args)
    if request.replace_inputs and args.target != "animate":
        raise ValueError("--replace makes Animate's replace-mode inputs: add --for animate")
    last = [0.0]

    def report(fraction, text):
        if time.perf_counter() - last[0] > 2 or fraction >= 1:
            last[0] = time.perf_counter()
            logger.info("%s (%.0f%%)", text, 100 * fraction)

    result = extract_pose(request, args.out, on_progress=report)
    for name, value in result.aist:
        logger.info("AIST %s: %s", name, value)
    for line in result.notes + result.diagnostics.summary_lines():
        logger.info("%s", line)
    t = result.timings
    logger.info("%s: %.1f frames/s detection, %.1f ms/frame drawing; wrote %s", result.backend,
                t["detect_frames_per_s"], t["render_ms_per_frame"], result.pose_video)
    print(result.out_dir)
    return 0


def sweep_spec_from_args(args, family: str):
    """The spec to run on a model family (ModelSpec.family): the preset as it runs there, then --set and the
    other flags, which win."""
    from services.sweep_spec import SweepSpec

    spec = SweepSpec.from_preset(args.preset) if args.preset else SweepSpec(name="custom")
    spec, note = spec.for_model(family)
    if note:
        logger.info("%s", note)
    base = parse_overrides(args.overrides)
    if args.reference:
        base["reference"] = args.reference
    if args.control:
        base["control_video"] = args.control
    if args.face:
        base["face_video"] = args.face
    if args.driving:
        base["driving_video"] = args.driving
    axes = {axis: getattr(args, axis) for axis in ("x", "y", "z") if getattr(args, axis)}
    changes = {"max_cells": args.max_cells} if args.max_cells else {}
    spec = spec.with_changes(axes=axes, base=base, **changes)
    if args.prompt_set:
        from engine.prompts.variants import load_prompt_set

        spec = spec.with_prompt_set(load_prompt_set(args.prompt_set))
    return spec


def run_sweep(args) -> int:
    from services.runner import SweepRunner
    from services.sweep_spec import lora_or_fallback

    process_index, num_processes, state, device = 0, 1, None, None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # under accelerate launch: split the cells
        import torch
        from accelerate import PartialState

        # Without CUDA, cpu=True gives a gloo process group, so 2 CPU processes can test the split.
        state = PartialState(cpu=not torch.cuda.is_available())
        process_index, num_processes, device = state.process_index, state.num_processes, str(state.device)
    engine = make_engine(args, device=device)
    spec = sweep_spec_from_args(args, engine.spec.family)
    if state is not None and engine.family.name == "tiny":
        # transformers saves weights on rank 0 only once torch.distributed is up: build the tiny model
        # there first, and let the other processes load the finished copy.
        with state.main_process_first():
            engine.model_source()
    spec, lora, note = lora_or_fallback(spec, args.lora, engine.sample_lora())
    if note:
        logger.info("%s", note)
    runner = SweepRunner(engine, spec, args.out, lora=lora, process_index=process_index,
                         num_processes=num_processes)
    main_process = process_index == 0
    if main_process:
        logger.info("%s", engine.banner().replace("**", ""))
        logger.info("plan: %s", runner.plan(probe=args.dry_run).summary())
    if args.dry_run:
        return 0

    def report_cell(cell, record, number, total):
        logger.info("[%d/%d] %s %s %s", number, total, cell.id, record["status"], record.get("error") or "")

    last = [0.0]

    def report_step(text, fraction):
        if time.perf_counter() - last[0] > 5:
            last[0] = time.perf_counter()
            logger.info("%s (%.0f%%)", text, 100 * fraction)

    outcome = runner.run(on_cell=report_cell, on_step=report_step)
    if state is not None:
        state.wait_for_everyone()
    if not main_process:
        return 0
    outputs = runner.finish(outcome, scale=args.gif_scale, frame_step=args.gif_step, make_zip=args.zip)
    failed = [cid for cid, r in runner.collect_records().items() if r.get("status") == "failed"]
    logger.info("grid: %s (%.1f MB)%s", outputs["gif"], outputs["gif_bytes"] / 1e6,
                f"; {len(failed)} cell(s) failed: {', '.join(failed)}" if failed else "")
    print(args.out)
    return 130 if outcome.cancelled else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    from engine.engine import GenerationCancelled
    from engine.pose.extract import PoseCancelled
    from engine.train.trainer import TrainingCancelled

    try:
        return args.func(args)
    except (GenerationCancelled, PoseCancelled, TrainingCancelled) as err:
        print(f"cancelled: {err}", file=sys.stderr)
        return EXIT_CANCELLED
    except (ValueError, FileNotFoundError) as err:  # a missing file or run folder is bad input too
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_CANCELLED
