"""Make the toy model from nothing: `python -m experiments toy train` calls build_toy_model.

    1. the VAE on the world (engine/toy/factory/vae_training.py), with its latent statistics set;
    2. a dataset of world clips, encoded once as the pipeline would (engine/toy/factory/training.py);
    3. the transformer, every weight, with the lab's trainer (flow matching, VACE conditioning, reference and
       prompt dropout so guidance works);
    4. the pipeline saved in half precision with the run's record, ready for `ship` into assets/toy.

Every stage writes into one run folder and is skipped when its output is already there, so a run that was
stopped goes on where it was.
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.records import device_label
from engine.toy import world
from engine.toy.family import TOY_DIR
from engine.toy.model import load_cpu_vae, mix_in_next_word, reads_next_word
from engine.toy.world import training_seeds
from engine.toy.factory.training import MAX_SEQUENCE_LENGTH, encode_world, initial_pipeline, train_transformer
from engine.toy.world import heldout_seeds
from engine.toy.factory.round_trips import pose_round_trip, round_trip_text, vae_round_trip
from engine.toy.factory.vae_training import VaeTrainConfig, train_decoder, train_encoder, train_vae

logger = logging.getLogger(__name__)


def default_transformer_config():
    from engine.train.config import TrainConfig

    # Shifted noise levels (Wan's flow shift 3, as the toy samples with) spend three steps in four above
    # sigma 0.5, where only the control, the reference and the prompt say what the clip looks like.
    return TrainConfig(target="full", learning_rate=5e-4, weight_decay=0.01, warmup_steps=100, max_steps=3000,
                       batch_size=4, sampler="shifted", shift=3.0, reference_dropout=0.1, prompt_dropout=0.1, seed=0,
                       height=world.HEIGHT, width=world.WIDTH, num_frames=world.NUM_FRAMES, fps=world.FPS,
                       checkpoint_every=250, max_grad_norm=1.0)


@dataclass
class ToyRecipe:
    """Everything that decides the shipped weights (recorded in the model card)."""

    clips: int = 600
    """World clips the transformer learns from (each seen about steps * batch / clips times)."""
    vae: VaeTrainConfig = field(default_factory=VaeTrainConfig)
    transformer: object = field(default_factory=default_transformer_config)
    seed: int = 0
    foreground_weight: float = 10.0
    """Latent positions the figure touches count this many times in the transformer's loss. Unweighted, the
    loss is four-fifths background: two runs learned the prompt's background and drew no figure."""
    scene_prompt_share: float = 0.0
    """Share of clips that train with a prompt naming only the action and the floor (world.scene_prompt), so
    their look must come from the reference. The shipped toy used 0 and takes its colours from the words."""
    aligned_reference_share: float = 0.0
    """Share of clips whose reference is the figure of one of their own frames, in its pose and place, so its
    colours can be copied straight across (a curriculum toward reading the reference). The shipped toy used 0."""
    travel_share: float = 0.0
    """Share of clips that cross the frame at 2-5 pixels a frame whatever their motion (training.travelling_sample),
    so the figure must be drawn where each frame's skeleton is, not where the first frame's was. The shipped toy
    used 0 and leaves a walking figure near where it started."""
    reference_token_share: float = 0.0
    """Share of clips that train with the scene prompt and the reference encoder's tokens for their reference
    beside it, as a generation gets them (training.encode_world), so the transformer learns to take the look from
    the reference's tokens. Needs a pipeline with a reference encoder (a leg after a --reference-encoder leg)."""
    latent_channels: int = 16
    """The VAE's latent channels (its z_dim) and so the transformer's input and output width. At equal VAE steps
    48 channels kept more of the clothes' colours than the shipped toy's 16 (docs/toy-log.md)."""
    next_word_text: bool = False
    """Set the text encoder to add each word's right-hand neighbour to it (model.mix_in_next_word), so "red" in
    "a red top" differs from "red" in "a red background". A leg that sets it changes the encoder from then on."""


def toy_spec(source: str, name: str = "toy"):
    """The toy model's ModelSpec for a pipeline folder (the preset's settings, another folder)."""
    from engine.spec import ModelSpec

    preset = ModelSpec.from_preset("toy")
    return preset.with_overrides(name=name, source=source, max_sequence_length=MAX_SEQUENCE_LENGTH)


def engine_for(model: str):
    """An Engine for a model name or a toy run's pipeline folder; ModelSpec gives a folder holding toy_run.json
    the toy preset's settings, so the benchmarks measure a run before it is shipped as they measure the toy."""
    from engine.engine import Engine

    return Engine.from_name(model)


def build_toy_model(out_dir: str | Path, recipe: ToyRecipe = ToyRecipe(), on_log=None) -> Path:
    """Run (or resume) every stage into out_dir; returns the finished pipeline folder (out_dir/pipeline)."""
    from engine.engine import Engine

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log = on_log or (lambda text: logger.info("%s", text))
    final = out_dir / "pipeline"
    if (final / "model_index.json").is_file():
        # A finished run is never trained again by accident (its schedule has ended; legs go on with --more).
        log(f"{out_dir} holds a finished pipeline; train it further with --more STEPS, or start a new --out")
        return final
    record = _read_record(out_dir)
    record["recipe"] = _recipe_dict(recipe)
    record["world_version"] = world.WORLD_VERSION

    vae_dir = out_dir / "vae"
    if not (vae_dir / "config.json").is_file():
        started = time.perf_counter()
        vae = train_vae(out_dir, recipe.vae, architecture={"z_dim": recipe.latent_channels},
                        on_log=lambda step, loss, psnr: step % 50 == 0 and log(
                            f"VAE step {step}/{recipe.vae.steps}: loss {loss:.4f}, batch PSNR {psnr:.1f} dB"))
        vae.save_pretrained(vae_dir)
        record["vae_seconds"] = round(time.perf_counter() - started)
        _write_record(out_dir, record)
    vae = load_cpu_vae(vae_dir)  # its PSNR is measured on a CPU
    if "vae_psnr_db" not in record:
        record["vae_psnr_db"] = round(vae_round_trip(vae, [world.make_sample(seed) for seed in heldout_seeds(8)])["psnr"], 2)
        log(f"VAE reconstruction on held-out clips: {record['vae_psnr_db']} dB PSNR")
        _write_record(out_dir, record)

    init_dir = out_dir / "pipeline-init"
    if not (init_dir / "model_index.json").is_file():
        pipe = initial_pipeline(vae)
        if recipe.next_word_text:
            mix_in_next_word(pipe.text_encoder)
        pipe.save_pretrained(init_dir)
    engine = Engine(toy_spec(str(init_dir), name="toy-train"))  # on CUDA where there is one

    started = time.perf_counter()
    samples = _encode(engine, training_seeds(recipe.clips, recipe.seed), out_dir, recipe, log)
    record["encode_seconds"] = round(time.perf_counter() - started)

    started = time.perf_counter()
    _train_resuming(engine, samples, recipe.transformer, out_dir / "transformer-run", log, "transformer")
    record["transformer_seconds"] = round(time.perf_counter() - started) + record.get("transformer_seconds", 0)
    return _save_pipeline(engine, out_dir, record)


def extend_toy_model(out_dir: str | Path, steps: int, clips: int | None = None, learning_rate: float = 3e-4,
                     recipe: ToyRecipe = ToyRecipe(), on_log=None) -> Path:
    """Train a finished run's transformer `steps` more on a fresh cosine schedule (a "leg"), optionally on more
    world clips; returns the updated pipeline folder. The pipeline it started from is kept beside it, and the
    run record lists every leg, so the model card says exactly how the shipped weights came to be.

    A CPU run is cut into legs because it takes hours; on a GPU one long `toy train --steps N` does the same.
    """
    from engine.engine import Engine

    out_dir = Path(out_dir)
    log = on_log or (lambda text: logger.info("%s", text))
    record, legs, number, before = _begin_leg(out_dir, "legs", "leg")
    trained_on = record.get("recipe", {}).get("clips", recipe.clips)
    clips = clips or trained_on
    config = recipe.transformer.with_changes(max_steps=steps, learning_rate=learning_rate, warmup_steps=50)
    engine = Engine(toy_spec(str(before), name="toy-train"))  # on CUDA where there is one
    text_changed = recipe.next_word_text and not reads_next_word(engine.load().text_encoder)
    if text_changed and (before / "reference_encoder").exists():
        # The reference encoder is fitted to the text encoder's words; this leg would change them under it. Any
        # other leg keeps it: it stands in for the words, with or without its tokens in training (encode_world).
        raise ValueError(f"{out_dir / 'pipeline'} has a reference encoder fitted to its text encoder, which "
                         "--next-word-text would change: run that leg before the --reference-encoder leg")
    if text_changed:
        mix_in_next_word(engine.load().text_encoder)  # saved with the leg's pipeline; encode_world re-embeds prompts
    earlier = tuple(leg["clips"] for leg in legs)
    samples = _encode(engine, leg_seeds(trained_on, clips, recipe.seed, earlier), out_dir, recipe, log)
    started = time.perf_counter()
    _train_resuming(engine, samples, config, out_dir / f"leg-{number}", log, f"leg {number}")
    legs.append({**_leg_start(record), "steps": steps, "clips": clips, "learning_rate": learning_rate, "warmup_steps": 50,
                 "batch_size": config.batch_size, "foreground_weight": recipe.foreground_weight,
                 "scene_prompt_share": recipe.scene_prompt_share,
                 "aligned_reference_share": recipe.aligned_reference_share, "travel_share": recipe.travel_share,
                 "reference_token_share": recipe.reference_token_share, "next_word_text": text_changed,
                 "device": device_label(engine.device), "seconds": round(time.perf_counter() - started)})
    return _save_pipeline(engine, out_dir, record)


def extend_decoder(out_dir: str | Path, steps: int, learning_rate: float = 3e-4, latent_noise: float = 0.0,
                   temporal_weight: float = 0.0, on_log=None) -> Path:
    """Train a finished run's VAE decoder `steps` more, its encoder frozen (a "decoder leg"; see
    vae_training.train_decoder): the transformer and the latents it learned on stay valid. The pipeline it
    started from is kept beside it, and the record lists the leg with the VAE's round trip on held-out clips
    before and after, as `toy eval` measures it."""
    return _vae_leg(
        out_dir, "decoder", on_log, measure=vae_round_trip, describe=round_trip_text,
        train=lambda vae, folder, number, on_step: train_decoder(vae, folder, steps, learning_rate, leg=number,
                                                                 latent_noise=latent_noise,
                                                                 temporal_weight=temporal_weight, on_log=on_step),
        entry=lambda record: {"steps": steps, "learning_rate": learning_rate, "latent_noise": latent_noise,
                              "temporal_weight": temporal_weight,
                              "after_leg": len(record.get("legs", []))})


def extend_encoder(out_dir: str | Path, steps: int, learning_rate: float = 2e-4, encoder_learning_rate: float = 1e-4,
                   anchor_weight: float = 10.0, on_log=None) -> Path:
    """Train a finished run's VAE, encoder and decoder, `steps` more so pose videos come through it, with the
    clips' and references' latents held near where they were (an "encoder leg"; vae_training.train_encoder).
    The pose videos' latents move, so the run's latent cache is dropped: the next `--more` leg encodes its
    clips again and teaches the transformer the new pose latents. The record lists the leg with the VAE's
    round trips (clips and pose videos) before and after, on the 8 held-out clips."""
    final = _vae_leg(
        out_dir, "encoder", on_log,
        measure=lambda vae, samples: {**vae_round_trip(vae, samples), **pose_round_trip(vae, samples)},
        describe=lambda measured: f"pose bones kept {measured['pose_bones_kept']:.3f}; clips: "
                                  f"{round_trip_text(measured)}",
        train=lambda vae, folder, number, on_step: train_encoder(vae, folder, steps, learning_rate,
                                                                 encoder_learning_rate, anchor_weight, on_log=on_step),
        entry=lambda record: {"steps": steps, "learning_rate": learning_rate,
                              "encoder_learning_rate": encoder_learning_rate, "anchor_weight": anchor_weight,
                              "before_leg": len(record.get("legs", [])) + 1})
    cache = Path(out_dir) / "encoded.safetensors"
    if cache.is_file():
        cache.unlink()  # encoded by the VAE before this leg: its pose latents are stale
        (on_log or (lambda text: logger.info("%s", text)))(f"dropped {cache} (the next leg encodes its clips again)")
    return final


def widen_latent(out_dir: str | Path, channels: int, steps: int, learning_rate: float = 3e-4, on_log=None) -> Path:
    """Widen a finished run's latent to `channels` (a "widen leg"; engine/toy/factory/widen.py): the VAE gains
    channels and trains `steps` with its old channels held where they were, and the transformer gains the same
    channels, zero at first, so it draws as before. The latent cache is dropped: the next `--more` leg encodes
    its clips with the wider VAE and teaches the transformer the new channels. The text encoder and any
    reference encoder stay as they are (the reference encoder is fitted to the text encoder). The record lists
    the leg with the VAE's round trips on the 8 held-out clips before and after."""
    import torch
    from diffusers import WanVACETransformer3DModel

    from engine.cpu_conv import use_onednn_conv3d
    from engine.toy.factory.widen import train_widened_vae, widen_transformer, widen_vae

    out_dir = Path(out_dir)
    final = out_dir / "pipeline"
    log = on_log or (lambda text: logger.info("%s", text))
    record, legs, number, before = _begin_leg(out_dir, "widen_legs", "widen-leg")
    old_vae = load_cpu_vae(before / "vae")
    from_channels = old_vae.config.z_dim
    anchored = anchored_widen_channels(legs, from_channels, channels)
    samples = [world.make_sample(seed) for seed in heldout_seeds(8)]
    measured_before = vae_round_trip(old_vae, samples)
    log(f"widen leg {number}: before ({from_channels} channels, the first {anchored} held): "
        f"{round_trip_text(measured_before)}")
    vae = widen_vae(old_vae, channels) if channels > from_channels else copy.deepcopy(old_vae)
    use_onednn_conv3d(vae)
    started = time.perf_counter()
    train_widened_vae(vae, old_vae, out_dir / f"widen-leg-{number}", steps, learning_rate,
                      on_log=lambda step, loss, psnr: step % 25 == 0 and log(
                          f"widen leg {number} step {step}/{steps}: loss {loss:.4f}, batch PSNR {psnr:.1f} dB"),
                      anchored_channels=anchored, leg=number)
    seconds = round(time.perf_counter() - started)
    measured_after = vae_round_trip(vae, samples)
    log(f"widen leg {number}: after ({channels} channels): {round_trip_text(measured_after)}")
    shutil.rmtree(final / "vae")
    vae.save_pretrained(final / "vae")
    halve_weights(final / "vae")
    if channels > from_channels:
        transformer = WanVACETransformer3DModel.from_pretrained(before / "transformer", torch_dtype=torch.float32)
        shutil.rmtree(final / "transformer")
        widen_transformer(transformer, channels).save_pretrained(final / "transformer")
        halve_weights(final / "transformer")
    cache = out_dir / "encoded.safetensors"
    if cache.is_file():
        cache.unlink()  # the old VAE's latents: the next leg encodes its clips again
    record["vae_psnr_db"] = round(measured_after["psnr"], 2)
    record.setdefault("recipe", {})["latent_channels"] = channels
    legs.append({**_leg_start(record), "channels": channels, "from_channels": from_channels,
                 "anchored_channels": anchored, "steps": steps, "learning_rate": learning_rate,
                 "seconds": seconds, "device": device_label("cpu"), "before_leg": len(record.get("legs", [])) + 1,
                 "round_trip_before": measured_before, "round_trip_after": measured_after})
    _write_record(out_dir, record)
    shutil.copy(out_dir / "toy_run.json", final / "toy_run.json")
    return final


def anchored_widen_channels(earlier_legs: list[dict], from_channels: int, channels: int) -> int:
    """How many leading latent channels a widen leg holds where they were: all of them when it grows the latent;
    when the latent is already `channels` wide (a further leg), only those the first widen leg started from,
    which the transformer learned longest, so the channels added since train freely again."""
    if channels < from_channels:
        raise ValueError(f"the latent has {from_channels} channels: a widen leg cannot narrow it to {channels}")
    if channels > from_channels:
        return from_channels
    first = next((leg for leg in earlier_legs if "from_channels" in leg), None)
    if first is None:
        raise ValueError(f"the latent already has {channels} channels and no earlier widen leg says which were "
                         "there first: widen to more channels instead")
    return first["from_channels"]


def extend_reference_encoder(out_dir: str | Path, steps: int, learning_rate: float = 1e-3, on_log=None) -> Path:
    """Fit a reference encoder to a finished run's text encoder (a "reference leg";
    engine/toy/factory/reference_training.py) and save it into the pipeline as `reference_encoder/`, so the
    engine adds the reference's tokens to every prompt. Nothing else changes. A leg that changes the text encoder
    afterwards (--next-word-text) leaves this encoder fitted to the old one: run a reference leg again."""
    from engine.engine import Engine
    from engine.reference_tokens import FOLDER
    from engine.toy.factory.reference_training import train_reference_encoder

    out_dir = Path(out_dir)
    final = out_dir / "pipeline"
    log = on_log or (lambda text: logger.info("%s", text))
    record, legs, number, _before = _begin_leg(out_dir, "reference_legs", "reference-leg")
    engine = Engine(toy_spec(str(final), name="toy-reference-leg"))
    started = time.perf_counter()
    encoder, report = train_reference_encoder(engine, steps=steps, learning_rate=learning_rate, on_step=lambda
                                              step, total, loss: step % 250 == 0 and log(
                                                  f"reference leg {number} step {step}/{total}: loss {loss:.4f}"))
    encoder.save_pretrained(final / FOLDER)
    halve_weights(final / FOLDER)
    log(f"reference leg {number}: held-out clause accuracy {report['heldout_clause_accuracy']:.3f}")
    legs.append({**_leg_start(record), **report, "seconds": round(time.perf_counter() - started),
                 "device": device_label("cpu"), "after_leg": len(record.get("legs", []))})
    _write_record(out_dir, record)
    shutil.copy(out_dir / "toy_run.json", final / "toy_run.json")
    return final


def _vae_leg(out_dir: str | Path, kind: str, on_log, measure, describe, train, entry) -> Path:
    """What a decoder or an encoder leg share: start from a copy of the run's pipeline (_begin_leg), load its VAE
    in float32 on oneDNN's convolutions (it trains on a CPU), measure it on the 8 held-out clips before and
    after `train(vae, folder, number, on_step)`, save it in half precision into the pipeline, and list the leg
    in the record (`entry(record)`'s fields, time, device, both measures; the round-trip PSNR as vae_psnr_db)."""
    out_dir = Path(out_dir)
    final = out_dir / "pipeline"
    log = on_log or (lambda text: logger.info("%s", text))
    record, legs, number, before = _begin_leg(out_dir, f"{kind}_legs", f"{kind}-leg")
    fields = entry(record)
    vae = load_cpu_vae(before / "vae")
    samples = [world.make_sample(seed) for seed in heldout_seeds(8)]
    measured_before = measure(vae, samples)
    log(f"{kind} leg {number}: before: {describe(measured_before)}")
    started = time.perf_counter()
    train(vae, out_dir / f"{kind}-leg-{number}", number, lambda step, loss, psnr: step % 25 == 0 and log(
        f"{kind} leg {number} step {step}/{fields['steps']}: loss {loss:.4f}, batch PSNR {psnr:.1f} dB"))
    seconds = round(time.perf_counter() - started)
    measured_after = measure(vae, samples)
    log(f"{kind} leg {number}: after: {describe(measured_after)}")
    vae.save_pretrained(final / "vae")
    halve_weights(final / "vae")
    record["vae_psnr_db"] = round(measured_after["psnr"], 2)
    legs.append({**_leg_start(record), **fields, "seconds": seconds, "device": device_label("cpu"),
                 "round_trip_before": measured_before, "round_trip_after": measured_after})
    _write_record(out_dir, record)
    shutil.copy(out_dir / "toy_run.json", final / "toy_run.json")
    return final


def _begin_leg(out_dir: Path, kind: str, folder: str) -> tuple[dict, list, int, Path]:
    """(run record, its list of legs of this kind, the new leg's number, the copy of the pipeline it starts from)
    for a leg on a finished run; the copy is kept beside the pipeline (and reused when a stopped leg resumes)."""
    final = out_dir / "pipeline"
    if not (final / "model_index.json").is_file():
        raise FileNotFoundError(f"{final} has no finished pipeline: run `toy train --out {out_dir}` first")
    record = _read_record(out_dir)
    legs = record.setdefault(kind, [])
    number = len(legs) + 1
    before = out_dir / f"pipeline-before-{folder}-{number}"
    if not before.exists():
        shutil.copytree(final, before)
    return record, legs, number, before


def _leg_start(record: dict) -> dict:
    """What a new leg's entry says of where it started: from the shipped toy when start_from_shipped made the
    folder and no leg has run in it since (the card then writes `--from-shipped` into the leg's command)."""
    return {"from_shipped": True} if record.pop("started_from_shipped", False) else {}


PIPELINE_PARTS = ("model_index.json", "scheduler", "text_encoder", "tokenizer", "transformer", "vae")
OPTIONAL_PARTS = ("reference_encoder",)  # the engine uses it when a pipeline has one


def start_from_shipped(out_dir: str | Path, source: Path = TOY_DIR) -> Path:
    """Make out_dir a finished run holding the shipped toy (its pipeline and run record), so `--more` legs can
    go on from it where the run that made it is not at hand (a fresh clone, a GPU machine). An out_dir that
    already holds a pipeline is left as it is: a stopped leg resumes. Its loss logs are not shipped, so the
    card's curves then start at this folder's first leg."""
    out_dir = Path(out_dir)
    final = out_dir / "pipeline"
    if (final / "model_index.json").is_file():
        return final
    missing = [part for part in PIPELINE_PARTS if not (source / part).exists()]
    if missing:
        raise FileNotFoundError(f"{source} is not a toy pipeline (missing {', '.join(missing)})")
    final.mkdir(parents=True, exist_ok=True)
    for part in PIPELINE_PARTS + tuple(part for part in OPTIONAL_PARTS if (source / part).exists()):
        if (source / part).is_dir():
            shutil.copytree(source / part, final / part, dirs_exist_ok=True)
        else:
            shutil.copy(source / part, final / part)
    shutil.copy(source / "toy_run.json", final / "toy_run.json")
    record = _read_record(source)
    record["started_from_shipped"] = True  # the next leg's entry takes it (_leg_start)
    _write_record(out_dir, record)
    return final


def _encode(engine, seeds: list[int], out_dir: Path, recipe: ToyRecipe, log) -> list:
    """The world clips as training samples, through the run's latent cache."""
    return encode_world(engine, seeds, cache=out_dir / "encoded.safetensors", foreground_weight=recipe.foreground_weight,
                        scene_prompt_share=recipe.scene_prompt_share,
                        aligned_reference_share=recipe.aligned_reference_share, travel_share=recipe.travel_share,
                        reference_token_share=recipe.reference_token_share,
                        on_progress=lambda done, total, s: done % 100 < 4 and log(f"encoded {done}/{total} clips ({s:.0f} s)"))


def _train_resuming(engine, samples: list, config, folder: Path, log, label: str):
    """Train the engine's transformer in place, going on from the folder's last checkpoint if there is one."""
    checkpoints = sorted(folder.glob("checkpoint-*"))
    train_transformer(engine, samples, config, folder, resume=checkpoints[-1] if checkpoints else None,
                      on_step=lambda r: r["step"] % 50 == 0 and log(f"{label} step {r['step']}/{config.max_steps}: "
                                                                    f"loss {r['loss']:.4f}"))


def _save_pipeline(engine, out_dir: Path, record: dict) -> Path:
    """out_dir/pipeline in half precision, with the run record beside the weights."""
    from diffusers import WanVACEPipeline

    final = out_dir / "pipeline"
    # Saved as diffusers' own class (the lab's subclass only adds a cache), so anyone can load it.
    WanVACEPipeline(**engine.load().components).save_pretrained(final)
    halve_weights(final)
    _write_record(out_dir, record)
    shutil.copy(out_dir / "toy_run.json", final / "toy_run.json")
    return final


def leg_seeds(trained_on: int, clips: int, seed: int = 0, earlier: tuple[int, ...] = ()) -> list[int]:
    """A leg's clips: the run's own first, then those of the earlier legs (clip counts `earlier`), then new
    training seeds up to `clips`, so every clip encoded before is used again and read from the cache."""
    seeds = training_seeds(trained_on, seed)[:clips]
    known = set(seeds)
    for count in (*earlier, clips):
        added = [s for s in training_seeds(count, seed + 1) if s not in known][:max(0, count - len(seeds))]
        seeds += added
        known.update(added)
    return seeds[:clips]


def halve_weights(folder: Path):
    """Store every float weight in half precision (the engine loads them back as float32 on a CPU)."""
    from safetensors.torch import load_file, save_file

    for path in Path(folder).rglob("*.safetensors"):
        tensors = {name: (value.half() if value.is_floating_point() else value)
                   for name, value in load_file(path).items()}
        save_file(tensors, path, metadata={"format": "pt"})


def ship(pipeline_dir: str | Path, target: Path = TOY_DIR) -> Path:
    """Copy a finished pipeline (weights, configs, run record) into assets/toy, keeping its model card."""
    pipeline_dir = Path(pipeline_dir)
    target.mkdir(parents=True, exist_ok=True)
    for path in pipeline_dir.rglob("*"):
        if path.is_file():
            destination = target / path.relative_to(pipeline_dir)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, destination)
    return target


def _recipe_dict(recipe: ToyRecipe) -> dict:
    return {"clips": recipe.clips, "seed": recipe.seed, "foreground_weight": recipe.foreground_weight,
            "scene_prompt_share": recipe.scene_prompt_share,
            "aligned_reference_share": recipe.aligned_reference_share, "travel_share": recipe.travel_share,
            "reference_token_share": recipe.reference_token_share, "next_word_text": recipe.next_word_text,
            "latent_channels": recipe.latent_channels,
            "vae": asdict(recipe.vae),
            "transformer": asdict(recipe.transformer)}


def _read_record(out_dir: Path) -> dict:
    path = out_dir / "toy_run.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_record(out_dir: Path, record: dict):
    (out_dir / "toy_run.json").write_text(json.dumps(record, indent=2))
