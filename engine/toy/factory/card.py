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
    """The VAE's training log (absent from a run started from the shipped toy), then each decoder, encoder and
    widen leg's in the order they ran (the time each log was last written: legs of the two kinds interleave, as an
    encoder leg, transformer legs on it, then a decoder leg)."""
    first = run_dir / "vae_loss.csv"
    legs = sorted((path for kind in ("decoder", "encoder", "widen")
                   for path in run_dir.glob(f"{kind}-leg-*/{kind}_loss.csv")),
                  key=lambda path: (path.stat().st_mtime, int(path.parent.name.split("-")[2])))
    return ([first] if first.is_file() else []) + legs


def transformer_loss_files(run_dir: Path) -> list[Path]:
    """The first run's loss log, then each `--more` leg's, in order."""
    first = run_dir / "transformer-run" / "loss.csv"
    legs = sorted(run_dir.glob("leg-*/loss.csv"), key=lambda path: int(path.parent.name.split("-")[1]))
    return ([first] if first.is_file() else []) + legs


def _from_shipped(leg: dict) -> str:
    return " --from-shipped" if leg.get("from_shipped") else ""


def _time(seconds) -> str:
    return f"{seconds / 60:.0f} min" if isinstance(seconds, (int, float)) else "not recorded"


def first_run_rows(record: dict, command: str) -> list[str]:
    """The recipe table's rows for the first run: the VAE, then the transformer on its latents."""
    recipe = record.get("recipe", {})
    vae, transformer = recipe.get("vae", {}), recipe.get("transformer", {})
    clips = f"{recipe.get('clips')} clips, figure weighted {recipe.get('foreground_weight', 10):g}x"
    return [
        f"| VAE | whole VAE | {vae.get('steps')} x {vae.get('batch_size')} | {vae.get('learning_rate')}"
        f" (encoder {vae.get('encoder_learning_rate')}) | {clips} | {_time(record.get('vae_seconds'))} | `{command}` |",
        f"| transformer | every weight | {transformer.get('max_steps')} x {transformer.get('batch_size')} |"
        f" {transformer.get('learning_rate')} | {clips}, reference / prompt dropout"
        f" {transformer.get('reference_dropout')} / {transformer.get('prompt_dropout')} |"
        f" {_time(record.get('transformer_seconds'))} | (same) |",
    ]


def leg_row(number: int, leg: dict) -> str:
    """One `toy train --more` leg as a row of the recipe table, with the command that ran it."""
    options = ((f" --batch-size {leg['batch_size']}" if "batch_size" in leg else "")
               + (f" --scene-prompts {leg['scene_prompt_share']:g}" if leg.get("scene_prompt_share") else "")
               + (f" --aligned-references {leg['aligned_reference_share']:g}" if leg.get("aligned_reference_share")
                  else "")
               + (f" --travel {leg['travel_share']:g}" if leg.get("travel_share") else "")
               + (f" --reference-tokens {leg['reference_token_share']:g}" if leg.get("reference_token_share") else "")
               + (" --next-word-text" if leg.get("next_word_text") else ""))
    return (f"| leg {number} | every weight | {leg['steps']} x {leg.get('batch_size', 4)} | {leg['learning_rate']} |"
            f" {leg['clips']} clips | {_time(leg.get('seconds'))} | `toy train{_from_shipped(leg)} --more {leg['steps']}"
            f" --clips {leg['clips']} --learning-rate {leg['learning_rate']}{options}` |")


def decoder_leg_row(number: int, leg: dict) -> str:
    noise = f" --decoder-noise {leg['latent_noise']:g}" if leg.get("latent_noise") else ""
    return (f"| decoder leg {number} | VAE decoder | {leg['steps']} | {leg['learning_rate']} | the clips' latents"
            f" | {_time(leg.get('seconds'))} | `toy train{_from_shipped(leg)} --decoder-more {leg['steps']}"
            f" --learning-rate {leg['learning_rate']}{noise}` |")


def encoder_leg_row(number: int, leg: dict) -> str:
    return (f"| encoder leg {number} | whole VAE, half on pose videos | {leg['steps']} | {leg['learning_rate']}"
            f" (encoder {leg['encoder_learning_rate']}) | clips and pose videos | {_time(leg.get('seconds'))} |"
            f" `toy train{_from_shipped(leg)} --encoder-more {leg['steps']} --learning-rate {leg['learning_rate']}` |")


def widen_leg_row(number: int, leg: dict) -> str:
    before = leg.get("round_trip_before", {}).get("colour_match")
    after = leg.get("round_trip_after", {}).get("colour_match")
    kept = f"; part colours through the VAE {before:.2f} -> {after:.2f}" if before is not None and after else ""
    grows = leg.get("from_channels", 0) < leg["channels"]
    what = (f"whole VAE to {leg['channels']} latent channels, the old ones held; the transformer widened, new"
            f" channels zero" if grows else
            f"whole VAE at {leg['channels']} latent channels, the first {leg['anchored_channels']} held, the rest"
            f" free")
    return (f"| widen leg {number} | {what} | {leg['steps']} | {leg['learning_rate']} | crops on the figure"
            f"{kept} | {_time(leg.get('seconds'))} | `toy train{_from_shipped(leg)} --widen-latent {leg['steps']}"
            f" --latent-channels {leg['channels']}` |")


def reference_leg_row(number: int, leg: dict) -> str:
    return (f"| reference leg {number} | reference encoder only | {leg['steps']} x {leg['batch_size']} |"
            f" {leg['learning_rate']} | {leg['references']} references; target: the text encoder's words for their"
            f" clothes | {_time(leg.get('seconds'))} | `toy train{_from_shipped(leg)} --reference-encoder"
            f" {leg['steps']}` |")


def recipe_rows(record: dict, command: str) -> list[str]:
    """Every stage in the order it ran: the first run, then the legs, each VAE leg placed by the transformer
    leg it followed (decoder legs) or came before (encoder and widen legs)."""
    ordered: list[tuple[float, str]] = []
    for number, leg in enumerate(record.get("legs", []), start=1):
        ordered.append((number, leg_row(number, leg)))
    for number, leg in enumerate(record.get("decoder_legs", []), start=1):
        ordered.append((leg.get("after_leg", len(record.get("legs", []))) + 0.5, decoder_leg_row(number, leg)))
    for number, leg in enumerate(record.get("encoder_legs", []), start=1):
        ordered.append((leg.get("before_leg", 1) - 0.5, encoder_leg_row(number, leg)))
    for number, leg in enumerate(record.get("widen_legs", []), start=1):
        ordered.append((leg.get("before_leg", 1) - 0.2, widen_leg_row(number, leg)))  # after a reference leg
    for number, leg in enumerate(record.get("reference_legs", []), start=1):
        ordered.append((leg.get("after_leg", len(record.get("legs", []))) + 0.75, reference_leg_row(number, leg)))
    return first_run_rows(record, command) + [row for _, row in sorted(ordered, key=lambda item: item[0])]


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


def evaluation_rows(record: dict, report: dict | None) -> list[str]:
    summary = (report or {}).get("summary", {})

    def number(name, fmt="{:.3f}"):
        value = summary.get(name)
        if value is None:
            return "not measured"
        return ", ".join(fmt.format(v) for v in value) if isinstance(value, list) else fmt.format(value)

    vae_alone = "the true clips through the VAE alone"
    return [
        "| measure | target | reached |",
        "|---|---|---|",
        f"| VAE reconstruction PSNR | >= 30 dB | {record.get('vae_psnr_db', 'not measured')} dB |",
        f"| {vae_alone}: figure pixels on the true silhouette | | {number('vae_silhouette_precision')} |",
        f"| {vae_alone}: part colours matching | | {number('vae_colour_match')} |",
        f"| their pose videos through the VAE alone: bone pixels given back in their colour | |"
        f" {number('vae_pose_bones_kept')} |",
        f"| figure pixels on the true silhouette | >= 0.80 | {number('silhouette_precision')} |",
        f"| true silhouette covered | | {number('silhouette_recall')} |",
        f"| figure pixels on the true silhouette, against the background the model drew | >= 0.80 |"
        f" {number('placement_precision')} |",
        f"| part colours matching the reference (limb-frames) | >= 0.80 | {number('colour_match')} |",
        f"| identity{_clips_note(report, 'identity')}, a prompt naming no clothes: clothes in the colours of the"
        f" reference given | >= 0.80 | {number('identity_own_reference')} |",
        f"| ... in the colours of the other reference (the same figure in another costume) | < 0.20 |"
        f" {number('identity_other_reference')} |",
        f"| recoloured reference, the prompt naming the old clothes: clothes in the new colours | |"
        f" {number('recolour_follows_new_reference')} |",
        f"| ... still in the old colours | | {number('recolour_keeps_old_colours')} |",
        f"| same reference, prompt naming new clothes: clothes in the new colours | |"
        f" {number('recoloured_prompt_moves_colours')} |",
        f"| backgrounds matching the prompt | 1.0 | {number('background_within_threshold')} |",
        f"| ... when the prompt names only the action and the floor | 1.0 |"
        f" {number('scene_prompt_background_within_threshold')} |",
        f"| guidance 1 / 3 / 5 / 7.5: clothes in the prompt's colours rise{_clips_note(report, 'guidance')} | yes |"
        f" {summary.get('guidance_monotone')}{_guidance_values(report)} |",
        f"| steps 2 / 4 / 8 / 20: PSNR{_clips_note(report, 'steps')} | rises, flattens |"
        f" {number('steps_psnr', '{:.1f}')} |",
        f"| ... figure pixels on the true silhouette | rises, flattens | {number('steps_silhouette_precision')} |",
        f"| ... part colours matching the reference | rises, flattens | {number('steps_colour_match')} |",
        f"| change where a latent frame begins / elsewhere (no pulse) | <= 1.5 | {number('latent_seam_ratio', '{:.2f}')} |",
        f"| seeds 1 vs 2: mean pixel difference | > 0 | {number('seeds_mean_abs_difference', '{:.1f}')} |",
        f"| unseen stick-figure walk: figure speed / skeleton speed | 0.8-1.2 |"
        f" {number('unseen_walk_speed_ratio', '{:.2f}')} |",
        f"| one default generation (10 steps), this CPU | <= 8 s | {number('seconds_per_generation', '{:.1f}')} s |",
    ]


def render_card(record: dict, report: dict | None, command: str) -> str:
    """The model card in Hugging Face's form: metadata, what it is, how to use it, how it was made (one table),
    how it scores (one table, from eval.json), and its limits (short, hand-written in toy_run.json)."""
    thresholds = (report or {}).get("thresholds", {})
    lines = [
        "---",
        "license: apache-2.0",
        "library_name: diffusers",
        "pipeline_tag: image-to-video",
        "tags: [wan, vace, pose, toy, education]",
        "---",
        "",
        "# VACE Lab toy model",
        "",
        "A small WanVACE pipeline made of the real diffusers classes (`AutoencoderKLWan`, `WanVACETransformer3DModel`,",
        "`UMT5EncoderModel` with a word-level tokenizer), trained from scratch in VACE Lab on its puppet world",
        f"(`engine/toy/world.py`, world version {record.get('world_version', world.WORLD_VERSION)}). It makes 17-frame",
        "224x128 videos at 16 fps of a puppet on a pose skeleton, and knows nothing outside that world. It exists so",
        "that a student on a CPU sees what guidance, steps, prompts and LoRAs do, in seconds.",
        "",
        "## Model details",
        "",
        "| | |",
        "|---|---|",
        "| pipeline | diffusers `WanVACEPipeline` |",
        "| size | 224x128, 17 frames, 16 fps |",
        "| VAE | Wan's `AutoencoderKLWan`, compressing 4x in space (Wan's: 8x) and 4x in time, to"
        f" {record.get('recipe', {}).get('latent_channels', 16)} latent channels |",
        "| transformer | `WanVACETransformer3DModel` on 4x4 patches of latents (Wan's: 2x2): Wan's token count |",
        "| text encoder | a small random `UMT5EncoderModel`, frozen; each word's vector mixed with its neighbour's |",
        *(["| reference encoder | `reference_encoder/`: the reference image as 10 tokens beside the prompt's in the"
           " cross-attention (`engine/reference_tokens.py`), fitted to say what the clothes' words say |"]
          if record.get("reference_legs") else []),
        "| weights | float16 safetensors, loaded as float32 on a CPU |",
        "| made on | the project's CPU machine (2 cores), no GPU |",
        "",
        "The 4x VAE keeps the puppet's 2-4 pixel limbs and the pose video's 2-pixel bones, which Wan's 8x lost.",
        "",
        "## How to use",
        "",
        "In the lab (`./lab start` loads it when there is no GPU), or from the command line:",
        "",
        "    python -m experiments generate --model toy --control assets/toy-sample/pose.mp4 \\",
        "        --reference assets/toy-sample/reference.png --prompt \"$(cat assets/toy-sample/prompt.txt)\" --out out",
        "",
        "or from Python, through the lab's engine (it loads the pipeline with diffusers' `from_pretrained`):",
        "",
        "    from engine.engine import Engine",
        "    engine = Engine.from_name(\"toy\")",
        "    request = engine.default_request(control_video=\"pose.mp4\", reference=\"me.png\", prompt=\"...\")",
        "    result = engine.generate(request, out_dir=\"out\")  # out/video.mp4 and out/manifest.json",
        "",
        "## How it was made",
        "",
        f"    {command}",
        "",
        "re-creates the first run; each later leg ran from the model before it, with the command in its row",
        "(`python -m experiments` before each). Held-out seeds start at 1,000,000 and no stage trained on them.",
        "The history of each leg is in `docs/toy-log.md`.",
        "",
        "| stage | trains | steps x batch | learning rate | data | time | command |",
        "|---|---|---|---|---|---|---|",
        *recipe_rows(record, command),
        "",
        "![loss curves](loss_curves.png)",
        "",
        "## Evaluation",
        "",
        "On held-out seeds, with `python -m experiments toy eval --json assets/toy/eval.json`.",
        f"Colours match under an RGB distance of {thresholds.get('colour_distance', '?')}; figure pixels are those",
        f"over {thresholds.get('figure_distance', '?')} from the true background, on the silhouette grown by",
        f"{thresholds.get('tolerance_px', '?')} px.{_sampling_note(report)}",
        "",
        *evaluation_rows(record, report),
        "",
        f"Times are from {(report or {}).get('machine') or 'the machine that ran the eval'}, after a first"
        " generation that loads and warms the model.",
        "",
    ]
    if record.get("limits"):  # what these weights get wrong, short, hand-written in toy_run.json
        lines += ["## Limitations", ""] + [f"- {limit}" for limit in record["limits"]] + [""]
    return "\n".join(lines)


def write_card(folder: Path, record: dict, report: dict | None, command: str) -> Path:
    """README.md (and eval.json) for the shipped weights."""
    path = folder / "README.md"
    path.write_text(render_card(record, report, command))
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
