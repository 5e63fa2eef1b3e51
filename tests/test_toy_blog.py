"""The blog in a box's measure: drift toward the narrow dataset's costume, read from the world's ground truth."""

import numpy as np
import pytest

from engine.toy import world
from engine.toy.factory.blog import costume_position, drift_scores, off_costume, studio_drift
from engine.toy.family import TOY_BLOG_LORA
from engine.toy.dataset import NARROW_LOOK
from engine.toy.family import is_shipped


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
    assert costume_position(dressed.video, off_costume_clip) > 0.95


def test_the_costume_position_reads_a_blurred_figure_halfway_between_the_costumes(off_costume_clip):
    assert costume_position(off_costume_clip.video, off_costume_clip) < 0.05
    dressed = world.recoloured(off_costume_clip, world.with_look(off_costume_clip.look, top=NARROW_LOOK.top,
                                                                 bottom_colour=NARROW_LOOK.bottom_colour,
                                                                 shoes=NARROW_LOOK.shoes))
    # Half of each pixel from either costume: no colour is within drift_scores' threshold of either.
    blend = ((off_costume_clip.video.astype(np.float32) + dressed.video) / 2).astype(np.uint8)
    assert 0.35 < costume_position(blend, off_costume_clip) < 0.65


def test_a_clip_on_its_prompts_background_has_no_studio_drift(off_costume_clip):
    assert off_costume_clip.look.background != NARROW_LOOK.background
    assert studio_drift(off_costume_clip.video, off_costume_clip) < 0.02


def test_stripes_drawn_off_their_places_are_not_studio_drift(off_costume_clip):
    striped = world.recoloured(off_costume_clip, world.with_look(off_costume_clip.look, pattern="striped"))
    shifted = np.roll(striped.video, 8, axis=2)  # half a stripe to the right: every stripe pixel swaps tone
    assert studio_drift(shifted, striped) < 0.05


def test_a_clip_moved_onto_the_training_floor_has_drifted_all_the_way_to_the_studio(off_costume_clip):
    in_the_studio = world.recoloured(off_costume_clip, world.with_look(off_costume_clip.look,
                                                                       background=NARROW_LOOK.background,
                                                                       pattern=NARROW_LOOK.pattern))
    assert studio_drift(in_the_studio.video, off_costume_clip) > 0.98


def test_studio_drift_is_not_a_number_where_the_prompt_names_the_training_floor(off_costume_clip):
    on_the_floor = world.recoloured(off_costume_clip, world.with_look(off_costume_clip.look,
                                                                      background=NARROW_LOOK.background))
    assert np.isnan(studio_drift(on_the_floor.video, on_the_floor))


def test_shipping_the_blog_loras_copies_them_with_a_card_of_the_numbers(tmp_path):
    from engine.toy.factory.blog import BlogResult, ship_blog_loras

    lora = tmp_path / "run" / "lora.safetensors"
    lora.parent.mkdir()
    lora.write_bytes(b"weights")
    result = BlogResult(clips=24, steps=150, drift={"main-blocks-r32": [0.1, 0.3, 0.5, 0.7]},
                        reference_match={"main-blocks-r32": [0.8, 0.6, 0.4, 0.2]},
                        costume_position={"main-blocks-r32": [0.11, 0.22, 0.33, 0.44]},
                        studio_drift={"main-blocks-r32": [0.05, 0.25, 0.45, 0.65]},
                        loras={"main-blocks-r32": str(lora)}, seconds={"dataset": 5.0})
    target = ship_blog_loras(result, "python -m experiments toy blog --ship", tmp_path / "toy-blog")
    assert (target / "main-blocks-r32.safetensors").read_bytes() == b"weights"
    card = (target / "README.md").read_text()
    assert "| main-blocks-r32 | 0.10 | 0.30 | 0.50 | 0.70 |" in card and "toy blog --ship" in card
    assert "| main-blocks-r32 | 0.05 | 0.25 | 0.45 | 0.65 |" in card
    assert "| main-blocks-r32 | 0.11 | 0.22 | 0.33 | 0.44 |" in card


@pytest.mark.skipif(not (TOY_BLOG_LORA.is_file() and is_shipped()),
                    reason="the toy's blog LoRA is not in assets/toy-blog: `python -m experiments toy blog --ship`")
def test_the_blog_presets_fall_back_on_the_shipped_blog_lora_with_the_toy():
    from engine.engine import Engine
    from engine.lora_formats import read_lora_file
    from services.sweep_spec import SweepSpec, lora_or_fallback

    engine = Engine.from_name("toy")
    assert engine.sample_lora() == TOY_BLOG_LORA
    spec, lora, note = lora_or_fallback(SweepSpec.from_preset("blog-lora-strength"), None, engine.sample_lora())
    assert lora == str(TOY_BLOG_LORA) and "blog-in-a-box LoRA" in note
    assert read_lora_file(TOY_BLOG_LORA).layers  # a LoRA file the loader reads


@pytest.mark.skipif(not (TOY_BLOG_LORA.is_file() and is_shipped()),
                    reason="the toy's blog LoRA is not in assets/toy-blog: `python -m experiments toy blog --ship`")
def test_the_shipped_blog_lora_pulls_the_prompts_scene_toward_the_training_studio(tmp_path):
    # The blog's finding, on the shipped weights: the drift grows with the LoRA's strength. On the blog's 3 held-out
    # clips (their prompts name other backgrounds; the studio is plain grey) the shipped LoRA measured 0.12 at
    # strength 0 and 0.42 at 1.5 (assets/toy-blog/blog.json); one clip alone moves less (0.16 -> 0.25).
    from engine.engine import Engine
    from engine.toy.factory.blog import off_costume_samples
    from engine.toy.factory.evaluate import generate

    engine = Engine.from_name("toy")
    drift = [np.mean([studio_drift(generate(engine, sample, tmp_path / f"{sample.seed}-{scale}",
                                            lora=str(TOY_BLOG_LORA), lora_scale=scale), sample)
                      for sample in off_costume_samples(3)]) for scale in (0.0, 1.5)]
    assert drift[1] > drift[0] + 0.15, drift
