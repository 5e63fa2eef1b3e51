"""The tiny-animate-2 family: a Wan-Animate-2 of the real classes with random weights, built in code
(engine/tiny.py), small enough for flex attention's uncompiled path on a CPU."""

from __future__ import annotations

from engine.families.animate2 import Animate2Family
from engine.families.tiny import TinyModel


class TinyAnimate2Family(TinyModel, Animate2Family):
    name = "tiny-animate-2"
    tiny_kind = "animate-2"
    pipeline_name = "modular Wan-Animate-2 pipeline"
    real_model = "wan-animate-2-14b"
    needs_cuda = False


FAMILY = TinyAnimate2Family()
