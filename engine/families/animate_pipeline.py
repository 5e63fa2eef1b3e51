"""LabAnimatePipeline: diffusers' WanAnimatePipeline with one change, a timing mark where its conditioning ends.

The engine times each stage from the pipeline's condition store (engine/pipeline.py): the reference's encode goes
through it, so "condition_encode" and "denoise" mean for Animate what they mean for VACE. The pose video is
encoded per segment inside the denoising time, as the stock pipeline does. Everything else is the stock pipeline.
"""

from __future__ import annotations

from diffusers import WanAnimatePipeline


class LabAnimatePipeline(WanAnimatePipeline):
    def prepare_reference_image_latents(self, *args, **kwargs):
        parent = super().prepare_reference_image_latents
        store = self.__dict__.get("lab_condition_store")
        if store is None:
            return parent(*args, **kwargs)
        return store.fetch(None, lambda: parent(*args, **kwargs))
