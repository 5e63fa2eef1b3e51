"""Scoring one generated clip against the toy world's known answer: where the figure is, its part colours,
the background, PSNR. engine/toy/factory/evaluate.py builds the toy's quality report from these; the sweep runner
adds toy_metrics to a sweep's cells whose control came from the toy world.

- silhouette precision: of the pixels the model changed from the known background (RGB distance over
  FIGURE_DISTANCE), the share that lie on the true figure grown by TOLERANCE_PX; recall the other way round.
  A background in the wrong colour makes every pixel "figure", so placement is also scored against the
  floor the model drew (the true floor's tones shifted to the generated mean colour away from the figure,
  and any colour between a pattern's two tones counted as floor): that separates "the figure is in the
  wrong place" from "the floor is the wrong colour or its stripes are blurred";
- part colours: at each scored limb's midpoint (and the torso's), in frames where that part is really
  visible there, the generated colour is within COLOUR_DISTANCE of the reference's colour for that part;
- background: the generated background's mean colour is within COLOUR_DISTANCE of the true one's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.metrics import MetricInfo
from engine.toy import world

FIGURE_DISTANCE = 60.0  # RGB distance from the true background above which a pixel counts as figure
TOLERANCE_PX = 2  # the true silhouette is grown by this much: edges blur at 4x latent compression
COLOUR_DISTANCE = 60.0  # RGB Euclidean distance (0-441) under which two colours count as the same
PATCH = 1  # colours are read as the median of a (2 * PATCH + 1)^2 patch


# What a sweep's cells on a toy clip add (toy_metrics), most telling first.
TOY_METRICS = {
    "toy_figure_f1": MetricInfo("figure F1", "the drawn figure against the true silhouette: F1 of its precision and "
                                "recall, against the floor the model drew (0: no figure, or all of it misplaced)",
                                headline=True),
    "toy_colour_match": MetricInfo("colours match", "limb-frames whose colour is the reference's for that part",
                                   headline=True),
    "toy_background_distance": MetricInfo("floor distance", "RGB distance of the drawn floor from the prompt's",
                                          better="lower", headline=True),
    "toy_psnr": MetricInfo("PSNR dB", "against the true clip; a blur scores well, so read it beside figure F1"),
}


@dataclass
class ClipScores:
    seed: int
    silhouette_precision: float
    silhouette_recall: float
    placement_precision: float  # silhouette precision against the background the model drew
    placement_recall: float  # the true silhouette covered by figure pixels found against that background
    colour_match: float
    background_distance: float
    psnr: float
    seam_ratio: float = float("nan")  # latent_seam_ratio: the change where a latent frame begins / elsewhere

    @property
    def figure_f1(self) -> float:
        """The figure found against the floor the model drew, scored both ways: 0 when there is no figure (no
        recall) or when all of it is misplaced (no precision); a precision alone rewards drawing little."""
        p, r = self.placement_precision, self.placement_recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0



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


def latent_seam_ratio(frames: np.ndarray, frames_per_latent: int = 4) -> float:
    """How much more the video changes where a new latent frame begins than elsewhere: the mean absolute change
    into frames 1, 5, 9, ... (Wan's VAE codes frame 0 alone, then 4 frames a latent) over the mean change into
    the other frames. 1: no pulse; the issue's bound is 1.5."""
    change = np.abs(np.diff(frames.astype(np.float32), axis=0)).mean(axis=(1, 2, 3))  # change[i]: into frame i+1
    into = np.arange(1, len(frames))
    seams = (into - 1) % frames_per_latent == 0
    if not seams.any() or seams.all():
        return float("nan")
    return float(change[seams].mean() / max(change[~seams].mean(), 1e-6))


def score_clip(frames: np.ndarray, sample: world.ToySample) -> ClipScores:
    precision, recall = silhouette_scores(frames, sample)
    placed = placement_mask(frames, sample.background, grow(sample.parts > 0, 3))
    placement_precision, placement_recall = silhouette_scores(frames, sample, placed)
    checks = part_colour_checks(frames, sample)
    return ClipScores(seed=sample.seed, silhouette_precision=precision, silhouette_recall=recall,
                      placement_precision=placement_precision, placement_recall=placement_recall,
                      colour_match=float(np.mean(checks)) if checks else float("nan"),
                      background_distance=background_distance(frames, sample), psnr=psnr(frames, sample.video),
                      seam_ratio=latent_seam_ratio(frames))


def toy_metrics(frames: np.ndarray, request) -> dict | None:
    """Ground-truth scores for a generation whose control is a toy clip (toy.json beside it) at the clip's own
    size, frame count and rate; None for any other control."""
    sample = world.read_sample_record(request.control_video)
    if sample is None or frames.shape != sample.video.shape or request.fps != sample.fps:
        return None
    scores = score_clip(frames, sample)
    return {"toy_figure_f1": scores.figure_f1, "toy_colour_match": scores.colour_match,
            "toy_background_distance": scores.background_distance, "toy_psnr": scores.psnr}

