"""Training samples encoded once, as WanVACEPipeline prepares them, and read back from the cache."""

import numpy as np
import pytest
import torch

from engine.train.config import TrainConfig
from engine.train.data import Sample, SampleEncoder, reference_image
from tests.helpers import write_video

SIZE = dict(height=32, width=32, num_frames=5, fps=16)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clip")
    rng = np.random.default_rng(0)
    write_video(folder / "clip.mp4", [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(9)], 16)
    write_video(folder / "pose.mp4", [np.full((32, 32, 3), 40 * i, np.uint8) for i in range(9)], 16)
    return Sample(video=folder / "clip.mp4", prompt="a person dancing", pose_video=folder / "pose.mp4",
                  reference_image=None)


def make_encoder(tiny_engine, cache):
    return SampleEncoder(tiny_engine.load(), tiny_engine, TrainConfig(**SIZE), cache)


def test_the_target_is_the_reference_latent_then_the_clip(tiny_engine, sample, tmp_path):
    encoded, pose_video = make_encoder(tiny_engine, tmp_path).encode(sample)
    assert pose_video == sample.pose_video
    assert torch.equal(encoded.target[:, :, 1:], encoded.target_without_reference)
    # The reference adds one latent frame to the conditioning, and its latent is the target's first frame.
    assert encoded.conditioning.shape[2] == encoded.conditioning_without_reference.shape[2] + 1
    z = encoded.target.shape[1]
    assert torch.equal(encoded.target[:, :, :1], encoded.conditioning[:, :z, :1])


def test_a_second_encode_reads_the_cache_without_the_vae(tiny_engine, sample, tmp_path, monkeypatch):
    first, _ = make_encoder(tiny_engine, tmp_path).encode(sample)
    again = make_encoder(tiny_engine, tmp_path)
    monkeypatch.setattr(again, "encode_video", lambda frames: pytest.fail("encoded again instead of cached"))
    second, _ = again.encode(sample)
    assert torch.equal(first.target, second.target) and torch.equal(first.prompt_embeds, second.prompt_embeds)


def test_without_a_reference_image_the_clips_first_frame_is_the_reference():
    frames = np.zeros((5, 32, 48, 3), np.uint8)
    frames[0, :, :] = (200, 30, 30)
    placed = reference_image(Sample(video=None, prompt="", pose_video=None, reference_image=None), frames, 32, 48)
    assert placed.size == (48, 32)
    assert np.abs(np.asarray(placed, dtype=int) - (200, 30, 30)).max() <= 2
