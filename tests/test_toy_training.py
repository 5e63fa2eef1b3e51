"""The toy model's training stages: the world encodes exactly as the pipeline prepares it, and the lab's
trainer trains every weight with target full (checked on the tiny pipeline: fast, same classes)."""

import pytest
import torch
from PIL import Image

from engine.toy import world
from engine.toy.training import WorldEncoder, training_seeds
from engine.toy.model import HELDOUT_SEED_START


@pytest.fixture(scope="module")
def tiny_pipe():
    from engine.tiny import build_tiny_pipeline

    return build_tiny_pipeline()


def test_world_encoding_equals_the_pipelines_own_preparation(tiny_pipe):
    pipe = tiny_pipe
    sample = world.make_sample(3, num_frames=5, height=64, width=112)
    encoder = WorldEncoder(pipe, num_frames=5, height=64, width=112)
    [ours] = encoder.encode_samples([sample])
    video, mask, references = pipe.preprocess_conditions(
        [Image.fromarray(f) for f in sample.pose_video], None, Image.fromarray(sample.reference), 1, 64, 112, 5,
        torch.float32, torch.device("cpu"))
    with torch.no_grad():
        latents = pipe.prepare_video_latents(video, mask, references, None, torch.device("cpu"))
    expected = torch.cat([latents, pipe.prepare_masks(mask, references, None)], dim=1).float()
    torch.testing.assert_close(ours["conditioning"], expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours["conditioning_without_reference"], expected[:, :, 1:], atol=1e-5, rtol=1e-4)
    assert ours["target"].shape[2] == ours["conditioning"].shape[2]  # reference latent + clip latents


def test_training_seeds_are_distinct_and_never_held_out():
    seeds = training_seeds(500)
    assert len(set(seeds)) == 500 and max(seeds) < HELDOUT_SEED_START
    assert seeds == training_seeds(500)
