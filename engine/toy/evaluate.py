"""The toy model's quality, measured on held-out world seeds, where every right answer is known.

    report = evaluate(engine, seeds=heldout_seeds(8))      # `python -m experiments toy eval` prints it

Scores (thresholds are stated once, here, and in the model card):
- silhouette precision: of the pixels the model changed from the known background (RGB distance over
  FIGURE_DISTANCE), the share that lie on the true figure grown by TOLERANCE_PX; recall the other way round.
  A background in the wrong colour makes every pixel "figure", so placement is also scored against the
  floor the model drew (the true floor's tones shifted to the generated mean colour away from the figure,
  and any colour between a pattern's two tones counted as floor): that separates "the figure is in the
  wrong place" from "the floor is the wrong colour or its stripes are blurred";
- part colours: at each scored limb's midpoint (and the torso's), in frames where that part is really
  visible there, the generated colour is within COLOUR_DISTANCE of the reference's colour for that part;
- recoloured reference: the same clip and prompt with another costume's reference: the clothes should follow
  the new reference; and the other way round (old reference, a prompt naming new clothes), to see which of
  the two the colours come from;
- background: the generated background's mean colour is within COLOUR_DISTANCE of the prompt's; also with a
  prompt that names only the action and the floor (world.scene_prompt), leaving the clothes to the reference;
- guidance sweep: the top and trousers in the colours the prompt names, and the floor, at guidance 1 to 7.5;
- steps and seeds sweeps, and an unseen walk drawn by another renderer (figure speed / skeleton speed);
- the VAE alone: the true clips encoded and decoded, scored as generations are, the ceiling for the rest;
  and their pose videos, which reach the transformer only as the VAE encodes them: the share of bone pixels
  that come back within COLOUR_DISTANCE of their colour (a limb the VAE loses is one no model can follow);
- seconds for one default generation on this machine.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.toy import world
from engine.toy.model import HELDOUT_SEED_START

FIGURE_DISTANCE = 60.0  # RGB distance from the true background above which a pixel counts as figure
TOLERANCE_PX = 2  # the true silhouette is grown by this much: edges blur at 4x latent compression
COLOUR_DISTANCE = 60.0  # RGB Euclidean distance (0-441) under which two colours count as the same
PATCH = 1  # colours are read as the median of a (2 * PATCH + 1)^2 patch


def heldout_seeds(count: int, start: int = 0) -> list[int]:
    return [HELDOUT_SEED_START + start + index for index in range(count)]


@dataclass
class ClipScores:
    seed: int
    silhouette_precision: float
    silhouette_recall: float
    placement_precision: float  # silhouette precision against the background the model drew
    colour_match: float
    background_distance: float
    psnr: float


@dataclass
class ToyReport:
    clips: list = field(default_factory=list)
    recolour: dict = field(default_factory=dict)
    scene_prompt: dict = field(default_factory=dict)
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
        mean = lambda name: float(np.mean([getattr(c, name) for c in self.clips])) if self.clips else float("nan")  # noqa: E731
        return {
            "silhouette_precision": mean("silhouette_precision"),
            "silhouette_recall": mean("silhouette_recall"),
            "placement_precision": mean("placement_precision"),
            "colour_match": mean("colour_match"),
            "background_within_threshold": float(np.mean([c.background_distance < COLOUR_DISTANCE for c in self.clips])),
            "psnr_db": mean("psnr"),
            "scene_prompt_background_within_threshold": self.scene_prompt.get("background_within_threshold"),
            "scene_prompt_silhouette_precision": self.scene_prompt.get("silhouette_precision"),
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
                "scene_prompt": self.scene_prompt,
                "guidance": self.guidance, "steps": self.steps, "seeds": self.seeds,
                "unseen_walk": self.unseen_walk, "vae": self.vae, "thresholds": self.thresholds, "machine": self.machine,
                "sampling": self.sampling}


# ---- scoring one generated clip ------------------------------------------------------------------------

def colour_distance(a, b) -> np.ndarray:
    return np.linalg.norm(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32), axis=-1)


def figure_mask(frames: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Pixels the model drew something other than the known background on: bool [T, H, W]."""
    return colour_distance(frames, background[None]) > FIGURE_DISTANCE


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    import cv2

    kernel = np.ones((2 * pixels + 1, 2 * pixels + 1), np.uint8)
    return np.stack([cv2.dilate(m.astype(np.uint8), kernel) > 0 for m in mask])


def drawn_tones(frames: np.ndarray, background: np.ndarray, figure_region: np.ndarray) -> np.ndarray:
    """The floor's colours as the model drew them: the true floor's one or two tones, shifted by the mean
    colour difference between generated and true pixels outside `figure_region` (bool [T, H, W]). A blue
    floor drawn for a grey one moves its tones to blue. [K, 3] float, K = 1 (plain) or 2 (a pattern)."""
    tones = np.unique(background.reshape(-1, 3), axis=0).astype(np.float32)
    away = ~figure_region
    if away.any():
        tones += frames[away].astype(np.float32).mean(axis=0) - background[away[0]].astype(np.float32).mean(axis=0)
    return np.clip(tones, 0, 255)


def distance_to_tones(frames: np.ndarray, tones: np.ndarray) -> np.ndarray:
    """Each pixel's RGB distance to the nearest colour between the floor's tones (on the segment joining two),
    so a stripe drawn blurred or a little off its place reads as floor, not figure."""
    pixels = frames.astype(np.float32)
    if len(tones) == 1:
        return colour_distance(pixels, tones[0])
    a, b = tones[0], tones[-1]
    along = np.clip(((pixels - a) @ (b - a)) / max(float((b - a) @ (b - a)), 1e-6), 0.0, 1.0)
    return colour_distance(pixels, a + along[..., None] * (b - a))


def placement_mask(frames: np.ndarray, background: np.ndarray, figure_region: np.ndarray) -> np.ndarray:
    """Figure pixels found against the floor the model drew rather than the true one: bool [T, H, W]."""
    return distance_to_tones(frames, drawn_tones(frames, background, figure_region)) > FIGURE_DISTANCE


def silhouette_scores(frames: np.ndarray, sample: world.ToySample,
                      drawn: np.ndarray | None = None) -> tuple[float, float]:
    """(precision, recall) of the drawn figure against the true silhouette; the figure is `drawn` (bool
    [T, H, W]) or, by default, every pixel far from the true background."""
    drawn = figure_mask(frames, sample.background) if drawn is None else drawn
    truth = sample.parts > 0
    precision = float((drawn & grow(truth, TOLERANCE_PX)).sum() / max(1, drawn.sum()))
    recall = float((truth & grow(drawn, TOLERANCE_PX)).sum() / max(1, truth.sum()))
    return precision, recall


def read_colour(frame: np.ndarray, x: float, y: float) -> np.ndarray:
    h, w = frame.shape[:2]
    xi, yi = int(round(x)), int(round(y))
    patch = frame[max(0, yi - PATCH):min(h, yi + PATCH + 1), max(0, xi - PATCH):min(w, xi + PATCH + 1)]
    return np.median(patch.reshape(-1, 3), axis=0)


def visible_segments(sample: world.ToySample):
    """(frame, part, x, y) for each scored segment whose midpoint really shows that part in that frame."""
    for t, points in enumerate(sample.keypoints):
        for _, a, b, part in world.scored_segments(sample.look):
            end = (points[world.R_HIP, :2] + points[world.L_HIP, :2]) / 2 if b == -1 else points[b, :2]
            x, y = (points[a, :2] + end) / 2
            xi, yi = int(round(x)), int(round(y))
            if 0 <= xi < sample.parts.shape[2] and 0 <= yi < sample.parts.shape[1] and \
                    sample.parts[t, yi, xi] == world.PART_INDEX[part]:  # not covered by another part
                yield t, part, x, y


def limb_colours(frames: np.ndarray, sample: world.ToySample, parts: tuple | None = None):
    """(frame, part, the generated colour there) at each visible scored segment of `parts` (default all)."""
    for t, part, x, y in visible_segments(sample):
        if parts is None or part in parts:
            yield t, part, read_colour(frames[t], x, y)


def part_colour_checks(frames: np.ndarray, sample: world.ToySample, colours: dict | None = None,
                       parts: tuple | None = None) -> list[bool]:
    """For each visible scored segment (of `parts`, default all): is the generated colour the expected one?"""
    colours = colours or sample.look.part_colours()
    return [bool(colour_distance(colour, colours[part]) < COLOUR_DISTANCE)
            for _, part, colour in limb_colours(frames, sample, parts)]


def background_distance(frames: np.ndarray, sample: world.ToySample, against: np.ndarray | None = None) -> float:
    """Distance between the mean colour of the generated background (away from the figure) and that of the
    true one, or of another background image `against` over the same pixels."""
    away = ~grow(sample.parts > 0, 3)
    background = sample.background if against is None else against
    return float(colour_distance(frames[away].mean(axis=0), background[away[0]].mean(axis=0)))


def psnr(frames: np.ndarray, truth: np.ndarray) -> float:
    mse = float(((frames.astype(np.float64) - truth.astype(np.float64)) ** 2).mean())
    return 10 * math.log10(255.0 ** 2 / max(mse, 1e-10))


def score_clip(frames: np.ndarray, sample: world.ToySample) -> ClipScores:
    precision, recall = silhouette_scores(frames, sample)
    placed = placement_mask(frames, sample.background, grow(sample.parts > 0, 3))
    checks = part_colour_checks(frames, sample)
    return ClipScores(seed=sample.seed, silhouette_precision=precision, silhouette_recall=recall,
                      placement_precision=silhouette_scores(frames, sample, placed)[0],
                      colour_match=float(np.mean(checks)) if checks else float("nan"),
                      background_distance=background_distance(frames, sample), psnr=psnr(frames, sample.video))


def toy_metrics(frames: np.ndarray, request) -> dict | None:
    """Ground-truth scores for a generation whose control is a toy clip (toy.json beside it) at the clip's own
    size, frame count and rate; None for any other control."""
    sample = world.read_sample_record(request.control_video)
    if sample is None or frames.shape != sample.video.shape or request.fps != sample.fps:
        return None
    scores = score_clip(frames, sample)
    return {"toy_silhouette_precision": scores.silhouette_precision, "toy_colour_match": scores.colour_match,
            "toy_background_distance": scores.background_distance, "toy_psnr": scores.psnr}


def vae_round_trip(vae, samples: list) -> dict:
    """The true clips through the VAE alone (encode, decode), scored as generations are: the ceiling the
    transformer's scores live under, since every toy generation leaves through this decoder. Part colours are
    also given frame by frame (the first frame has a latent of its own and comes back best)."""
    scores, by_frame = [], [[] for _ in range(max(len(sample.video) for sample in samples))]
    for sample in samples:
        frames = decode_round_trip(vae, sample.video)
        scores.append(score_clip(frames, sample))
        colours = sample.look.part_colours()
        for t, part, colour in limb_colours(frames, sample):
            by_frame[t].append(bool(colour_distance(colour, colours[part]) < COLOUR_DISTANCE))
    mean = lambda name: float(np.mean([getattr(score, name) for score in scores]))  # noqa: E731
    return {"silhouette_precision": mean("silhouette_precision"), "colour_match": mean("colour_match"),
            "psnr": mean("psnr"), "colour_match_by_frame": [round(float(np.mean(f)), 3) if f else None for f in by_frame]}


def decode_round_trip(vae, frames: np.ndarray) -> np.ndarray:
    """uint8 frames [T, H, W, 3] encoded (the latents' mode, as the pipeline encodes) and decoded again."""
    import torch

    from engine.toy.vae_training import to_tensor

    with torch.no_grad():
        latents = vae.encode(to_tensor(frames).to(vae.device, vae.dtype)).latent_dist.mode()
        decoded = vae.decode(latents).sample[0].float().cpu()
    return ((decoded.permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def bones_kept(decoded: np.ndarray, pose_video: np.ndarray) -> list[float]:
    """Per frame, the share of a pose video's bone and joint pixels that `decoded` gives back within
    COLOUR_DISTANCE of their colour (each limb has its own OpenPose colour, so a smeared limb fails)."""
    bones = (pose_video > 20).any(axis=-1)
    kept = bones & (colour_distance(decoded, pose_video) < COLOUR_DISTANCE)
    return [float(k.sum() / max(1, b.sum())) for k, b in zip(kept, bones)]


def pose_round_trip(vae, samples: list) -> dict:
    """The pose videos through the VAE alone. The control reaches the transformer only as these latents, so
    this is what the skeleton can tell it: frame 0 has a latent of its own, later frames share one per four."""
    by_clip = np.array([bones_kept(decode_round_trip(vae, sample.pose_video), sample.pose_video) for sample in samples])
    return {"pose_bones_kept": float(by_clip.mean()),
            "pose_bones_kept_by_frame": [round(float(v), 3) for v in by_clip.mean(axis=0)]}


def round_trip_text(measured: dict) -> str:
    """vae_round_trip's scores in words, for logs and the model card."""
    return (f"silhouette precision {measured['silhouette_precision']:.3f}, part colours {measured['colour_match']:.3f},"
            f" PSNR {measured['psnr']:.2f} dB")


# ---- generating --------------------------------------------------------------------------------------

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
    from engine.toy.build import device_label

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
        report.vae = {**vae_round_trip(engine.load().vae, samples), **pose_round_trip(engine.load().vae, samples)}
        report.recolour = recolour_check(engine, samples[: 2 if quick else 4], tmp)
        report.scene_prompt = scene_prompt_check(engine, samples, tmp)
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


def walk_keypoints(num_frames: int = world.NUM_FRAMES, speed: float = 4.0, start: float = 40.0) -> np.ndarray:
    """[T, 18, 3] keypoints of a walk across the frame, from keyframes of our own (not the world's motion
    library): hips move `speed` pixels a frame from x = `start`."""
    frames = []
    for t in range(num_frames):
        x0 = start + speed * t
        swing = 12 * math.sin(t * 0.7)
        p = {1: (x0, 40), 0: (x0 + 2, 28), 14: (x0 + 4, 26), 15: (x0 - 1, 26), 16: (x0 + 5, 28), 17: (x0 - 3, 28),
             2: (x0 - 3, 42), 5: (x0 + 3, 42), 3: (x0 - 3 - swing / 2, 58), 6: (x0 + 3 + swing / 2, 58),
             4: (x0 - 2 - swing, 72), 7: (x0 + 2 + swing, 72), 8: (x0 - 2, 76), 11: (x0 + 2, 76),
             9: (x0 - 2 + swing, 96), 12: (x0 + 2 - swing, 96), 10: (x0 - 2 + 1.5 * swing, 117),
             13: (x0 + 2 - 1.5 * swing, 117)}
        frames.append([[*p[joint], 1.0] for joint in range(18)])
    return np.array(frames, dtype=np.float32)


def hip_x(keypoints: np.ndarray) -> np.ndarray:
    return keypoints[:, [world.R_HIP, world.L_HIP], 0].mean(axis=1)


def stick_walk(num_frames: int = world.NUM_FRAMES, height: int = world.HEIGHT, width: int = world.WIDTH,
               speed: float = 4.0, start: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """The walk drawn as plain 2-pixel sticks in OpenPose colours by cv2 (not the lab's renderer):
    (pose video, hip x per frame)."""
    import cv2

    from engine.pose.render import BODY_COLOURS, BODY_LIMBS

    keypoints = walk_keypoints(num_frames, speed, start)
    video = np.zeros((num_frames, height, width, 3), np.uint8)
    for canvas, points in zip(video, keypoints):
        for index, (a, b) in enumerate(BODY_LIMBS):
            cv2.line(canvas, tuple(int(v) for v in points[a, :2]), tuple(int(v) for v in points[b, :2]),
                     BODY_COLOURS[index], 2)
    return video, hip_x(keypoints)


def figure_speed(frames: np.ndarray, background: np.ndarray, pose_video: np.ndarray) -> float | None:
    """Pixels a frame the drawn figure's centre moves, or None if no figure is found. Figure pixels are found
    against the background the model drew (measured away from the skeleton), so that a floor in the wrong
    colour does not count as figure everywhere and pin the centre to the middle of the frame."""
    drawn = placement_mask(frames, background, grow(pose_video.max(axis=-1) > 0, 12))
    centres = np.array([np.nonzero(mask)[1].mean() if mask.any() else np.nan for mask in drawn])
    valid = ~np.isnan(centres)
    if valid.sum() < 3:
        return None
    return float(np.polyfit(np.arange(len(frames))[valid], centres[valid], 1)[0])


def generate_walk(engine, tmp: Path, video: np.ndarray) -> tuple[np.ndarray, world.ToySample]:
    """Generate over a walk's pose video, with a held-out clip's reference and prompt: (frames, that clip)."""
    from PIL import Image

    from engine import media

    sample = world.make_sample(HELDOUT_SEED_START + 999)
    folder = tmp / "walk"
    folder.mkdir(parents=True, exist_ok=True)
    media.write_mp4(video, folder / "pose.mp4", world.FPS)
    Image.fromarray(sample.reference).save(folder / "reference.png")
    request = engine.default_request(control_video=str(folder / "pose.mp4"), reference=str(folder / "reference.png"),
                                     prompt=sample.prompt, num_frames=len(video), height=world.HEIGHT,
                                     width=world.WIDTH, fps=world.FPS)
    return engine.generate(request).frames, sample


def walk_speeds(frames: np.ndarray, sample: world.ToySample, video: np.ndarray, hips: np.ndarray) -> dict:
    speed = figure_speed(frames, sample.background, video)
    if speed is None:
        return {"speed_ratio": None, "note": "no figure found"}
    skeleton_speed = float(np.polyfit(np.arange(len(hips)), hips, 1)[0])
    return {"speed_ratio": speed / skeleton_speed, "figure_px_per_frame": speed,
            "skeleton_px_per_frame": skeleton_speed}


def unseen_walk(engine, tmp: Path) -> dict:
    """Does the figure follow a skeleton the model never saw (the cv2 stick walk), at the right speed?"""
    video, hips = stick_walk()
    frames, sample = generate_walk(engine, tmp, video)
    return walk_speeds(frames, sample, video, hips)
