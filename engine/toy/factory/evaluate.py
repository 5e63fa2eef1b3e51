"""The toy model's quality report, measured on held-out world seeds, where every right answer is known.

    report = evaluate(engine, seeds=heldout_seeds(8))      # `python -m experiments toy eval` prints it

What it measures (thresholds are stated once, in engine/toy/scoring.py, and in the model card):
- each generated clip scored against the truth (engine/toy/scoring.py): silhouette precision and recall,
  placement against the floor the model drew, part colours at the limbs' midpoints, background, PSNR;
- recoloured reference: the same clip and prompt with another costume's reference: the clothes should follow
  the new reference; and the other way round (old reference, a prompt naming new clothes), to see which of
  the two the colours come from;
- background with a prompt that names only the action and the floor (world.scene_prompt), leaving the
  clothes to the reference;
- identity: with such a prompt, the same skeleton with references in two costumes: the clothes should match
  the reference given and not the other;
- guidance sweep: the top and trousers in the colours the prompt names, and the floor, at guidance 1 to 7.5;
- steps and seeds sweeps, and an unseen walk drawn by another renderer (engine/toy/factory/walk.py);
- the VAE alone (engine/toy/factory/round_trips.py): the true clips encoded and decoded, scored as generations are,
  the ceiling for the rest; and their pose videos, which reach the transformer only as the VAE encodes them;
- seconds for one default generation on this machine.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.toy import world
from engine.toy.world import heldout_seeds
from engine.toy.factory.round_trips import pose_round_trip, vae_round_trip
from engine.toy.scoring import (COLOUR_DISTANCE, FIGURE_DISTANCE, TOLERANCE_PX, background_distance,
                               part_colour_checks, score_clip)
from engine.toy.factory.walk import unseen_walk


@dataclass
class ToyReport:
    clips: list = field(default_factory=list)
    recolour: dict = field(default_factory=dict)
    scene_prompt: dict = field(default_factory=dict)
    identity: dict = field(default_factory=dict)
    guidance: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)
    seeds: dict = field(default_factory=dict)
    unseen_walk: dict = field(default_factory=dict)
    vae: dict = field(default_factory=dict)  # the true clips through the VAE alone: the decoder's ceiling
    seconds_per_generation: float = 0.0  # after the first generation, which loads and warms the model
    machine: str = ""
    sampling: dict = field(default_factory=dict)  # the model's default sampling settings every generation used
    thresholds: dict = field(default_factory=lambda: dict(
        figure_distance=FIGURE_DISTANCE, tolerance_px=TOLERANCE_PX, colour_distance=COLOUR_DISTANCE))

    def summary(self) -> dict:
        def mean(value) -> float:  # over the clips; nan for a report with none (numpy would warn)
            return float(np.mean([value(clip) for clip in self.clips])) if self.clips else float("nan")

        return {
            "silhouette_precision": mean(lambda clip: clip.silhouette_precision),
            "silhouette_recall": mean(lambda clip: clip.silhouette_recall),
            "placement_precision": mean(lambda clip: clip.placement_precision),
            "colour_match": mean(lambda clip: clip.colour_match),
            "background_within_threshold": mean(lambda clip: clip.background_distance < COLOUR_DISTANCE),
            "psnr_db": mean(lambda clip: clip.psnr),
            "latent_seam_ratio": mean(lambda clip: clip.seam_ratio),
            "scene_prompt_background_within_threshold": self.scene_prompt.get("background_within_threshold"),
            "scene_prompt_silhouette_precision": self.scene_prompt.get("silhouette_precision"),
            "identity_own_reference": self.identity.get("own_colour_match"),
            "identity_other_reference": self.identity.get("other_colour_match"),
            "recolour_follows_new_reference": self.recolour.get("reference_new_colour_match"),
            "recolour_keeps_old_colours": self.recolour.get("reference_old_colour_match"),
            "recoloured_prompt_moves_colours": self.recolour.get("prompt_new_colour_match"),
            "guidance_monotone": self.guidance.get("monotone"),
            "steps_psnr": self.steps.get("psnr"),
            "steps_silhouette_precision": self.steps.get("silhouette_precision"),
            "steps_colour_match": self.steps.get("colour_match"),
            "seeds_mean_abs_difference": self.seeds.get("mean_abs_difference"),
            "unseen_walk_speed_ratio": self.unseen_walk.get("speed_ratio"),
            "vae_silhouette_precision": self.vae.get("silhouette_precision"),
            "vae_colour_match": self.vae.get("colour_match"),
            "vae_pose_bones_kept": self.vae.get("pose_bones_kept"),
            "seconds_per_generation": self.seconds_per_generation,
        }

    def to_dict(self) -> dict:
        return {"summary": self.summary(), "clips": [asdict(c) for c in self.clips], "recolour": self.recolour,
                "scene_prompt": self.scene_prompt, "identity": self.identity,
                "guidance": self.guidance, "steps": self.steps, "seeds": self.seeds,
                "unseen_walk": self.unseen_walk, "vae": self.vae, "thresholds": self.thresholds, "machine": self.machine,
                "sampling": self.sampling}



def write_inputs(sample: world.ToySample, folder: Path) -> dict:
    """The clip's pose video, reference and prompt as files, as a student would give them."""
    from PIL import Image

    from engine import media

    folder.mkdir(parents=True, exist_ok=True)
    media.write_mp4(sample.pose_video, folder / "pose.mp4", sample.fps)
    Image.fromarray(sample.reference).save(folder / "reference.png")
    return dict(control_video=str(folder / "pose.mp4"), reference=str(folder / "reference.png"),
                prompt=sample.prompt, fps=sample.fps, num_frames=len(sample.video),
                height=sample.video.shape[1], width=sample.video.shape[2])


SAMPLING_FIELDS = ("num_inference_steps", "sampler", "flow_shift", "guidance_scale", "guidance_stop")


def sampling_settings(request) -> dict:
    """The settings that decide how a default generation samples, as the report records them."""
    return {name: getattr(request, name) for name in SAMPLING_FIELDS}


def heldout_inputs(folder: Path, count: int, num_frames: int = world.NUM_FRAMES) -> tuple[list, list]:
    """The first `count` held-out clips, and each one's inputs as files under `folder` (write_inputs)."""
    samples = [world.make_sample(seed, num_frames=num_frames) for seed in heldout_seeds(count)]
    return samples, [write_inputs(sample, Path(folder) / f"clip-{sample.seed}") for sample in samples]


def cache_inputs(engine, inputs: list[dict]):
    """One step of each input, untimed: the model is loaded and warm, and each clip's conditioning and prompts
    are cached, so the runs timed after it pay for none of them, as in a sweep."""
    for fields in inputs:
        engine.generate(engine.default_request(**fields, num_inference_steps=1))


def generate(engine, sample: world.ToySample, folder: Path, **changes) -> np.ndarray:
    request = engine.default_request(**{**write_inputs(sample, folder), **changes})
    return engine.generate(request).frames


# ---- the whole report ------------------------------------------------------------------------------------

def evaluate(engine, seeds: list[int] | None = None, quick: bool = False) -> ToyReport:
    from engine.records import device_label

    seeds = seeds or heldout_seeds(3 if quick else 8)
    report = ToyReport()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        samples = [world.make_sample(seed) for seed in seeds]
        outputs = [generate(engine, samples[0], tmp / f"clip-{samples[0].seed}")]  # also warms the model up
        started = time.perf_counter()
        outputs += [generate(engine, sample, tmp / f"clip-{sample.seed}") for sample in samples[1:]]
        report.seconds_per_generation = (time.perf_counter() - started) / max(1, len(samples) - 1)
        report.machine = device_label(engine.device)
        report.sampling = sampling_settings(engine.default_request(control_video=engine.sample_inputs()["control_video"]))
        report.clips = [score_clip(frames, sample) for frames, sample in zip(outputs, samples)]
        vae = engine.load().vae
        report.vae = {**vae_round_trip(vae, samples), **pose_round_trip(vae, samples)}
        report.recolour = recolour_check(engine, samples[: 2 if quick else 4], tmp)
        report.scene_prompt = scene_prompt_check(engine, samples, tmp)
        report.identity = identity_check(engine, samples[: 2 if quick else 4], tmp)
        report.guidance = guidance_sweep(engine, samples[: 1 if quick else 3], tmp, (1.0, 3.0, 5.0, 7.5))
        report.steps = steps_sweep(engine, samples[: 1 if quick else 3], tmp, (2, 4, 8, 20))
        report.seeds = seeds_check(engine, samples[0], tmp)
        report.unseen_walk = unseen_walk(engine, tmp)
    return report


CLOTHING_PARTS = ("top", "bottom", "shoes")  # the parts a costume change recolours


def other_look(look: world.Look, avoid: world.Look | None = None) -> world.Look:
    """The same figure in another costume: top, trousers and shoes in colours that `avoid`'s clothes (by
    default the figure's own) and the background do not use."""
    avoid = avoid or look
    used = {avoid.top, avoid.bottom_colour, avoid.shoes, look.background}
    spare = [c for c in world.CLOTHES if c not in used]
    return world.with_look(look, top=spare[0], bottom_colour=spare[1], shoes=spare[2])


def clothes_colours(look: world.Look, clothes_from: world.Look) -> dict:
    """`look`'s part colours with the clothes in `clothes_from`'s colours: what a figure that kept its
    skin and hair but drifted to another costume would show."""
    return {**look.part_colours(), **{part: colour for part, colour in clothes_from.part_colours().items()
                                      if part in CLOTHING_PARTS}}


def recolour_check(engine, samples: list, tmp: Path) -> dict:
    """Where the clothes' colours come from. Each clip is generated twice in another costume: once with only
    the reference recoloured (the prompt still names the old clothes), once with only the prompt naming the
    new clothes (the reference unchanged). Scored on the clothes (top, bottom, shoes), against the new costume's
    colours and the old one's."""
    scores = {"reference": ([], []), "prompt": ([], [])}
    for sample in samples:
        recoloured = world.recoloured(sample, other_look(sample.look))
        old = clothes_colours(recoloured.look, sample.look)
        for source, inputs, prompt in (("reference", recoloured, sample.prompt), ("prompt", sample, recoloured.prompt)):
            frames = generate(engine, inputs, tmp / f"recolour-{source}-{sample.seed}", prompt=prompt)
            scores[source][0].extend(part_colour_checks(frames, recoloured, parts=CLOTHING_PARTS))
            scores[source][1].extend(part_colour_checks(frames, recoloured, old, parts=CLOTHING_PARTS))
    mean = lambda values: float(np.mean(values)) if values else float("nan")  # noqa: E731
    return {f"{source}_{which}_colour_match": mean(values)
            for source, pair in scores.items() for which, values in zip(("new", "old"), pair)}


def identity_check(engine, samples: list, tmp: Path) -> dict:
    """Whether the figure takes its look from the reference. Each clip is generated twice with a prompt that
    names only the action and the floor: once with its own reference, once with the same figure in another
    costume. Scored on the clothes at the limbs' midpoints, against the reference given ("own") and the other
    one ("other"): a model that follows its reference scores high on own and low on other."""
    own, other = [], []
    for sample in samples:
        second = world.recoloured(sample, other_look(sample.look))
        prompt = world.scene_prompt(sample.look, sample.motion)
        for given, rival in ((sample, second), (second, sample)):
            frames = generate(engine, given, tmp / f"identity-{sample.seed}-{given.look.top}", prompt=prompt)
            own.extend(part_colour_checks(frames, given, parts=CLOTHING_PARTS))
            other.extend(part_colour_checks(frames, given, clothes_colours(given.look, rival.look),
                                            parts=CLOTHING_PARTS))
    mean = lambda values: float(np.mean(values)) if values else float("nan")  # noqa: E731
    return {"clips": [sample.seed for sample in samples], "own_colour_match": mean(own),
            "other_colour_match": mean(other)}


def scene_prompt_check(engine, samples: list, tmp: Path) -> dict:
    """The same clips with prompts that name only the action and the floor: the clothes come from the
    reference alone."""
    scores = [score_clip(generate(engine, sample, tmp / f"scene-{sample.seed}",
                                  prompt=world.scene_prompt(sample.look, sample.motion)), sample)
              for sample in samples]
    return {"background_within_threshold": float(np.mean([s.background_distance < COLOUR_DISTANCE for s in scores])),
            "background_distance": [s.background_distance for s in scores],
            "silhouette_precision": float(np.mean([s.silhouette_precision for s in scores])),
            "placement_precision": float(np.mean([s.placement_precision for s in scores])),
            "colour_match": float(np.mean([s.colour_match for s in scores]))}


PROMPTED_PARTS = ("top", "bottom")  # the parts whose colours every full prompt names


def guidance_sweep(engine, samples: list, tmp: Path, scales) -> dict:
    """Prompt adherence at each guidance scale, averaged over the clips: the top and trousers in the colours the
    prompt names (limb-frames), and the background's distance from the prompt's colour. Since the toy's text
    encoder tells a colour's role, the floor is right at guidance 1 already and moves little; the clothes still
    follow the words more with more guidance, so the monotone check reads them (within 0.02)."""
    clothes, distances = [], []
    for scale in scales:
        frames = [generate(engine, sample, tmp / "guidance", guidance_scale=scale) for sample in samples]
        clothes.append(float(np.mean([np.mean(part_colour_checks(f, s, parts=PROMPTED_PARTS) or [0.0])
                                      for f, s in zip(frames, samples)])))
        distances.append(float(np.mean([background_distance(f, s) for f, s in zip(frames, samples)])))
    return {"guidance_scale": list(scales), "clips": [sample.seed for sample in samples],
            "prompted_clothes_match": clothes, "background_distance": distances,
            "monotone": bool(np.all(np.diff(clothes) >= -0.02))}


def steps_sweep(engine, samples: list, tmp: Path, steps) -> dict:
    """Quality at each number of sampling steps, averaged over the clips: PSNR against the true clip, and the
    figure's placement and part colours (PSNR alone rewards a blur: a few steps give a soft average of what
    the clip could be, more steps commit to one sharp guess, right or not)."""
    scores = [[score_clip(generate(engine, sample, tmp / "steps", num_inference_steps=n), sample) for sample in samples]
              for n in steps]
    mean = lambda name: [float(np.nanmean([getattr(s, name) for s in row])) for row in scores]  # noqa: E731
    return {"num_inference_steps": list(steps), "clips": [sample.seed for sample in samples], "psnr": mean("psnr"),
            "silhouette_precision": mean("silhouette_precision"), "placement_precision": mean("placement_precision"),
            "colour_match": mean("colour_match")}


def seeds_check(engine, sample: world.ToySample, tmp: Path) -> dict:
    a = generate(engine, sample, tmp / "seeds", seed=1).astype(np.float32)
    b = generate(engine, sample, tmp / "seeds", seed=2).astype(np.float32)
    return {"mean_abs_difference": float(np.abs(a - b).mean())}
