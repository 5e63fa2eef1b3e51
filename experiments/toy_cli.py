"""`python -m experiments toy ...`: the puppet world and the toy model from the command line.

    toy sample --seed N --out DIR [--frames F]       video.mp4 pose.mp4 reference.png prompt.txt keypoints.json
    toy dataset --out DIR --clips N [--seed S] [--narrow]   a metadata.csv dataset the trainer reads
    toy train [--out DIR] [--clips N] [--vae-steps N] [--steps N] [--batch-size B] [--ship]   re-creates the shipped weights
              [--more STEPS [--from-shipped]] [--scene-prompts S] [--aligned-references S]   one more leg of training
              [--travel S] [--reference-tokens S] [--next-word-text]
              [--widen-latent STEPS --latent-channels N]   a wider latent grown from a finished run
    toy eval [--json PATH] [--quick] [--seeds N]     the quality numbers on held-out seeds
    toy blog [--out DIR] [--clips N] [--steps N] [--json PATH]   the blog's LoRA experiment in a box
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

logger = logging.getLogger("experiments")


def add_toy_commands(commands):
    toy = commands.add_parser("toy", help="the puppet world and the toy model trained on it")
    sub = toy.add_subparsers(dest="toy_command", required=True)

    sample = sub.add_parser("sample", help="one clip of the world with its answers")
    sample.add_argument("--seed", type=int, required=True, help="the same seed always gives the same clip")
    sample.add_argument("--out", required=True, help="folder for the clip's files")
    sample.add_argument("--frames", type=int, default=17, help="frames, 4n+1 (default 17, the toy model's)")
    sample.set_defaults(func=run_toy_sample)

    dataset = sub.add_parser("dataset", help="a training dataset (metadata.csv) of world clips")
    dataset.add_argument("--out", required=True, help="folder for the clips and metadata.csv")
    dataset.add_argument("--clips", type=int, required=True, help="how many clips")
    dataset.add_argument("--seed", type=int, default=0, help="which clips (training seeds, never held-out ones)")
    dataset.add_argument("--frames", type=int, default=17, help="frames per clip, 4n+1")
    dataset.add_argument("--narrow", action="store_true",
                         help="one costume on one background, like the blog's single-studio AIST++ data")
    dataset.set_defaults(func=run_toy_dataset)

    train = sub.add_parser("train", help="re-create the toy model: VAE, encoded dataset, transformer")
    train.add_argument("--out", default="workspace/toy-train", help="run folder (a stopped run resumes)")
    train.add_argument("--clips", type=int, default=None, help="world clips for the transformer")
    train.add_argument("--vae-steps", type=int, default=None, help="VAE training steps")
    train.add_argument("--latent-channels", type=int, default=None,
                       help="a new run's VAE latent channels, and so the transformer's input width (default 16); "
                            "with --widen-latent, the wider latent's")
    train.add_argument("--vae-figure-crops", action="store_true",
                       help="a new run's VAE trains on crops placed on the figure, not anywhere on the canvas")
    train.add_argument("--steps", type=int, default=None, help="transformer training steps")
    train.add_argument("--more", type=int, default=None, metavar="STEPS",
                       help="train a finished run's transformer this many more steps on a new schedule (a leg)")
    train.add_argument("--decoder-more", type=int, default=None, metavar="STEPS",
                       help="train a finished run's VAE decoder this many more steps, its encoder frozen, so the "
                            "transformer stays valid (a decoder leg)")
    train.add_argument("--encoder-more", type=int, default=None, metavar="STEPS",
                       help="train a finished run's VAE, encoder too, this many more steps so pose videos come "
                            "through it, the clips' latents held where they were; the next --more leg encodes its "
                            "clips again (an encoder leg)")
    train.add_argument("--widen-latent", type=int, default=None, metavar="STEPS",
                       help="give a finished run's VAE and transformer --latent-channels channels, the old ones kept, "
                            "and train the VAE this many steps; the next --more leg teaches the transformer the new "
                            "channels (a widen leg)")
    train.add_argument("--reference-encoder", type=int, default=None, metavar="STEPS",
                       help="fit a reference encoder to a finished run's text encoder for this many steps, so the "
                            "reference image speaks where the prompt's clothes words would (a reference leg)")
    train.add_argument("--decoder-noise", type=float, default=0.0, metavar="STD",
                       help="with --decoder-more: decode latents with Gaussian noise up to this many latent stds "
                            "added, so the decoder meets latents like the transformer's (default 0)")
    train.add_argument("--decoder-temporal", type=float, default=0.0, metavar="WEIGHT",
                       help="with --decoder-more: add an L1 loss on the change from frame to frame at this weight, "
                            "against the jump where each latent frame begins (default 0)")
    train.add_argument("--learning-rate", type=float, default=None,
                       help="peak learning rate of a --more leg, or of the decoder in a --decoder-more or "
                            "--encoder-more leg (whose encoder learns at 1e-4): default 3e-4; of a "
                            "--reference-encoder leg: default 1e-3")
    train.add_argument("--batch-size", type=int, default=None,
                       help="transformer samples per step (default 4; on a GPU 32 or more keep it busy)")
    train.add_argument("--scene-prompts", type=float, default=None, metavar="SHARE",
                       help="share of clips (0-1) whose prompt names only the action and the floor, so the figure's "
                            "look must come from the reference (default 0, as the shipped toy)")
    train.add_argument("--aligned-references", type=float, default=None, metavar="SHARE",
                       help="share of clips (0-1) whose reference is the figure of one of their own frames, in "
                            "its pose and place: an easy reference to read, a curriculum step (default 0)")
    train.add_argument("--travel", type=float, default=None, metavar="SHARE",
                       help="share of clips (0-1) that cross the frame at 2-5 pixels a frame whatever their motion, "
                            "so the figure must follow each frame's skeleton (default 0, as the shipped toy)")
    train.add_argument("--reference-tokens", type=float, default=None, metavar="SHARE",
                       help="share of clips (0-1) that train with a prompt naming only the action and the floor and "
                            "the reference encoder's tokens beside it, as a generation gets them (needs a run with "
                            "a reference encoder; default 0)")
    train.add_argument("--next-word-text", action="store_true",
                       help="set the text encoder so each word carries its right-hand neighbour (\"red\" in \"a red "
                            "top\" differs from \"red\" in \"a red background\"); prompts are embedded again")
    train.add_argument("--from-shipped", action="store_true",
                       help="with --more, --decoder-more, --encoder-more or --widen-latent: start --out from the "
                            "shipped toy (assets/toy) when it holds no run yet")
    train.add_argument("--ship", action="store_true", help="copy the result into assets/toy")
    train.set_defaults(func=run_toy_train)

    evaluate = sub.add_parser("eval", help="quality numbers on held-out seeds")
    evaluate.add_argument("--model", default="toy", help="the model to evaluate (default: the shipped toy)")
    evaluate.add_argument("--json", help="also write the full report here")
    evaluate.add_argument("--quick", action="store_true", help="3 clips and shorter checks")
    evaluate.add_argument("--seeds", type=int, default=None, help="how many held-out clips")
    evaluate.set_defaults(func=run_toy_eval)

    blog = sub.add_parser("blog", help="the blog's LoRA experiment on a narrow toy dataset: drift by strength")
    blog.add_argument("--model", default="toy", help="the model the LoRAs are trained on (default: the toy)")
    blog.add_argument("--out", default="workspace/toy-blog", help="folder for the dataset and the two LoRAs")
    blog.add_argument("--clips", type=int, default=24, help="clips in the narrow dataset")
    blog.add_argument("--steps", type=int, default=150, help="training steps per LoRA")
    blog.add_argument("--eval-clips", type=int, default=3, help="held-out clips in another costume per strength")
    blog.add_argument("--captions", choices=("dancer", "action"), default="dancer",
                      help="the narrow dataset's captions: the clothes and the dance, as the blog's (default), or "
                           "the dance alone, leaving the costume to the reference")
    blog.add_argument("--json", help="also write the result here")
    blog.add_argument("--ship", action="store_true",
                      help="copy the two LoRAs into assets/toy-blog (the blog presets' sample LoRA) with a card")
    blog.set_defaults(func=run_toy_blog)


def _check_frames(frames: int):
    if frames < 1 or (frames - 1) % 4:
        raise ValueError(f"--frames must be 4n+1, got {frames}")


def run_toy_sample(args) -> int:
    from engine.toy import world

    _check_frames(args.frames)
    if args.seed < 0:
        raise ValueError(f"--seed must be 0 or more, got {args.seed}")
    sample = world.make_sample(args.seed, num_frames=args.frames)
    files = world.write_sample(sample, args.out)
    print(f"{sample.prompt}\n" + "\n".join(f"{name}: {path}" for name, path in files.items()))
    return 0


def run_toy_dataset(args) -> int:
    from engine.toy.dataset import write_dataset

    _check_frames(args.frames)
    if args.clips < 1:
        raise ValueError(f"--clips must be at least 1, got {args.clips}")
    path = write_dataset(args.out, args.clips, seed=args.seed, num_frames=args.frames, narrow=args.narrow)
    print(f"{args.clips} clips: {path}")
    return 0


def run_toy_train(args) -> int:
    from engine.toy.factory.build import (ToyRecipe, build_toy_model, extend_decoder, extend_encoder,
                                          extend_reference_encoder, extend_toy_model, ship, start_from_shipped,
                                          widen_latent)

    recipe = ToyRecipe()
    if args.clips:
        recipe.clips = args.clips
    if args.vae_steps:
        recipe.vae.steps = args.vae_steps
    if args.latent_channels is not None:
        if args.latent_channels < 1:
            raise ValueError(f"--latent-channels is a number of channels, 1 or more, not {args.latent_channels}")
        recipe.latent_channels = args.latent_channels
    recipe.vae.crops_on_figure = args.vae_figure_crops
    if args.steps:
        recipe.transformer = recipe.transformer.with_changes(max_steps=args.steps)
    if args.batch_size:
        recipe.transformer = recipe.transformer.with_changes(batch_size=args.batch_size)
    for flag, value, field_name in (("--scene-prompts", args.scene_prompts, "scene_prompt_share"),
                                    ("--aligned-references", args.aligned_references, "aligned_reference_share"),
                                    ("--travel", args.travel, "travel_share"),
                                    ("--reference-tokens", args.reference_tokens, "reference_token_share")):
        if value is not None:
            if not 0 <= value <= 1:
                raise ValueError(f"{flag} is a share from 0 to 1, not {value}")
            setattr(recipe, field_name, value)
    recipe.next_word_text = args.next_word_text
    legs = (args.more, args.decoder_more, args.encoder_more, args.reference_encoder, args.widen_latent)
    if sum(bool(steps) for steps in legs) > 1:
        raise ValueError("--more trains the transformer, --decoder-more the VAE's decoder, --encoder-more the "
                         "whole VAE, --widen-latent a wider VAE and --reference-encoder the reference encoder: "
                         "one leg at a time")
    if args.widen_latent and args.latent_channels is None:
        raise ValueError("--widen-latent needs --latent-channels N: how many channels the wider latent has")
    if args.from_shipped:
        if not any(legs):
            raise ValueError("--from-shipped starts a leg from the shipped toy: give --more, --decoder-more, "
                             "--encoder-more, --widen-latent or --reference-encoder STEPS")
        start_from_shipped(args.out)
    args.learning_rate = args.learning_rate or (None if args.reference_encoder else 3e-4)
    if args.reference_encoder:
        final = extend_reference_encoder(args.out, args.reference_encoder, learning_rate=args.learning_rate or 1e-3,
                                         on_log=lambda text: logger.info("%s", text))
    elif args.widen_latent:
        final = widen_latent(args.out, recipe.latent_channels, args.widen_latent, learning_rate=args.learning_rate,
                             on_log=lambda text: logger.info("%s", text))
    elif args.encoder_more:
        final = extend_encoder(args.out, args.encoder_more, learning_rate=args.learning_rate,
                               on_log=lambda text: logger.info("%s", text))
    elif args.decoder_more:
        if args.decoder_noise < 0:
            raise ValueError(f"--decoder-noise is a number of latent stds, 0 or more, not {args.decoder_noise}")
        final = extend_decoder(args.out, args.decoder_more, learning_rate=args.learning_rate,
                               latent_noise=args.decoder_noise, temporal_weight=args.decoder_temporal,
                               on_log=lambda text: logger.info("%s", text))
    elif args.more:
        final = extend_toy_model(args.out, args.more, clips=args.clips, learning_rate=args.learning_rate,
                                 recipe=recipe, on_log=lambda text: logger.info("%s", text))
    else:
        final = build_toy_model(args.out, recipe, on_log=lambda text: logger.info("%s", text))
    print(f"toy model: {final}")
    if args.ship:
        from engine.toy.factory.card import document_shipped

        target = ship(final)
        report = document_shipped(target, Path(args.out), "python -m experiments toy train --ship")
        print(f"shipped to {target}; model card {target / 'README.md'}; "
              f"silhouette precision {report['summary']['silhouette_precision']:.2f}")
    return 0


def run_toy_eval(args) -> int:
    from engine.engine import Engine
    from engine.toy.world import heldout_seeds
    from engine.toy.factory.evaluate import evaluate

    engine = Engine.from_name(args.model)
    seeds = heldout_seeds(args.seeds) if args.seeds else None
    report = evaluate(engine, seeds=seeds, quick=args.quick)
    summary = report.summary()
    width = max(len(name) for name in summary)
    for name, value in summary.items():
        shown = f"{value:.3f}" if isinstance(value, float) else (
            ", ".join(f"{v:.2f}" for v in value) if isinstance(value, list) else str(value))
        print(f"{name.ljust(width)}  {shown}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2))
    return 0


def run_toy_blog(args) -> int:
    from engine.engine import Engine
    from engine.toy.factory.blog import run_blog_in_a_box

    for name in ("clips", "steps", "eval_clips"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    result = run_blog_in_a_box(Engine.from_name(args.model), args.out, clips=args.clips, steps=args.steps,
                               eval_clips=args.eval_clips, captions=args.captions)
    by_strength = " / ".join(f"{s:g}" for s in result.strengths)
    shown = lambda values: " / ".join(f"{v:.2f}" for v in values)  # noqa: E731
    print(f"drift toward the training costume (share of limb-frames), by LoRA strength {by_strength}")
    for name, values in result.drift.items():
        print(f"  {name}: {shown(values)}   LoRA: {result.loras[name]}")
    print(f"costume position (clothes' colour: the reference's 0, the training costume's 1), by strength {by_strength}")
    for name, values in result.costume_position.items():
        print(f"  {name}: {shown(values)}")
    print(f"studio drift (background colour: the prompt's 0, the training floor's 1), by strength {by_strength}")
    for name, values in result.studio_drift.items():
        print(f"  {name}: {shown(values)}")
    print("seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in result.seconds.items()))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2))
    if args.ship:
        from engine.toy.factory.blog import ship_blog_loras

        captions = f" --captions {args.captions}" if args.captions != "dancer" else ""
        command = (f"python -m experiments toy blog --clips {args.clips} --steps {args.steps} "
                   f"--eval-clips {args.eval_clips}{captions} --ship")
        print(f"shipped to {ship_blog_loras(result, command)}")
    return 0
