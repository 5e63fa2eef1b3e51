import numpy as np
import torch
from PIL import Image

from engine.pipeline import ConditionStore, LabVACEPipeline


def test_condition_store_computes_once_per_key_and_evicts_oldest():
    store, calls = ConditionStore(capacity=2), []

    def compute(tag):
        calls.append(tag)
        return tag

    for key in ["a", "a", "b", "a", "c", "b"]:
        assert store.fetch(key, lambda: compute(key)) == key
    # a computed, a hit, b computed, a hit, c computed (evicts b, the least recent), b computed again
    assert calls == ["a", "b", "c", "b"]
    store.fetch(None, lambda: compute("unkeyed"))
    store.fetch(None, lambda: compute("unkeyed"))
    assert calls[-2:] == ["unkeyed", "unkeyed"]  # no key, no caching


def _inputs():
    rng = np.random.default_rng(0)
    video = [Image.fromarray(rng.integers(0, 255, (32, 48, 3), np.uint8)) for _ in range(5)]
    reference = Image.fromarray(rng.integers(0, 255, (32, 48, 3), np.uint8))
    return dict(video=video, reference_images=[reference], prompt="a man dancing", negative_prompt="blurry",
                height=32, width=48, num_frames=5, num_inference_steps=2, guidance_scale=4.0, output_type="np")


def test_lab_pipeline_output_equals_the_stock_pipeline_cached_or_not():
    from diffusers import WanVACEPipeline

    from engine.tiny import ensure_tiny_pipeline

    folder = ensure_tiny_pipeline()
    stock = WanVACEPipeline.from_pretrained(folder)
    lab = LabVACEPipeline.from_pretrained(folder)
    lab.lab_condition_store = ConditionStore()
    expected = stock(**_inputs(), generator=torch.Generator().manual_seed(3)).frames[0]
    first = lab(**_inputs(), generator=torch.Generator().manual_seed(3), condition_key="clip-1").frames[0]
    assert not lab.lab_condition_store.last_hit
    second = lab(**_inputs(), generator=torch.Generator().manual_seed(3), condition_key="clip-1").frames[0]
    assert lab.lab_condition_store.last_hit
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(second, expected)
