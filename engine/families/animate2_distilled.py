"""The distilled Animate-2 family: Wan-Animate-2's distilled checkpoint, 10 steps without guidance
(engine/families/animate2.py says what the family reads and refuses)."""

from __future__ import annotations

from engine.families.animate2 import Animate2DistilledFamily

FAMILY = Animate2DistilledFamily()
