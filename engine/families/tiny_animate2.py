"""The tiny-animate-2 family: a Wan-Animate-2 of the real classes with random weights, built in code
(engine/tiny.py), small enough for flex attention's uncompiled path on a CPU."""

from __future__ import annotations

from engine.families.animate2 import Animate2Family


class TinyAnimate2Family(Animate2Family):
    name = "tiny-animate-2"
    small = True
    needs_cuda = False

    def banner(self, spec, device: str) -> str:
        return (f"Engine: **tiny-animate-2** on {device.upper()}. Random weights: the output is noise. It runs "
                "diffusers' modular Wan-Animate-2 pipeline end to end, so its inputs and settings can be learned "
                "here; `--model wan-animate-2-14b` on a CUDA GPU makes real videos.")

    def model_source(self, spec) -> str:
        from engine.tiny import ensure_tiny_pipeline

        return str(ensure_tiny_pipeline("animate-2"))


FAMILY = TinyAnimate2Family()
