"""The tiny-animate family: a WanAnimate of the real classes with random weights, built in code (engine/tiny.py)."""

from __future__ import annotations

from engine.families.animate import AnimateFamily


class TinyAnimateFamily(AnimateFamily):
    """A WanAnimate of the real classes with random weights, built in code (engine/tiny.py)."""

    name = "tiny-animate"
    small = True

    def banner(self, spec, device: str) -> str:
        return (f"Engine: **tiny-animate** on {device.upper()}. Random weights: the output is noise. It runs "
                "diffusers' WanAnimatePipeline end to end, so Animate's inputs and settings can be learned here; "
                "`--model wan-animate-14b` on a CUDA GPU makes real videos.")

    def model_source(self, spec) -> str:
        from engine.tiny import ensure_tiny_pipeline

        return str(ensure_tiny_pipeline("animate"))


FAMILY = TinyAnimateFamily()
