"""engine/toy/factory/reference_training.py: the reference encoder fitted to the clothes' words."""

import pytest
import torch

from engine.toy import world
from engine.toy.factory import reference_training
from engine.toy.family import is_shipped

pytestmark = pytest.mark.skipif(not is_shipped(), reason="the toy model's weights are not in assets/toy: "
                                                          "`python -m experiments toy train --ship` makes them")


@pytest.fixture(scope="module")
def toy_engine():
    from engine.engine import Engine

    return Engine.from_name("toy")


def test_every_clause_the_world_can_draw_is_a_possible_answer():
    clauses = reference_training.every_clause()
    assert len(clauses) == len(set(clauses)) == 12 * 11 * 2
    looks = [world.make_sample(seed, num_frames=1).look for seed in world.training_seeds(20)]
    assert all(world.clothes_clause(look) in clauses for look in looks)


def test_the_targets_are_the_clause_tokens_without_padding(toy_engine):
    look = world.make_sample(3, num_frames=1).look
    targets = reference_training.clause_targets(toy_engine, [look, look])
    assert targets.shape == (2, 10, 64) and targets.abs().sum(-1).gt(0).all()


def test_references_sometimes_stand_in_a_pose_from_their_clip():
    references = reference_training.reference_set(world.training_seeds(40), aligned_share=0.5)
    assert references.images.shape == (40, 128, 224, 3) and len(references.looks) == 40


def test_a_short_fit_lowers_the_loss_and_restores_the_thread_count(toy_engine):
    threads = torch.get_num_threads()
    losses = []
    _, report = reference_training.train_reference_encoder(
        toy_engine, steps=40, references=64, held_out=16, on_step=lambda step, total, loss: losses.append(loss))
    assert len(losses) == 40 and sum(losses[-5:]) < sum(losses[:5])
    assert 0 <= report["heldout_clause_accuracy"] <= 1
    assert torch.get_num_threads() == threads


def test_the_shipped_encoder_names_the_clothes_of_held_out_references(toy_engine):
    encoder = toy_engine.load().lab_reference_encoder
    assert encoder is not None, "assets/toy has no reference_encoder/"
    accuracy = reference_training.clause_accuracy(toy_engine, encoder, world.heldout_seeds(48, start=7000))
    assert accuracy >= 0.7, accuracy  # 0.88 on 240 held-out references when it shipped
