"""The step cache must not double-count the VACE hints: checked against the uncached transformer."""

import numpy as np
import pytest
import torch

from engine.step_cache import apply_step_cache, remove_step_cache
from engine.tiny import build_tiny_pipeline


def transformer_inputs(seed=0):
    generator = torch.Generator().manual_seed(seed)
    return dict(
        hidden_states=torch.randn(1, 16, 3, 8, 8, generator=generator),
        timestep=torch.tensor([500.0]),
        encoder_hidden_states=torch.randn(1, 8, 32, generator=generator),
        control_hidden_states=torch.randn(1, 96, 3, 8, 8, generator=generator),
        control_hidden_states_scale=torch.ones(2),
        return_dict=False,
    )


def twice(transformer, inputs):
    """Two identical calls in one cache context: the second one may reuse the first one's blocks."""
    with torch.no_grad(), transformer.cache_context("cond"):
        first = transformer(**inputs)[0]
        second = transformer(**inputs)[0]
    return first, second


@pytest.fixture(scope="module")
def transformer():
    model = build_tiny_pipeline().transformer.eval()
    with torch.no_grad():  # strong hints, so counting them twice cannot hide in rounding
        for block in model.vace_blocks:
            block.proj_out.weight.mul_(50)
    return model


def test_the_stock_first_block_cache_counts_the_vace_hints_twice(transformer):
    from diffusers.hooks import FirstBlockCacheConfig, apply_first_block_cache
    from diffusers.hooks.hooks import HookRegistry

    with torch.no_grad():
        reference = transformer(**transformer_inputs())[0]
    apply_first_block_cache(transformer, FirstBlockCacheConfig(threshold=0.5))
    HookRegistry.check_if_exists_or_initialize(transformer).invalidate_child_registries_cache()
    try:
        first, second = twice(transformer, transformer_inputs())
    finally:
        HookRegistry.check_if_exists_or_initialize(transformer).remove_hook("fbc_leader_block_hook")
        HookRegistry.check_if_exists_or_initialize(transformer).remove_hook("fbc_block_hook")
        HookRegistry.check_if_exists_or_initialize(transformer).invalidate_child_registries_cache()
    assert torch.allclose(first, reference, atol=1e-5)
    assert not torch.allclose(second, reference, atol=1e-2)  # the reused step is off by the doubled hints


def test_our_cache_reuses_the_blocks_and_matches_the_uncached_output(transformer):
    with torch.no_grad():
        reference = transformer(**transformer_inputs())[0]
    stats = apply_step_cache(transformer, threshold=0.5)
    try:
        first, second = twice(transformer, transformer_inputs())
    finally:
        remove_step_cache(transformer)
    assert stats.calls == 2 and stats.skipped == 1  # the second call skipped the main blocks
    assert torch.allclose(first, reference, atol=1e-5) and torch.allclose(second, reference, atol=1e-4)


def test_after_removal_the_transformer_is_untouched(transformer):
    with torch.no_grad():
        reference = transformer(**transformer_inputs(1))[0]
    apply_step_cache(transformer, threshold=0.5)
    remove_step_cache(transformer)
    with torch.no_grad(), transformer.cache_context("cond"):
        again = transformer(**transformer_inputs(1))[0]
    assert torch.equal(again, reference)


def test_through_the_engine_threshold_zero_is_exact_and_a_loose_one_skips_steps(tiny_engine, tiny_request):
    base = tiny_engine.generate(tiny_request.replace(num_inference_steps=6))
    exact = tiny_engine.generate(tiny_request.replace(num_inference_steps=6, step_cache=0.0))
    assert np.array_equal(base.frames, exact.frames)
    loose = tiny_engine.generate(tiny_request.replace(num_inference_steps=6, step_cache=0.5))
    assert loose.timings["step_cache_skipped"] > 0
    difference = np.abs(loose.frames.astype(int) - base.frames.astype(int)).mean()
    assert difference < 40  # an approximation of the same video, not a different one
