"""The tiny-animate family: a WanAnimate of the real classes with random weights, built in code (engine/tiny.py)."""

from __future__ import annotations

from engine.families.animate import AnimateFamily
from engine.families.tiny import TinyModel


class TinyAnimateFamily(TinyModel, AnimateFamily):
    name = "tiny-animate"
    tiny_kind = "animate"
    pipeline_name = "WanAnimatePipeline"
    real_model = "wan-animate-14b"


FAMILY = TinyAnimateFamily()
