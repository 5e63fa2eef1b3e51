"""Pilot study (issue 37): reference-conditioning designs trained from scratch on equal CPU budgets.

    python -m research.reference_pilot train DESIGN --minutes 24 --clips 600 --out workspace/pilot   # CPU minutes
    python -m research.reference_pilot probe workspace/pilot/DESIGN [--clips 4] [--steps 500,1000]
    python -m research.reference_pilot table workspace/pilot/*/probe.json

Every design trains on the same encoded world clips (the shipped toy's VAE and text encoder, 30% crossing the
frame; the first design to train encodes them into OUT/encoded.safetensors, the rest read that), with the same data-first recipe: 80% of prompts name only the action and the floor, the figure's latent
positions weighted 10x in the loss, reference and prompt dropout 10%, AdamW 5e-4 held after 100 warm-up steps,
batch 4. A design differs only in its transformer (engine/toy/architectures.py). Training stops at the time
budget (CPU time, so designs that shared the machine get the same); checkpoints every 250 steps let the probes compare the designs at the same step counts too.

The probes, on held-out clips with prompts that name no clothes:
- identity: each clip generated with its own reference and with the same figure in another costume (default
  sampling); the clothes' colours at the limbs' midpoints matching the reference given ("own") and the other
  one ("other"), as shares of limb-frames;
- pull / reach: one denoising step's x0 prediction with the reference swapped, on the figure's latents
  (pull: the share of the way to the new costume's latents it moves; reach: how far it moves at all).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

logger = logging.getLogger("pilot")

CLIPS, TRAVEL, SCENE_SHARE, FOREGROUND = 600, 0.3, 0.8, 10.0
SIGMAS = (0.95, 0.8, 0.5, 0.2)


def designs() -> dict:
    from diffusers import WanVACETransformer3DModel

    from engine.toy.architectures import InContextTransformer3DModel, ReferenceSlotVACETransformer3DModel
    from engine.toy.model import TRANSFORMER_CONFIG

    vace = dict(TRANSFORMER_CONFIG)
    every = {**vace, "vace_layers": [0, 1, 2, 3]}
    in_context = {k: v for k, v in vace.items() if k not in ("vace_layers", "vace_in_channels")}
    return {
        "vace-data-first": lambda: WanVACETransformer3DModel(**vace),
        "vace-every-layer": lambda: WanVACETransformer3DModel(**every),
        "vace-clean-slot": lambda: ReferenceSlotVACETransformer3DModel(**every, shift_reference_rope=False),
        "vace-clean-slot-shifted": lambda: ReferenceSlotVACETransformer3DModel(**every, shift_reference_rope=True),
        "in-context": lambda: InContextTransformer3DModel(**in_context, control_in_channels=vace["vace_in_channels"]),
    }


def write_pipeline(transformer, folder: Path):
    """The shipped toy's VAE, text encoder, tokenizer and scheduler around `transformer`."""
    from engine.toy.family import TOY_DIR

    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for part in ("vae", "text_encoder", "tokenizer", "scheduler"):
        shutil.copytree(TOY_DIR / part, folder / part)
    shutil.copy(TOY_DIR / "model_index.json", folder / "model_index.json")
    transformer.save_pretrained(folder / "transformer")
    point_index_at(folder, transformer)


def point_index_at(folder: Path, transformer):
    index = json.loads((folder / "model_index.json").read_text())
    module = type(transformer).__module__
    index["transformer"] = ["diffusers" if module.startswith("diffusers") else module, type(transformer).__name__]
    (folder / "model_index.json").write_text(json.dumps(index, indent=2))


def engine_at(folder: Path):
    from engine.engine import Engine
    from engine.toy.factory.build import toy_spec

    return Engine(toy_spec(str(folder), name=folder.name))


def encoded(engine, out: Path, clips: int):
    from engine.toy.world import training_seeds
    from engine.toy.factory.training import encode_world

    return encode_world(engine, training_seeds(clips, 0), cache=out / "encoded.safetensors", travel_share=TRAVEL,
                        foreground_weight=FOREGROUND, scene_prompt_share=SCENE_SHARE,
                        on_progress=lambda done, total, seconds: done % 100 == 0 and logger.info(
                            "encoded %d/%d in %.0f s", done, total, seconds))


def warm_started(transformer):
    """`transformer` with every weight the shipped toy's transformer has under the same name and shape (the rest
    keep their initialisation): the budget then goes to the reference path, not to learning the puppet world."""
    from safetensors.torch import load_file

    from engine.toy.family import TOY_DIR

    own = transformer.state_dict()
    shipped = {name: tensor for path in sorted((TOY_DIR / "transformer").glob("*.safetensors"))
               for name, tensor in load_file(path).items()}
    kept = {name: tensor.float() for name, tensor in shipped.items() if name in own and own[name].shape == tensor.shape}
    transformer.load_state_dict(kept, strict=False)
    logger.info("warm start: %d of %d tensors from the shipped toy", len(kept), len(own))
    return transformer


def train(design: str, minutes: float, out: Path, clips: int, warm: bool = False):
    import torch

    from engine.toy.factory.build import default_transformer_config
    from engine.train.trainer import Trainer, TrainingCancelled

    folder = out / design
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(1)
    model = designs()[design]()
    write_pipeline(warm_started(model) if warm else model, folder / "pipeline-init")
    engine = engine_at(folder / "pipeline-init")
    samples = encoded(engine, out, clips)
    config = default_transformer_config().with_changes(max_steps=1_000_000, warmup_steps=100, checkpoint_every=250)
    trainer = Trainer(config, data_dir=folder / "data", out_dir=folder / "run", engine=engine)
    trainer.load_model()
    trainer.encoded = samples
    trainer.empty_prompt = engine.prompt_embedding("").float().cpu()
    trainer.checks = []
    # The budget is CPU time (both cores: 2 s a wall second), so a design that shared the machine gets as much.
    started = time.process_time()
    budget = minutes * 60
    try:
        trainer.run(should_stop=lambda: time.process_time() - started > budget,
                    on_step=lambda record: record["step"] % 50 == 0 and logger.info(
                        "%s step %d loss %.4f (%.2f s/step)", design, record["step"], record["loss"], record["seconds"]))
    except TrainingCancelled as stop:
        logger.info("%s: %s after %.1f CPU min", design, stop, (time.process_time() - started) / 60)
    steps = len(trainer.losses)
    (folder / "trained.json").write_text(json.dumps({"design": design + (" (warm)" if warm else ""),
                                                     "minutes": minutes, "steps": steps,
                                                     "seconds_per_step": budget / max(steps, 1)}))


def checkpoints(folder: Path) -> list[Path]:
    return sorted((folder / "run").glob("checkpoint-*/transformer"))


def probe(folder: Path, count: int, steps: set[int] | None = None):
    """Probe the checkpoints at `steps` (default all) and the last one."""
    results = {}
    found = checkpoints(folder)
    for weights in found:
        step = int(weights.parent.name.split("-")[1])
        if steps and step not in steps and weights != found[-1]:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            pipeline = Path(tmp) / "pipeline"
            shutil.copytree(folder / "pipeline-init", pipeline)
            shutil.rmtree(pipeline / "transformer")
            shutil.copytree(weights, pipeline / "transformer")
            engine = engine_at(pipeline)
            results[step] = {**identity(engine, count, Path(tmp)), **pull(engine, count)}
        logger.info("%s step %d: %s", folder.name, step, {k: round(v, 3) for k, v in results[step].items()})
    (folder / "probe.json").write_text(json.dumps(results, indent=1))


def identity(engine, count: int, tmp: Path) -> dict:
    import numpy as np

    from engine.toy.factory import evaluate
    from engine.toy import world
    from engine.toy.scoring import part_colour_checks

    own, other, own_all, backgrounds = [], [], [], []
    for seed in world.heldout_seeds(count):
        first = world.make_sample(seed)
        second = world.recoloured(first, evaluate.other_look(first.look))
        prompt = world.scene_prompt(first.look, first.motion)
        for sample, rival in ((first, second), (second, first)):
            frames = evaluate.generate(engine, sample, tmp / f"{seed}-{sample.look.top}", prompt=prompt)
            own += part_colour_checks(frames, sample, parts=evaluate.CLOTHING_PARTS)
            other += part_colour_checks(frames, sample, rival.look.part_colours(), parts=evaluate.CLOTHING_PARTS)
            own_all += part_colour_checks(frames, sample)
            from engine.toy.scoring import background_distance
            backgrounds.append(background_distance(frames, sample) < 60)
    return {"identity_own": float(np.mean(own)), "identity_other": float(np.mean(other)),
            "colours_all_parts": float(np.mean(own_all)), "backgrounds": float(np.mean(backgrounds))}


def pull(engine, count: int) -> dict:
    import torch

    from engine.toy.factory import evaluate
    from engine.toy import world
    from engine.toy.factory.training import WorldEncoder, figure_latent_mask

    pipe = engine.load()
    samples = [world.make_sample(seed) for seed in world.heldout_seeds(count)]
    recoloured = [world.recoloured(s, evaluate.other_look(s.look)) for s in samples]
    encoder = WorldEncoder(pipe)
    old, new = encoder.encode_samples(samples), encoder.encode_samples(recoloured)
    pulls, reaches = {s: [] for s in SIGMAS}, {s: [] for s in SIGMAS}
    for index, sample in enumerate(samples):
        prompt = engine.prompt_embedding(world.scene_prompt(sample.look, sample.motion)).float()
        figure = figure_latent_mask(sample.parts, grow_px=0) > 0
        target_old, target_new = old[index]["target"], new[index]["target"]
        noise = torch.randn(target_old.shape, generator=torch.Generator().manual_seed(index))
        for sigma in SIGMAS:
            noisy = (1 - sigma) * target_old + sigma * noise
            swapped = noisy.clone()
            swapped[:, :, :1] = (1 - sigma) * target_new[:, :, :1] + sigma * noise[:, :, :1]
            x0 = []
            for hidden, conditioning in ((noisy, old[index]["conditioning"]), (swapped, new[index]["conditioning"])):
                with torch.no_grad():
                    velocity = pipe.transformer(hidden_states=hidden, timestep=torch.tensor([sigma * 1000]),
                                                encoder_hidden_states=prompt, control_hidden_states=conditioning,
                                                return_dict=False)[0]
                x0.append((hidden - sigma * velocity)[:, :, 1:])
            mask = figure.expand_as(x0[0])
            gap = (target_new - target_old)[:, :, 1:][mask]
            moved = (x0[1] - x0[0])[mask]
            pulls[sigma].append(float((moved * gap).sum() / (gap * gap).sum().clamp_min(1e-8)))
            reaches[sigma].append(float(moved.abs().mean() / gap.abs().mean().clamp_min(1e-8)))
    mean = lambda values: sum(values) / len(values)  # noqa: E731
    return {**{f"pull_{s}": mean(v) for s, v in pulls.items()}, **{f"reach_{s}": mean(v) for s, v in reaches.items()}}


def table(paths: list[Path]):
    columns = ("identity_own", "identity_other", "colours_all_parts", "backgrounds", "pull_0.95", "pull_0.8",
               "pull_0.5", "reach_0.8")
    print("| design | step | s/step | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 3) + "|")
    for path in paths:
        results = json.loads(Path(path).read_text())
        trained = json.loads((Path(path).parent / "trained.json").read_text())
        for step, values in results.items():
            print(f"| {trained['design']} | {step} | {trained['seconds_per_step']:.2f} | "
                  + " | ".join(f"{values[c]:.3f}" for c in columns) + " |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train")
    run.add_argument("design")
    run.add_argument("--minutes", type=float, default=24, help="CPU minutes (both cores count)")
    run.add_argument("--out", type=Path, default=Path("workspace/pilot"))
    run.add_argument("--clips", type=int, default=CLIPS)
    run.add_argument("--warm", action="store_true", help="start from the shipped toy's weights where names match")
    look = commands.add_parser("probe")
    look.add_argument("folder", type=Path)
    look.add_argument("--clips", type=int, default=4)
    look.add_argument("--steps", type=lambda text: {int(v) for v in text.split(",")}, default=None)
    show = commands.add_parser("table")
    show.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.command == "train":
        train(args.design, args.minutes, args.out, args.clips, args.warm)
    elif args.command == "probe":
        probe(args.folder, args.clips, args.steps)
    else:
        table(args.paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
