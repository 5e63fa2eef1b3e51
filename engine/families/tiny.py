"""The tiny family: a WanVACE of the real classes with random weights, built in code (engine/tiny.py)."""

from __future__ import annotations

from engine.families.base import ModelFamily


class TinyFamily(ModelFamily):
    name = "tiny"
    small = True

    def banner(self, spec, device: str) -> str:
        return (f"Engine: **tiny** on {device.upper()}. Random weights: the output is noise. The whole lab works, so "
                "you can learn the controls; run on a CUDA GPU (`--model wan-vace-1.3b`) for real videos.")

    def model_source(self, spec) -> str:
        from engine.tiny import ensure_tiny_pipeline

        return str(ensure_tiny_pipeline())


FAMILY = TinyFamily()
