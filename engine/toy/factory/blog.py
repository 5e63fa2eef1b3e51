"""The blog in a box: its LoRA experiment, re-run on the toy model in minutes on a CPU.

The blog fine-tuned Wan-VACE on AIST++ (one studio, one dancer's outfit) and found the LoRA pulled every
generation toward that look. Here the narrow dataset is one costume on one background, captioned like the blog's
clips with the dancer and the dance but not the studio (engine/toy/dataset.py), the LoRAs are the blog's two
recipes at toy scale, and the drift is measured, not eyeballed:

    result = run_blog_in_a_box(engine, out_dir)   # `python -m experiments toy blog`

- drift: on held-out clips whose reference wears another costume, generated with prompts that name only the
  action and the floor, the share of limb-frames (top, trousers, shoes) whose generated colour is the training
  costume's rather than the reference's;
- costume position: on the same clips, where each limb-frame's clothes colour lies between the reference's
  costume (0) and the training one (1): the drift as a continuous value, for a figure too blurred to match either;
- studio drift: on the same clips (whose prompts name another background), where the generated background's
  colour lies between the prompt's (0) and the training floor's (1): the blog's studio bias;
- it is measured at LoRA strengths 0 -> 1.5 for each LoRA, so the sweep shows it grow.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.toy import world
from engine.toy.dataset import NARROW_LOOK, ensure_dataset
from engine.toy.world import heldout_seeds
from engine.toy.factory.evaluate import CLOTHING_PARTS, clothes_colours, generate, other_look
from engine.toy.scoring import background_distance, colour_distance, limb_colours, part_colour_checks

logger = logging.getLogger(__name__)

STRENGTHS = (0.0, 0.5, 1.0, 1.5)
CAPTION_WORDS = {"dancer": "captioned with the dancer's clothes and the dance but not the studio (as the blog's were)",
                 "action": "captioned with the dance alone (neither the clothes nor the studio)"}
BLOG_PRESET = "toy-blog"  # presets/train/toy-blog.yaml: the Train tab's recipe for the same experiment
# The blog's two runs at toy scale: (name, target, rank); the rest of the recipe is the toy-blog preset.
RECIPES = (("main-blocks-r32", "main_blocks", 32), ("self-attention-r8", "self_attention", 8))


@dataclass
class BlogResult:
    clips: int
    steps: int
    captions: str = "dancer"
    """How the narrow dataset was captioned (engine/toy/dataset.py NARROW_CAPTIONS)."""
    strengths: list = field(default_factory=lambda: list(STRENGTHS))
    drift: dict = field(default_factory=dict)
    """LoRA name -> drift toward the training costume at each strength."""
    reference_match: dict = field(default_factory=dict)
    """LoRA name -> share of limb-frames still in the reference's colours at each strength."""
    costume_position: dict = field(default_factory=dict)
    """LoRA name -> the clothes' colour from the reference's (0) to the training costume's (1) at each strength."""
    studio_drift: dict = field(default_factory=dict)
    """LoRA name -> the background's colour from the prompt's (0) to the training floor's (1) at each strength."""
    loras: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def off_costume(look: world.Look) -> world.Look:
    """The clip's own figure in clothes that share no colour with the narrow dataset's costume."""
    return other_look(look, avoid=NARROW_LOOK)


def held_out_prompt(sample: world.ToySample) -> str:
    """What the drift is measured with: the action and the floor, so the clothes can come only from the reference
    (and from what the LoRA learned), as VACE divides the work."""
    return world.scene_prompt(sample.look, sample.motion)


def off_costume_samples(count: int) -> list:
    """The held-out clips the drift is measured on: their own motion, a reference in another costume."""
    return [world.recoloured(sample, off_costume(sample.look))
            for sample in (world.make_sample(seed) for seed in heldout_seeds(count, start=500))]


def write_grid_sample(target: Path) -> Path:
    """The first of those clips as files (toy.json included, so a sweep on it gets the world's scores): the
    toy-blog-strength sweep preset draws the README's strength grid from it."""
    folder = Path(target) / "sample"
    sample = off_costume_samples(1)[0]
    world.write_sample(sample, folder)
    (folder / "prompt.txt").write_text(held_out_prompt(sample) + "\n")
    return folder


def drift_scores(frames: np.ndarray, sample: world.ToySample) -> tuple[float, float]:
    """(share of limb-frames in the training costume's colours, share in the reference's) for the clothes."""
    toward = part_colour_checks(frames, sample, clothes_colours(sample.look, NARROW_LOOK), parts=CLOTHING_PARTS)
    kept = part_colour_checks(frames, sample, parts=CLOTHING_PARTS)
    return (float(np.mean(toward)) if toward else float("nan"), float(np.mean(kept)) if kept else float("nan"))


def costume_position(frames: np.ndarray, sample: world.ToySample) -> float:
    """Where the generated clothes' colours lie between the reference's costume (0) and the training costume (1):
    d(reference) / (d(reference) + d(training)) at each visible clothing limb-frame, averaged. A blurred figure
    rarely comes within drift_scores' threshold of either costume; this still shows which way it leans."""
    reference, training = sample.look.part_colours(), NARROW_LOOK.part_colours()
    positions = []
    for _, part, colour in limb_colours(frames, sample, CLOTHING_PARTS):
        to_reference, to_training = colour_distance(colour, reference[part]), colour_distance(colour, training[part])
        positions.append(float(to_reference / max(to_reference + to_training, 1e-6)))
    return float(np.mean(positions)) if positions else float("nan")


def studio_drift(frames: np.ndarray, sample: world.ToySample) -> float:
    """Where the generated background's colour lies between the prompt's background (0) and the narrow dataset's
    floor (1): d(prompt) / (d(prompt) + d(floor)) for the mean colour away from the true figure. Mean colours,
    not pixels, so that stripes drawn a little off their places are not counted as drift. NaN when the clip's
    background is the floor's colour, where the two cannot be told apart."""
    if sample.look.background == NARROW_LOOK.background:
        return float("nan")
    floor = world.draw_background(NARROW_LOOK, *sample.background.shape[:2])
    to_prompt, to_floor = background_distance(frames, sample), background_distance(frames, sample, against=floor)
    return to_prompt / max(to_prompt + to_floor, 1e-6)


def train_config(target: str, rank: int, steps: int):
    from engine.train.config import TrainConfig

    return TrainConfig.from_preset(BLOG_PRESET).with_changes(target=target, rank=rank, lora_alpha=float(rank),
                                                              max_steps=steps, checkpoint_every=steps)


def train_blog_lora(model: str, data_dir: Path, out_dir: Path, target: str, rank: int, steps: int) -> Path:
    """One LoRA on the narrow dataset with the lab's trainer; returns its .safetensors file. The trainer loads
    its own copy of the model: a LoRA being trained on the generating engine's transformer would stay on it."""
    from engine.train.trainer import Trainer

    return Trainer(train_config(target, rank, steps), data_dir=data_dir, out_dir=out_dir, model=model).run()


def measure_drift(engine, lora: Path | None, samples: list, tmp: Path, strengths=STRENGTHS) -> tuple[list, ...]:
    """Mean (drift, reference match, costume position, studio drift) over the samples at each strength (without a
    LoRA: the base model), one list of each with a value per strength."""
    means = ([], [], [], [])
    for strength in strengths:
        scores = []
        for sample in samples:
            changes = dict(lora=str(lora), lora_scale=strength) if lora else {}
            frames = generate(engine, sample, tmp / f"blog-{sample.seed}", prompt=held_out_prompt(sample), **changes)
            scores.append((*drift_scores(frames, sample), costume_position(frames, sample),
                           studio_drift(frames, sample)))
        for column, values in zip(means, zip(*scores)):
            column.append(float(np.nanmean(values)))
    return means


def run_blog_in_a_box(engine, out_dir: str | Path, clips: int = 24, steps: int = 150, eval_clips: int = 3,
                      recipes=RECIPES, captions: str = "dancer") -> BlogResult:
    """Narrow dataset -> the blog's LoRAs -> drift at each strength on held-out clips in another costume."""
    out_dir = Path(out_dir)
    result = BlogResult(clips=clips, steps=steps, captions=captions)
    started = time.perf_counter()
    data_dir = out_dir / ("narrow-dataset" if captions == "dancer" else f"narrow-dataset-{captions}")
    ensure_dataset(data_dir, clips, narrow=True, captions=captions)
    result.seconds["dataset"] = round(time.perf_counter() - started, 1)
    samples = off_costume_samples(eval_clips)
    with tempfile.TemporaryDirectory() as tmp:
        # Strength 0 is the base model, the same for every LoRA: generated once.
        base_drift, base_match, base_position, base_studio = measure_drift(engine, None, samples, Path(tmp),
                                                                            strengths=STRENGTHS[:1])
        for name, target, rank in recipes:
            started = time.perf_counter()
            lora = train_blog_lora(engine.spec.name, data_dir, out_dir / name, target, rank, steps)
            result.seconds[f"train {name}"] = round(time.perf_counter() - started, 1)
            result.loras[name] = str(lora)
            started = time.perf_counter()
            drift, match, position, studio = measure_drift(engine, lora, samples, Path(tmp), strengths=STRENGTHS[1:])
            result.drift[name], result.reference_match[name] = base_drift + drift, base_match + match
            result.costume_position[name] = base_position + position
            result.studio_drift[name] = base_studio + studio
            result.seconds[f"sweep {name}"] = round(time.perf_counter() - started, 1)
            logger.info("%s: drift %s, studio drift %s at strengths %s", name, result.drift[name],
                        result.studio_drift[name], list(STRENGTHS))
    return result


def ship_blog_loras(result: BlogResult, command: str, target: Path | None = None) -> Path:
    """Copy the blog's LoRAs into assets/toy-blog (the blog presets' fallback LoRA) with a card and the numbers."""
    import json
    import shutil

    from engine.lora import training_prompt
    from engine.toy.family import TOY_BLOG_LORA

    target = Path(target or TOY_BLOG_LORA.parent)
    target.mkdir(parents=True, exist_ok=True)
    for name, path in result.loras.items():
        shutil.copy(path, target / f"{name}.safetensors")
        prompt = training_prompt(path)
        if prompt:  # LORA.txt: Generate shows it beside the LoRA
            (target / f"{name}.txt").write_text(prompt + "\n")
    (target / "blog.json").write_text(json.dumps(result.to_dict(), indent=2))
    write_grid_sample(target)
    strengths = " | ".join(f"{s:g}" for s in result.strengths)
    rows, kept, position, studio = (table_rows(result.drift), table_rows(result.reference_match),
                                    table_rows(result.costume_position), table_rows(result.studio_drift))
    rule = "|---|" + "---|" * len(result.strengths)
    lines = [
        "# The blog in a box: two LoRAs trained on the narrow toy dataset",
        "",
        "The blog's LoRA experiment at toy scale (engine/toy/factory/blog.py). Both LoRAs were trained by the lab's own",
        f"trainer on {result.clips} toy clips of one costume on one background, {CAPTION_WORDS[result.captions]},",
        f"{result.steps} steps each, on the shipped toy model (assets/toy), with presets/train/toy-blog.yaml:",
        "",
        f"    {command}",
        "",
        "- `main-blocks-r32.safetensors`: the blog's first run (rank 32 on the main blocks' attention and",
        "  feed-forward). The blog's sweep presets use it when no LoRA of your own is chosen.",
        "- `self-attention-r8.safetensors`: the blog's second run (rank 8 on self-attention only).",
        "",
        "Drift: on held-out clips whose reference wears another costume, with prompts that name only the action",
        "and the floor (the clothes come from the reference, or from what the LoRA learned), the share of",
        "limb-frames (top, trousers, shoes) generated in the training costume's colours, by LoRA strength:",
        "",
        f"| LoRA | {strengths} |", rule, *rows,
        "",
        "Still in the reference's colours (higher is better):",
        "",
        f"| LoRA | {strengths} |", rule, *kept,
        "",
        "Costume position: where the clothes' colours lie between the reference's costume (0) and the training",
        "costume (1), averaged over limb-frames (the drift for a figure too blurred to match either closely):",
        "",
        f"| LoRA | {strengths} |", rule, *position,
        "",
        "Studio drift: where the generated background's mean colour lies between the prompt's background (0)",
        "and the training floor's grey (1); the held-out prompts name other backgrounds:",
        "",
        f"| LoRA | {strengths} |", rule, *studio,
        "",
        "The grid: `python -m experiments sweep toy-blog-strength --model toy --out DIR` (grid.jpg here).",
        "",
        "Seconds on the machine that made them (a rerun in the same --out reuses its dataset and encodings): "
        + ", ".join(f"{k} {v:.0f}" for k, v in result.seconds.items()) + ".",
        "",
    ]
    (target / "README.md").write_text("\n".join(lines))
    return target


def table_rows(values_by_lora: dict) -> list[str]:
    return [f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |" for name, values in values_by_lora.items()]
