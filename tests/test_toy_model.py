"""The shipped toy model (assets/toy), loaded as `--model toy` and run on held-out world seeds: it follows the
skeleton, takes its colours from the reference and its background from the prompt. Nothing is retrained.

Thresholds sit below what `python -m experiments toy eval` measured (assets/toy/README.md) with room for
a different CPU's arithmetic, and well above what a model that ignored its inputs would score.
"""

import numpy as np
import pytest

from engine.toy import evaluate, world
from engine.toy.model import is_shipped

pytestmark = pytest.mark.skipif(not is_shipped(), reason="the toy model's weights are not in assets/toy: "
                                                          "`python -m experiments toy train --ship` makes them")

SEEDS = evaluate.heldout_seeds(2, start=40)


@pytest.fixture(scope="module")
def toy_engine():
    from engine.engine import Engine

    return Engine.from_name("toy")


@pytest.fixture(scope="module")
def generated(toy_engine, tmp_path_factory):
    folder = tmp_path_factory.mktemp("toy")
    samples = [world.make_sample(seed) for seed in SEEDS]
    return [(sample, evaluate.generate(toy_engine, sample, folder / str(sample.seed))) for sample in samples]


def test_auto_picks_the_toy_model_without_cuda(monkeypatch):
    from engine.spec import resolve_model_name

    monkeypatch.setattr("engine.spec.cuda_available", lambda: False)
    assert resolve_model_name("auto") == "toy"


def test_the_figure_is_where_the_skeleton_is(generated):
    for sample, frames in generated:
        precision, recall = evaluate.silhouette_scores(frames, sample)
        assert precision >= 0.6 and recall >= 0.5, (sample.seed, precision, recall)


def test_the_figure_takes_its_colours_from_the_reference(generated):
    checks = [ok for sample, frames in generated for ok in evaluate.part_colour_checks(frames, sample)]
    assert np.mean(checks) >= 0.5


def test_the_background_follows_the_prompt(generated):
    for sample, frames in generated:
        assert evaluate.background_distance(frames, sample) < evaluate.COLOUR_DISTANCE, sample.seed


def test_a_recoloured_reference_changes_the_figures_colours(toy_engine, tmp_path):
    sample = world.make_sample(SEEDS[0])
    recoloured = world.recoloured(sample, evaluate.other_look(sample.look))
    frames = evaluate.generate(toy_engine, recoloured, tmp_path / "recoloured")
    follows_new = np.mean(evaluate.part_colour_checks(frames, recoloured))
    keeps_old = np.mean(evaluate.part_colour_checks(frames, recoloured, colours=sample.look.part_colours()))
    assert follows_new > keeps_old + 0.2, (follows_new, keeps_old)


def test_seeds_give_different_videos(generated, toy_engine, tmp_path):
    sample, first = generated[0]
    other = evaluate.generate(toy_engine, sample, tmp_path / "seed", seed=7)
    assert np.abs(first.astype(np.float32) - other.astype(np.float32)).mean() > 0.5
