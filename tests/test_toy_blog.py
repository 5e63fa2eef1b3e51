"""The blog in a box's measure: drift toward the narrow dataset's costume, read from the world's ground truth."""

import pytest

from engine.toy import world
from engine.toy.blog import drift_scores, off_costume
from engine.toy.dataset import NARROW_LOOK


@pytest.fixture(scope="module")
def off_costume_clip():
    sample = world.make_sample(1_000_600)
    return world.recoloured(sample, off_costume(sample.look))


def test_the_off_costume_shares_no_clothes_colour_with_the_training_costume(off_costume_clip):
    look = off_costume_clip.look
    assert {look.top, look.bottom_colour, look.shoes}.isdisjoint({NARROW_LOOK.top, NARROW_LOOK.bottom_colour,
                                                                    NARROW_LOOK.shoes})


def test_a_figure_in_its_references_clothes_has_not_drifted(off_costume_clip):
    toward, kept = drift_scores(off_costume_clip.video, off_costume_clip)
    assert toward < 0.1 and kept > 0.9


def test_a_figure_in_the_training_costume_has_drifted_all_the_way(off_costume_clip):
    dressed = world.recoloured(off_costume_clip, world.with_look(off_costume_clip.look, top=NARROW_LOOK.top,
                                                                 bottom_colour=NARROW_LOOK.bottom_colour,
                                                                 shoes=NARROW_LOOK.shoes))
    toward, kept = drift_scores(dressed.video, off_costume_clip)
    assert toward > 0.9 and kept < 0.1
