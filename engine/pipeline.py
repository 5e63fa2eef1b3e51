"""LabVACEPipeline: diffusers' WanVACEPipeline, plus a content-keyed cache of the VACE conditioning.

The only override is prepare_video_latents (the VAE encode of control video + reference). A sweep over
guidance or steps feeds the same control video every time, so the engine names the conditioning by a
content hash before each call and the encode runs once per distinct input. Everything else, including
the denoising loop and the decode, is the stock pipeline.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from diffusers import WanVACEPipeline


class ConditionStore:
    """Latents keyed by the content of the conditioning; also records when the encode stage finished."""

    def __init__(self, capacity: int = 8):
        self.capacity = capacity
        self.key: str | None = None  # set by the engine before each pipeline call
        self._latents: OrderedDict = OrderedDict()
        self.last_hit = False
        self.last_seconds = 0.0
        self.finished_at = 0.0

    def fetch(self, compute):
        start = time.perf_counter()
        if self.key is not None and self.key in self._latents:
            self._latents.move_to_end(self.key)
            latents, self.last_hit = self._latents[self.key], True
        else:
            latents, self.last_hit = compute(), False
            if self.key is not None:
                self._latents[self.key] = latents
                while len(self._latents) > self.capacity:
                    self._latents.popitem(last=False)
        self.finished_at = time.perf_counter()
        self.last_seconds = self.finished_at - start
        return latents

    def clear(self):
        self._latents.clear()


class LabVACEPipeline(WanVACEPipeline):
    def prepare_video_latents(self, video, mask, reference_images=None, generator=None, device=None):
        compute = super().prepare_video_latents
        store = self.__dict__.get("lab_condition_store")
        if store is None:
            return compute(video, mask, reference_images, generator, device)
        # The encode uses the latent mode (argmax), not a sample, so the generator does not change it.
        return store.fetch(lambda: compute(video, mask, reference_images, generator, device))
