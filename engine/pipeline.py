"""LabVACEPipeline: diffusers' WanVACEPipeline, plus a content-keyed cache of the VACE conditioning.

The only changes: prepare_video_latents (the VAE encode of control video + reference) goes through a
cache, and __call__ takes the key of that cache as an argument, and explicit sigmas (the stock call
asks its scheduler for `num_inference_steps` evenly spaced ones; step-distilled LoRAs need given ones). A sweep over guidance or steps feeds the
same control video every time, so the engine passes a content hash as `condition_key` and the encode runs
once per distinct input. Everything else, including the denoising loop and the decode, is the stock pipeline.
"""

from __future__ import annotations

import time

from diffusers import WanVACEPipeline

from engine.lru import LRU


def guided_at(sigma: float, guidance_stop: float) -> bool:
    """Whether a step at noise level `sigma` (1: pure noise) is guided under `guidance_stop` (0: every step).
    Guidance sets what the prompt decides early, at high noise; late, it can amplify small differences between
    the two passes into grain (the toy's floor: benchmarks/guidance_stop.py)."""
    return sigma >= guidance_stop


class ConditionStore:
    """Latents keyed by the content of the conditioning; also records when the encode stage finished."""

    def __init__(self, capacity: int = 8):
        self._latents = LRU(capacity)
        self.last_hit = False
        self.last_seconds = 0.0
        self.finished_at = 0.0

    def fetch(self, key: str | None, compute):
        start = time.perf_counter()
        if key is None:
            latents, self.last_hit = compute(), False
        else:
            latents, self.last_hit = self._latents.get_or_compute(key, compute)
        self.finished_at = time.perf_counter()
        self.last_seconds = self.finished_at - start
        return latents

    def mark_encoded(self, started: float):
        """Record an encode stage that ran from `started` until now without this store (a pipeline that
        encodes its conditioning itself)."""
        self.finished_at = time.perf_counter()
        self.last_seconds, self.last_hit = self.finished_at - started, False

    def clear(self):
        self._latents.clear()


class LabVACEPipeline(WanVACEPipeline):
    def __call__(self, *args, condition_key: str | None = None, sigmas: list[float] | None = None,
                 guidance_stop: float = 0.0, **kwargs):
        """The stock call; `condition_key` names the conditioning (None: encode without caching); `sigmas`
        replace the scheduler's evenly spaced ones (diffusers' schedulers take them in set_timesteps);
        `guidance_stop` ends guidance, and its second model pass, once the noise level falls below it."""
        self._lab_condition_key = condition_key
        self._lab_guidance_stop = guidance_stop
        scheduler = self.scheduler
        if sigmas is not None:
            stock = scheduler.set_timesteps
            scheduler.set_timesteps = lambda num_inference_steps=None, device=None, **kw: stock(
                device=device, sigmas=list(sigmas), **kw)
        try:
            return super().__call__(*args, **kwargs)
        finally:
            self._lab_condition_key = None
            self._lab_guidance_stop = 0.0
            scheduler.__dict__.pop("set_timesteps", None)  # the class's own method again

    @property
    def do_classifier_free_guidance(self) -> bool:
        """The stock loop asks this before each step's unconditional pass (and once before any step, when
        it embeds the negative prompt): no longer once the step's noise level is below the guidance stop."""
        if self._guidance_scale <= 1.0:
            return False
        timestep = getattr(self, "_current_timestep", None)
        if timestep is None:  # before the loop: the negative prompt is embedded whatever the stop
            return True
        sigma = float(timestep) / self.scheduler.config.num_train_timesteps
        return guided_at(sigma, self.__dict__.get("_lab_guidance_stop", 0.0))

    def prepare_video_latents(self, video, mask, reference_images=None, generator=None, device=None):
        compute = super().prepare_video_latents
        store = self.__dict__.get("lab_condition_store")
        if store is None:
            return compute(video, mask, reference_images, generator, device)
        # The encode uses the latent mode (argmax), not a sample, so the generator does not change it.
        return store.fetch(self.__dict__.get("_lab_condition_key"),
                           lambda: compute(video, mask, reference_images, generator, device))
