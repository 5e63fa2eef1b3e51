"""The toy model's model card (assets/toy/README.md) and loss curves, written from the run's record and the
evaluation report, so every number in it comes from a file the run wrote."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from engine.toy import world


def loss_curves(run_dir: Path, out_png: Path) -> Path:
    """VAE reconstruction PSNR and transformer loss against steps, smoothed, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    def column(path: Path, name: str):
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        steps = np.array([float(r["step"]) for r in rows])
        values = np.array([float(r[name]) for r in rows])
        return steps, values

    def smooth(values, width=25):
        width = max(1, min(width, len(values)))
        return np.convolve(values, np.ones(width) / width, mode="valid")

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    vae_offset = 0.0
    for psnr_path in vae_loss_files(run_dir):
        steps, psnr = column(psnr_path, "psnr")
        label = "VAE" if psnr_path.name == "vae_loss.csv" else psnr_path.parent.name.replace("-", " ")
        left.plot(steps[: len(smooth(psnr))] + vae_offset, smooth(psnr), label=label)
        vae_offset += steps[-1]
    left.set(title="VAE: batch PSNR (dB), 25-step mean", xlabel="step")
    if vae_offset:
        left.legend()
    else:  # a run started from the shipped toy whose legs trained the transformer only
        left.set_axis_off()
        left.text(0.5, 0.5, "no VAE training in this run's folder:\nthe VAE is the one it started from",
                  ha="center", va="center", transform=left.transAxes)
    offset = 0.0
    for loss_path in transformer_loss_files(run_dir):
        steps, loss = column(loss_path, "loss")
        _, first = np.unique(steps, return_index=True)  # one row per sample: keep one per step
        steps, loss = steps[first] + offset, loss[first]
        label = "first run" if loss_path.parent.name == "transformer-run" else loss_path.parent.name.replace("-", " ")
        right.plot(steps[: len(smooth(loss, 50))], smooth(loss, 50), label=label)
        offset = steps[-1]
    if offset:
        right.set(title="Transformer: flow-matching loss, 50-step mean", xlabel="step")
        right.legend()
    figure.tight_layout()
    figure.savefig(out_png, dpi=90)
    plt.close(figure)
    return out_png


def vae_loss_files(run_dir: Path) -> list[Path]:
    """The VAE's training log (absent from a run started from the shipped toy), then each decoder and encoder
    leg's in the order they ran (the time each log was last written: legs of the two kinds interleave, as an
    encoder leg, transformer legs on it, then a decoder leg)."""
    first = run_dir / "vae_loss.csv"
    legs = sorted((path for kind in ("decoder", "encoder") for path in run_dir.glob(f"{kind}-leg-*/{kind}_loss.csv")),
                  key=lambda path: (path.stat().st_mtime, int(path.parent.name.split("-")[2])))
    return ([first] if first.is_file() else []) + legs


def transformer_loss_files(run_dir: Path) -> list[Path]:
    """The first run's loss log, then each `--more` leg's, in order."""
    first = run_dir / "transformer-run" / "loss.csv"
    legs = sorted(run_dir.glob("leg-*/loss.csv"), key=lambda path: int(path.parent.name.split("-")[1]))
    return ([first] if first.is_file() else []) + legs


def _from_shipped(leg: dict) -> str:
    return " --from-shipped" if leg.get("from_shipped") else ""


def leg_lines(record: dict) -> list[str]:
    """One line per `toy train --more` leg in the run record."""
    return [f"- leg {number}: `python -m experiments toy train{_from_shipped(leg)} --more {leg['steps']}"
            f" --clips {leg['clips']}"
            f" --learning-rate {leg['learning_rate']}"
            + (f" --batch-size {leg['batch_size']}" if "batch_size" in leg else "")
            + (f" --scene-prompts {leg['scene_prompt_share']:g}" if leg.get("scene_prompt_share") else "")
            + (f" --aligned-references {leg['aligned_reference_share']:g}" if leg.get("aligned_reference_share")
               else "")
            + (f" --travel {leg['travel_share']:g}" if leg.get("travel_share") else "")
            + (" --next-word-text" if leg.get("next_word_text") else "")
            + f"`: {leg['steps']} more steps on a new cosine schedule over"
            f" {leg['clips']} clips, figure latents weighted {leg['foreground_weight']:g}x; {leg['seconds']} s"
            + (f" on {leg['device']}" if "device" in leg else "")
            for number, leg in enumerate(record.get("legs", []), start=1)]


def decoder_leg_lines(record: dict) -> list[str]:
    """One line per `toy train --decoder-more` leg in the run record, with the VAE's round trip around it."""
    from engine.toy.factory.round_trips import round_trip_text

    return [f"- decoder leg {number}" + (f" (after leg {leg['after_leg']})" if leg.get("after_leg") else "")
            + f": `python -m experiments toy train{_from_shipped(leg)}"
            f" --decoder-more {leg['steps']}"
            f" --learning-rate {leg['learning_rate']}"
            + (f" --decoder-noise {leg['latent_noise']:g}" if leg.get("latent_noise") else "")
            + f"`: the VAE's decoder {leg['steps']} more steps, its encoder"
            f" frozen (so the transformer's latents are unchanged); {leg['seconds']} s on {leg['device']}. The true"
            f" held-out clips through the VAE alone: {round_trip_text(leg['round_trip_before'])} before,"
            f" {round_trip_text(leg['round_trip_after'])} after"
            for number, leg in enumerate(record.get("decoder_legs", []), start=1)]


def encoder_leg_lines(record: dict) -> list[str]:
    """One line per `toy train --encoder-more` leg, with the VAE's round trips (pose videos, clips) around it."""
    from engine.toy.factory.round_trips import round_trip_text

    def pose(measured: dict) -> str:
        return f"pose bones kept {measured['pose_bones_kept']:.3f}"

    return [f"- encoder leg {number} (before leg {leg['before_leg']}): `python -m experiments toy train"
            f"{_from_shipped(leg)} --encoder-more {leg['steps']} --learning-rate {leg['learning_rate']}`: the whole"
            f" VAE {leg['steps']} more steps, half of them on pose videos, the clips' and references' latents held"
            f" near the frozen VAE's ({leg['anchor_weight']:g} x their squared distance in latent stds), encoder rate"
            f" {leg['encoder_learning_rate']}; {leg['seconds']} s on {leg['device']}. On the held-out clips, before:"
            f" {pose(leg['round_trip_before'])}, clips {round_trip_text(leg['round_trip_before'])}; after:"
            f" {pose(leg['round_trip_after'])}, clips {round_trip_text(leg['round_trip_after'])}"
            for number, leg in enumerate(record.get("encoder_legs", []), start=1)]


def _sampling_note(report: dict | None) -> str:
    """How the eval's default generations sampled (the toy preset's settings when it ran), or nothing for a
    report from before they were recorded."""
    sampling = (report or {}).get("sampling")
    if not sampling:
        return ""
    stop = sampling.get("guidance_stop") or 0
    guided = (f"guidance {sampling['guidance_scale']:g} while the noise level is {stop:g} or more"
              if stop else f"guidance {sampling['guidance_scale']:g} on every step")
    return (f" Each generation samples as the toy preset says: {sampling['num_inference_steps']} steps of"
            f" {sampling['sampler']} at flow shift {sampling['flow_shift']:g}, {guided}.")


def _guidance_values(report: dict | None) -> str:
    clothes = (report or {}).get("guidance", {}).get("prompted_clothes_match")
    return f" ({' / '.join(f'{value:.2f}' for value in clothes)})" if clothes else ""


def _clips_note(report: dict | None, section: str) -> str:
    """" (3 clips)" when the report says how many clips a sweep averaged; older reports do not."""
    clips = (report or {}).get(section, {}).get("clips")
    return f" ({len(clips)} clip{'s' if len(clips) != 1 else ''})" if clips else ""


def _seconds(record: dict, name: str) -> str:
    return f"{record[name]} s" if name in record else "time not recorded"


def write_card(folder: Path, record: dict, report: dict | None, command: str) -> Path:
    """README.md for the shipped weights."""
    recipe = record.get("recipe", {})
    vae, transformer = recipe.get("vae", {}), recipe.get("transformer", {})
    summary = (report or {}).get("summary", {})
    thresholds = (report or {}).get("thresholds", {})

    def number(name, fmt="{:.3f}"):
        value = summary.get(name)
        if value is None:
            return "not measured"
        return ", ".join(fmt.format(v) for v in value) if isinstance(value, list) else fmt.format(value)

    lines = [
        "---",
        "library_name: diffusers",
        "pipeline_tag: image-to-video",
        "tags: [wan, vace, pose, toy, education]",
        "---",
        "",
        "# VACE Lab toy model",
        "",
        "A small WanVACE pipeline of the real diffusers classes (`AutoencoderKLWan`, `WanVACETransformer3DModel`,",
        "`UMT5EncoderModel` with a word-level tokenizer), trained from scratch in this lab on its puppet world",
        f"(`engine/toy/world.py`, world version {record.get('world_version', world.WORLD_VERSION)}), at 224x128, 17 frames,"
        " 16 fps. It is trained",
        "to draw a figure on the pose skeleton with the reference image's look and the prompt's background; how far",
        "it gets is measured below. It knows nothing outside that world. Weights are float16 safetensors; the lab",
        "loads them as float32 on a CPU.",
        "",
        "One departure from Wan's layout: the VAE compresses 4x in space (Wan's compresses 8x), and the transformer",
        "takes 4x4 patches of latents (Wan's 2x2), so it sees as many tokens as Wan's layout would. At 8x the",
        "puppet's 2-4 pixel limbs and the pose video's 2-pixel bones vanished inside single latents: a first VAE",
        "reconstructed pose videos as black frames, and a transformer trained on its latents ignored the control.",
        "",
        "## How it was made",
        "",
        f"    {command}",
        "",
        f"- seed {recipe.get('seed', 0)}; {recipe.get('clips')} training clips (held-out seeds start at 1,000,000)",
        f"- VAE: {vae.get('steps')} steps of batch {vae.get('batch_size')} (clips) / {2 * (vae.get('batch_size') or 0)}"
        f" (frames), decoder learning rate {vae.get('learning_rate')}, encoder {vae.get('encoder_learning_rate')};"
        f" {_seconds(record, 'vae_seconds')}",
        f"- transformer: every weight, {transformer.get('max_steps')} steps of {transformer.get('batch_size')} clips,"
        f" learning rate {transformer.get('learning_rate')}, sampler {transformer.get('sampler')}, reference and prompt"
        f" dropout {transformer.get('reference_dropout')} / {transformer.get('prompt_dropout')};"
        f" {_seconds(record, 'transformer_seconds')} (+ {_seconds(record, 'encode_seconds')} encoding)",
        "- machine: the project's CPU machine (2 cores), no GPU",
    ]
    lines += leg_lines(record) + decoder_leg_lines(record) + encoder_leg_lines(record)
    if record.get("notes"):
        lines += [f"- {note}" for note in record["notes"]]
    lines += [
        "",
        "![loss curves](loss_curves.png)",
        "",
        "## Quality on held-out seeds",
        "",
        "Measured with `python -m experiments toy eval --json assets/toy/eval.json` (engine/toy/factory/evaluate.py).",
        f"Colours match when their RGB distance is under {thresholds.get('colour_distance', '?')}; figure pixels are",
        f"those over {thresholds.get('figure_distance', '?')} from the true background, counted on the silhouette",
        f"grown by {thresholds.get('tolerance_px', '?')} px.{_sampling_note(report)}",
        "",
        "| measure | target | reached |",
        "|---|---|---|",
        f"| VAE reconstruction PSNR | >= 30 dB | {record.get('vae_psnr_db', 'not measured')} dB |",
        f"| ... the true clips through the VAE alone: figure pixels on the true silhouette | | {number('vae_silhouette_precision')} |",
        f"| ... the true clips through the VAE alone: part colours matching | | {number('vae_colour_match')} |",
        f"| ... their pose videos through the VAE alone: bone pixels given back in their colour | | {number('vae_pose_bones_kept')} |",
        f"| figure pixels on the true silhouette | >= 0.80 | {number('silhouette_precision')} |",
        f"| true silhouette covered | | {number('silhouette_recall')} |",
        f"| figure pixels on the true silhouette, against the background the model drew | | {number('placement_precision')} |",
        f"| part colours matching the reference (limb-frames) | >= 0.80 | {number('colour_match')} |",
        f"| recoloured reference, same prompt: clothes in the new colours | high | {number('recolour_follows_new_reference')} |",
        f"| recoloured reference, same prompt: clothes still in the old colours | low | {number('recolour_keeps_old_colours')} |",
        f"| same reference, prompt naming new clothes: clothes in the new colours | | {number('recoloured_prompt_moves_colours')} |",
        f"| clips whose background matches the prompt | high | {number('background_within_threshold')} |",
        f"| ... when the prompt names only the action and the floor | high | {number('scene_prompt_background_within_threshold')} |",
        f"| ... and then, figure pixels on the true silhouette | | {number('scene_prompt_silhouette_precision')} |",
        f"| guidance 1 / 3 / 5 / 7.5: clothes in the prompt's colours rise{_clips_note(report, 'guidance')} |"
        " yes | "
        f"{summary.get('guidance_monotone')}{_guidance_values(report)} |",
        f"| steps 2 / 4 / 8 / 20: PSNR{_clips_note(report, 'steps')} | rises, flattens |"
        f" {number('steps_psnr', '{:.1f}')} |",
        f"| ... figure pixels on the true silhouette | rises, flattens | {number('steps_silhouette_precision')} |",
        f"| ... part colours matching the reference | rises, flattens | {number('steps_colour_match')} |",
        f"| seeds 1 vs 2: mean pixel difference | > 0 | {number('seeds_mean_abs_difference', '{:.1f}')} |",
        f"| unseen stick-figure walk: figure speed / skeleton speed | 1.0 | {number('unseen_walk_speed_ratio', '{:.2f}')} |",
        f"| one default generation (10 steps), this CPU | <= 15 s | {number('seconds_per_generation', '{:.1f}')} s |",
        "",
        f"Times are from {(report or {}).get('machine') or 'the machine that ran the eval'}, after a first"
        " generation that loads and warms the model.",
        "",
    ]
    if record.get("limits"):  # what these weights get wrong and why, as measured (hand-written in toy_run.json)
        lines += ["## What it gets wrong, and why", ""] + [f"- {limit}" for limit in record["limits"]] + [""]
    path = folder / "README.md"
    path.write_text("\n".join(lines))
    if report:
        (folder / "eval.json").write_text(json.dumps(report, indent=2))
    return path


def document_shipped(target: Path, run_dir: Path, command: str) -> dict:
    """Evaluate the weights now in `target` (assets/toy), then write eval.json, loss_curves.png and README.md."""
    from engine.engine import Engine
    from engine.toy.factory.evaluate import evaluate

    report = evaluate(Engine.from_name("toy")).to_dict()
    loss_curves(Path(run_dir), Path(target) / "loss_curves.png")
    record = json.loads((Path(target) / "toy_run.json").read_text())
    write_card(Path(target), record, report, command)
    return report
