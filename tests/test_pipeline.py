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


def _passes_per_step(pipe, **changes) -> tuple[list[int], np.ndarray]:
    """How many transformer passes each denoising step made, and the frames."""
    calls, per_step = [0], []
    stock_forward = pipe.transformer.forward

    def counting_forward(*args, **kwargs):
        calls[0] += 1
        return stock_forward(*args, **kwargs)

    def step_end(_pipe, step, timestep, callback_kwargs):
        per_step.append(calls[0] - sum(per_step))
        return callback_kwargs

    pipe.transformer.forward = counting_forward
    try:
        frames = pipe(**{**_inputs(), "num_inference_steps": 4, **changes}, generator=torch.Generator().manual_seed(3),
                      callback_on_step_end=step_end).frames[0]
    finally:
        del pipe.transformer.forward
    return per_step, frames


def test_guidance_stop_drops_the_unguided_pass_once_the_noise_is_below_it():
    from engine.pipeline import guided_at
    from engine.tiny import ensure_tiny_pipeline

    lab = LabVACEPipeline.from_pretrained(ensure_tiny_pipeline())
    every_step, guided = _passes_per_step(lab)
    assert every_step == [2, 2, 2, 2]
    sigmas = [float(t) / 1000 for t in lab.scheduler.timesteps]
    stop = (sigmas[1] + sigmas[2]) / 2  # between the second step's noise level and the third's
    assert [guided_at(sigma, stop) for sigma in sigmas] == [True, True, False, False]
    two_guided, stopped = _passes_per_step(lab, guidance_stop=stop)
    assert two_guided == [2, 2, 1, 1]
    assert not np.array_equal(stopped, guided)
    unchanged, again = _passes_per_step(lab, guidance_stop=0.0)
    assert unchanged == [2, 2, 2, 2] and np.array_equal(again, guided)
    assert _passes_per_step(lab, guidance_scale=1.0, guidance_stop=stop)[0] == [1, 1, 1, 1]
