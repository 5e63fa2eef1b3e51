"""The toy's scores, checked on answers we know: the true clip scores perfectly, and each score falls
when what it measures is wrong."""

import numpy as np
import pytest

from engine.toy.factory import evaluate
from engine.toy import scoring, world


def test_the_true_clip_scores_as_perfect():
    sample = world.make_sample(1_000_003)
    scores = scoring.score_clip(sample.video, sample)
    assert scores.silhouette_precision > 0.97 and scores.silhouette_recall > 0.97
    assert scores.colour_match > 0.97 and scores.background_distance < 3


def test_an_empty_scene_has_no_figure_and_a_wrong_background_is_far():
    sample = world.make_sample(1_000_004)
    empty = np.broadcast_to(sample.background, sample.video.shape).copy()
    assert scoring.silhouette_scores(empty, sample)[1] < 0.05
    grey = np.full_like(sample.video, 128)
    assert scoring.background_distance(grey, sample) > 30 or sample.look.background == "grey"


def test_a_figure_in_the_wrong_place_or_colours_scores_low():
    sample = world.make_sample(1_000_005)
    shifted = np.roll(sample.video, 40, axis=2)
    assert scoring.silhouette_scores(shifted, sample)[0] < 0.6
    other = world.recoloured(sample, evaluate.other_look(sample.look))
    checks = scoring.part_colour_checks(other.video, sample)
    assert np.mean(checks) < 0.7  # skin and hair still match; the costume does not


def test_placement_ignores_a_wrong_floor_colour_but_not_a_wrong_place():
    sample = world.make_sample(1_000_002)
    figure = (sample.parts > 0)[..., None]
    wrong_floor = np.where(figure, sample.video, sample.background.astype(np.int16) // 3 + 150).astype(np.uint8)
    scores = scoring.score_clip(wrong_floor, sample)
    assert scores.silhouette_precision < 0.3  # the recoloured floor counts as figure against the true one
    assert scores.placement_precision > 0.9  # ... but the figure is where the skeleton is
    shifted = scoring.score_clip(np.roll(wrong_floor, 40, axis=2), sample)
    assert shifted.placement_precision < 0.6


def test_the_headline_figure_score_ranks_a_clip_with_no_figure_last():
    """Precision alone rewarded drawing nothing (a sweep's figure-less cell read 0.75 'on silhouette'); F1
    needs the figure there and in place: the true clip, then half its figure, then none."""
    sample = world.make_sample(1_000_006)
    figure = (sample.parts > 0)[..., None]
    floor = np.broadcast_to(sample.background, sample.video.shape)
    half = np.where(figure & (np.arange(sample.video.shape[2]) < sample.video.shape[2] // 2)[None, None, :, None],
                    sample.video, floor).astype(np.uint8)
    ranked = [scoring.score_clip(frames, sample).figure_f1 for frames in (sample.video, half, floor.copy())]
    assert ranked[0] > ranked[1] > ranked[2] == 0.0
    assert "toy_figure_f1" in scoring.TOY_METRICS and scoring.TOY_METRICS["toy_figure_f1"].headline


def test_the_seam_ratio_sees_a_jump_where_each_latent_frame_begins():
    from engine.toy.scoring import latent_seam_ratio

    steady = np.cumsum(np.full((17, 4, 4, 3), 2.0), axis=0)
    assert latent_seam_ratio(steady.astype(np.uint8)) == pytest.approx(1.0)
    pulsing = np.zeros((17, 4, 4, 3))
    level = 0.0
    for frame in range(17):
        level += 9.0 if frame % 4 == 1 else 3.0
        pulsing[frame] = level
    assert latent_seam_ratio(pulsing.astype(np.uint8)) == pytest.approx(3.0)
