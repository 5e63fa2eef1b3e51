"""The shipped toy model (assets/toy), loaded as `--model toy` and run on held-out world seeds. Nothing is
retrained.

What it reaches (assets/toy/README.md, `python -m experiments toy eval`) is tested with thresholds that a
model ignoring its inputs would fail: the background follows the prompt, the figure is drawn on its own
skeleton rather than beside it and goes with one that crosses the frame, the clothes follow the reference
given (and the prompt's clothing words still move them), seeds differ. Where
the issue's targets are not reached yet (the figure on the skeleton at 0.8 precision, part colours at 0.8,
identity at 0.8), the tests of the target stay, marked as expected
failures with the numbers reached: strict, so a better model that passes them turns them red until they
are made plain tests.
"""

from dataclasses import replace

import numpy as np
import pytest

from engine.toy.factory import evaluate, walk
from engine.toy import scoring, world
from engine.toy.family import is_shipped

pytestmark = pytest.mark.skipif(not is_shipped(), reason="the toy model's weights are not in assets/toy: "
                                                          "`python -m experiments toy train --ship` makes them")

SEEDS = world.heldout_seeds(2, start=40)


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
    from engine.families import resolve_model_name

    monkeypatch.setattr("engine.families.cuda_available", lambda: False)
    assert resolve_model_name("auto") == "toy"


def test_the_toy_reads_capitals_and_punctuation_as_its_own_words_and_names_the_rest(toy_engine):
    import torch

    assert toy_engine.prompt_as_read("A person in a Red top, dancing.") == "a person in a red top dancing"
    torch.testing.assert_close(toy_engine.prompt_embedding("A person in a Red top, dancing."),
                               toy_engine.prompt_embedding("a person in a red top dancing"))
    sample = toy_engine.sample_inputs()
    request = toy_engine.default_request(control_video=sample["control_video"], reference=sample["reference"],
                                         prompt="A young man in a red top dances on a sunny beach.")
    notes = [note for note in toy_engine.inspect(request).notes if "never seen" in note]
    assert len(notes) == 1 and "never seen: young, man, sunny, beach." in notes[0], notes
    assert not [note for note in toy_engine.inspect(request.replace(prompt=sample["prompt"])).notes
                if "never seen" in note]


def test_the_next_word_text_encoder_tells_what_a_colour_word_colours():
    """Unmixed, "red" in "a red top" and in "a red background" get one feature (Wan's cross-attention then reads
    a bag of words); mixed, they differ, while two colours in one role still differ more than one colour in two."""
    import torch

    from engine.toy.model import build_text_encoder, build_tokenizer, mix_in_next_word, reads_next_word

    tokenizer = build_tokenizer()
    encoder = build_text_encoder(tokenizer).eval()

    def feature(colour, noun):
        ids = tokenizer(f"a person in a {colour} {noun}", return_tensors="pt").input_ids
        with torch.no_grad():
            return encoder(ids).last_hidden_state[0, 4]  # a, person, in, a, colour

    def cosines():
        role = torch.cosine_similarity(feature("red", "top"), feature("red", "background"), dim=0)
        colour = torch.cosine_similarity(feature("red", "background"), feature("blue", "background"), dim=0)
        return float(role), float(colour)

    assert not reads_next_word(encoder) and cosines()[0] > 0.9
    mix_in_next_word(encoder)
    role, colour = cosines()
    assert reads_next_word(encoder) and role < 0.85 and colour < role


NOT_YET = ("the shipped toy draws a blurred figure: silhouette precision 0.47, part colours 0.50 on held-out clips, "
           "under the VAE's own 0.87 / 0.71 (assets/toy/README.md); the issue's targets are 0.8")


@pytest.mark.xfail(strict=True, reason=NOT_YET)
def test_the_figure_is_where_the_skeleton_is(generated):
    for sample, frames in generated:
        precision, recall = scoring.silhouette_scores(frames, sample)
        assert precision >= 0.8 and recall >= 0.5, (sample.seed, precision, recall)


def test_the_figure_is_drawn_on_its_own_skeleton_not_beside_it(generated):
    """Placement, scored against the floor the model drew (so a floor in the wrong colour does not count as
    figure): the drawn figure lies on the true silhouette far more than on the same silhouette moved 60 px."""
    own, moved = [], []
    for sample, frames in generated:
        for parts, scores in ((sample.parts, own), (np.roll(sample.parts, 60, axis=2), moved)):
            drawn = scoring.placement_mask(frames, sample.background, scoring.grow(parts > 0, 3))
            scores.append(scoring.silhouette_scores(frames, replace(sample, parts=parts), drawn)[0])
    assert np.mean(own) > 0.4 and np.mean(own) > np.mean(moved) + 0.3, (own, moved)


def test_the_figure_follows_an_unseen_walk(toy_engine, tmp_path):
    """A skeleton drawn by another renderer crosses the frame at 4 px a frame: the figure goes with it, at more
    than half its speed (0.64 as shipped; the target is 1.0; legs 5-6's weights lagged at 0.42, smeared
    between where it started and where the skeleton was)."""
    result = walk.unseen_walk(toy_engine, tmp_path)
    assert result["speed_ratio"] is not None and 0.5 < result["speed_ratio"] < 1.5, result


@pytest.mark.xfail(strict=True, reason=NOT_YET)
def test_the_figure_takes_its_colours_from_the_reference(generated):
    checks = [ok for sample, frames in generated for ok in scoring.part_colour_checks(frames, sample)]
    assert np.mean(checks) >= 0.8


def test_the_background_follows_the_prompt(generated):
    for sample, frames in generated:
        assert scoring.background_distance(frames, sample) < scoring.COLOUR_DISTANCE, sample.seed


def colours_moved_toward(sample, first, second, colours) -> float:
    """Mean over visible limb-frames of how much nearer `colours` the second generation is than the first."""
    nearer = []
    for t, part, x, y in scoring.visible_segments(sample):
        before = scoring.colour_distance(scoring.read_colour(first[t], x, y), colours[part])
        after = scoring.colour_distance(scoring.read_colour(second[t], x, y), colours[part])
        nearer.append(before - after)
    return float(np.mean(nearer))


@pytest.fixture(scope="module")
def two_references(toy_engine, tmp_path_factory):
    """One held-out clip generated with a prompt that names only the action and the floor, once with its own
    reference and once with the same figure in another costume: (reference given, the other, frames) each."""
    folder = tmp_path_factory.mktemp("identity")
    sample = world.make_sample(SEEDS[0])
    second = world.recoloured(sample, evaluate.other_look(sample.look))
    prompt = world.scene_prompt(sample.look, sample.motion)
    return [(given, rival, evaluate.generate(toy_engine, given, folder / given.look.top, prompt=prompt))
            for given, rival in ((sample, second), (second, sample))]


def identity_scores(two_references) -> tuple[float, float]:
    """Clothes at the limbs' midpoints in the colours of the reference given, and of the other one."""
    own, other = [], []
    for given, rival, frames in two_references:
        own += scoring.part_colour_checks(frames, given, parts=evaluate.CLOTHING_PARTS)
        other += scoring.part_colour_checks(frames, given, evaluate.clothes_colours(given.look, rival.look),
                                            parts=evaluate.CLOTHING_PARTS)
    return float(np.mean(own)), float(np.mean(other))


def test_swapping_the_reference_changes_the_video(two_references):
    """Before the reference encoder, two references in different costumes gave videos about 1 grey level apart."""
    (_, _, first), (_, _, second) = two_references
    assert np.abs(first.astype(np.float32) - second.astype(np.float32)).mean() > 4


def test_the_figure_wears_the_clothes_of_the_reference_it_is_given(two_references):
    """With a prompt that names no clothes, the clothes follow the reference: a model that ignores it matches
    its own and the other costume alike (the toy before its reference encoder: 0.00 and 0.00)."""
    own, other = identity_scores(two_references)
    assert own >= 0.25 and other <= 0.1, (own, other)  # 0.35 / 0.01 on this clip when the encoder shipped


@pytest.mark.xfail(strict=True, reason="identity on held-out clips reaches about 0.6 of limb-frames in the reference's "
                                       "colours, as a prompt naming the clothes does, under the blur of the figure "
                                       "(assets/toy/README.md); the issue's target is 0.8")
def test_the_figure_wears_the_reference_clothes_at_the_issue_target(two_references):
    own, other = identity_scores(two_references)
    assert own >= 0.8 and other < 0.2, (own, other)


def test_a_prompt_naming_other_clothes_moves_the_figures_colours_toward_them(generated, toy_engine, tmp_path):
    """The words still count: the same reference with a prompt naming other clothes."""
    moved = []
    for sample, first in generated[:1]:
        recoloured = world.recoloured(sample, evaluate.other_look(sample.look))
        second = evaluate.generate(toy_engine, sample, tmp_path / str(sample.seed), prompt=recoloured.prompt)
        moved.append(colours_moved_toward(sample, first, second, recoloured.look.part_colours()))
    assert np.mean(moved) > 10, moved


def test_seeds_give_different_videos(generated, toy_engine, tmp_path):
    sample, first = generated[0]
    other = evaluate.generate(toy_engine, sample, tmp_path / "seed", seed=7)
    assert np.abs(first.astype(np.float32) - other.astype(np.float32)).mean() > 0.5


def test_the_lab_can_warm_the_toy_up_on_its_own_sample(toy_engine):
    """`./lab start` warms the toy up with one step of its sample: the sample must be a valid request."""
    toy_engine.warm_up()
