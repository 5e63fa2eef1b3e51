"""A step cache for Wan-VACE that counts the VACE hints once: First Block Cache, corrected.

First Block Cache (diffusers' `apply_first_block_cache`) runs the first transformer block at every step;
when its residual barely changed since the last full pass, it skips the other blocks and adds the
residual those blocks produced last time. Wan-VACE adds a control hint after each VACE layer, in the
transformer's own loop, outside the blocks. The stock cache's stored residual already contains those
hints, and when it skips, the loop still adds them after each skipped block: every hint counts twice
(tests/test_step_cache.py shows the stock cache changing the output of an identical second call).

Here the blocks after the first also measure the hints that arrive between blocks (the input of block k
minus the output of block k-1) and the stored residual leaves them out. When the remaining blocks are
skipped, the loop's fresh hints complete it. A skipped step then costs the first block and the VACE
branch (which computes the hints) instead of the whole transformer.

Uses diffusers' hook registry and state manager, so the pipeline's "cond" / "uncond" cache contexts keep
separate states for the two classifier-free-guidance passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.hooks.first_block_cache import FBCBlockHook, FBCHeadBlockHook, FBCSharedBlockState
from diffusers.hooks.hooks import HookRegistry, StateManager

HEAD_HOOK, BLOCK_HOOK = "lab_vace_fbc_head", "lab_vace_fbc_block"


@dataclass
class CacheStats:
    """Kept outside the hook state, which the pipeline resets when it finishes."""

    calls: int = 0
    skipped: int = 0

    @property
    def skipped_fraction(self) -> float:
        return self.skipped / self.calls if self.calls else 0.0


class VaceCacheState(FBCSharedBlockState):
    def __init__(self) -> None:
        super().__init__()
        self.previous_output: torch.Tensor | None = None
        self.hints: torch.Tensor | None = None

    def reset(self):
        super().reset()
        self.previous_output = None
        self.hints = None


class VaceHeadHook(FBCHeadBlockHook):
    def __init__(self, state_manager: StateManager, threshold: float, stats: CacheStats):
        super().__init__(state_manager, threshold)
        self.stats = stats

    def new_forward(self, module, *args, **kwargs):
        output = super().new_forward(module, *args, **kwargs)
        state = self.state_manager.get_state()
        self.stats.calls += 1
        if state.should_compute:
            state.previous_output, state.hints = state.head_block_output, None
        else:
            self.stats.skipped += 1
        return output


class VaceBlockHook(FBCBlockHook):
    def new_forward(self, module, *args, **kwargs):
        state = self.state_manager.get_state()
        if not state.should_compute:
            return super().new_forward(module, *args, **kwargs)
        hidden_states = self._metadata._get_parameter_from_args_kwargs("hidden_states", args, kwargs)
        arrived = hidden_states - state.previous_output  # the hint the loop added after the previous block
        state.hints = arrived if state.hints is None else state.hints + arrived
        output = super().new_forward(module, *args, **kwargs)
        state.previous_output = output
        if self.is_tail:
            residual, encoder_residual = state.tail_block_residuals
            state.tail_block_residuals = (residual - state.hints, encoder_residual)
        return output


def apply_step_cache(transformer: torch.nn.Module, threshold: float) -> CacheStats:
    """Hook the main blocks of a WanVACETransformer3DModel; returns counters of calls and skipped calls."""
    blocks = list(transformer.blocks)
    if len(blocks) < 2:
        raise ValueError("the step cache needs a transformer with at least two blocks")
    manager, stats = StateManager(VaceCacheState, (), {}), CacheStats()
    HookRegistry.check_if_exists_or_initialize(blocks[0]).register_hook(VaceHeadHook(manager, threshold, stats),
                                                                        HEAD_HOOK)
    for index, block in enumerate(blocks[1:], start=1):
        hook = VaceBlockHook(manager, is_tail=index == len(blocks) - 1)
        HookRegistry.check_if_exists_or_initialize(block).register_hook(hook, BLOCK_HOOK)
    # cache_context() finds stateful hooks through a cached list of child registries: rebuild it.
    HookRegistry.check_if_exists_or_initialize(transformer).invalidate_child_registries_cache()
    return stats


def remove_step_cache(transformer: torch.nn.Module):
    for index, block in enumerate(transformer.blocks):
        registry = getattr(block, "_diffusers_hook", None)
        if registry is not None:
            registry.remove_hook(HEAD_HOOK if index == 0 else BLOCK_HOOK, recurse=False)
    HookRegistry.check_if_exists_or_initialize(transformer).invalidate_child_registries_cache()

