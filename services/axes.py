"""Sweep axes: which request field varies, and the value syntax of AUTOMATIC1111's X/Y/Z plot.

    3, 5, 7.5        a list
    1-5              every integer from 1 to 5
    1-5 (+2)         from 1 to 5 in steps of 2 (also (-2) counting down)
    1-10 [5]         5 values evenly spaced from 1 to 10
    1-3, 7           parts combine

Integer fields get integers. Text fields (prompt variants, LoRA files, pictures) are comma lists.
conditioning_scale takes one number per value, or one per VACE layer joined by '/': 1.0/0.5.
"""

from __future__ import annotations

import math
import re

from engine.request import request_fields

# Which request fields a sweep can vary, and how, come from the field table (engine/request.py). Two axes are
# the sweep's own: `tier`, a named size (height, width, frames, steps) from the spec's tiers, and `profile`,
# a named sampling profile of the model.
TIER = "tier"
PROFILE = "profile"  # a sampling profile of the model (engine/profiles.py): sampler, steps, sigmas, CFG, shift
MODEL = "model"  # a model preset (presets/models): each cell runs on its model, with that model's defaults
NUMERIC_FIELDS = {name: info.type for name, info in request_fields().items()
                  if info.axis and info.kind in ("number", "scales")}
TEXT_FIELDS = (*(name for name, info in request_fields().items() if info.axis and name not in NUMERIC_FIELDS), TIER,
               PROFILE, MODEL)
AXIS_FIELDS = (*NUMERIC_FIELDS, *TEXT_FIELDS)
MAX_VALUES = 100

_RANGE = re.compile(r"^(?P<start>[-+]?\d*\.?\d+)\s*-\s*(?P<end>[-+]?\d*\.?\d+)"
                    r"(?:\s*\((?P<step>[-+]?\d*\.?\d+)\)|\s*\[(?P<count>\d+)\])?$")


def parse_axis_values(field: str, values) -> list:
    """Values for an axis from the X/Y/Z syntax (a string) or a YAML list; ValueError names the problem."""
    if field not in AXIS_FIELDS:
        raise ValueError(f"unknown axis field {field!r}; axis fields: {', '.join(AXIS_FIELDS)}")
    if isinstance(values, (list, tuple)):
        parsed = [_one_value(field, v) for v in values]
    elif isinstance(values, str):
        parsed = _parse_text(field, values)
    else:
        parsed = [_one_value(field, values)]
    if not parsed:
        raise ValueError(f"axis {field}: no values")
    if len(parsed) > MAX_VALUES:
        raise ValueError(f"axis {field}: {len(parsed)} values, more than {MAX_VALUES}")
    return parsed


def _parse_text(field: str, text: str) -> list:
    parts = [part.strip() for part in text.split(",")]
    if any(not part for part in parts):
        raise ValueError(f"axis {field}: empty value in {text!r}")
    if field not in NUMERIC_FIELDS:
        return parts
    values = []
    for part in parts:
        values.extend(_numeric_part(field, part))
    return values


def _numeric_part(field: str, part: str) -> list:
    kind = NUMERIC_FIELDS[field]
    if field == "conditioning_scale" and "/" in part:
        return [[_number(field, p) for p in part.split("/")]]
    match = _RANGE.match(part)
    if not match:
        return [_cast(field, kind, _number(field, part))]
    start, end = float(match["start"]), float(match["end"])
    if match["count"] is not None:
        count = int(match["count"])
        if count < 1:
            raise ValueError(f"axis {field}: a count in [..] must be at least 1, got {count}")
        raw = [start] if count == 1 else [start + (end - start) * i / (count - 1) for i in range(count)]
    else:
        step = float(match["step"]) if match["step"] is not None else (1.0 if end >= start else -1.0)
        if step == 0 or (end - start) * step < 0:
            raise ValueError(f"axis {field}: step {step:g} never gets from {start:g} to {end:g} in {part!r}")
        n = int(math.floor((end - start) / step + 1e-9)) + 1
        if n > MAX_VALUES:
            raise ValueError(f"axis {field}: {part!r} gives {n} values, more than {MAX_VALUES}")
        raw = [start + step * i for i in range(n)]
    values = [_cast(field, kind, v) for v in raw]
    return list(dict.fromkeys(values)) if kind is int else values  # rounding may repeat integers


def _number(field: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"axis {field}: {text!r} is not a number or range (e.g. 3,5,7.5 or 1-5 (+2) or 1-10 [5])") from None
    if not math.isfinite(value):
        raise ValueError(f"axis {field}: {text!r} is not a finite number")
    return value


def _cast(field: str, kind, value: float):
    if kind is int:
        return int(round(value))
    return round(value, 6)


def _one_value(field: str, value):
    if field in NUMERIC_FIELDS:
        if field == "conditioning_scale" and isinstance(value, (list, tuple)):
            return [_number(field, str(v)) for v in value]
        return _cast(field, NUMERIC_FIELDS[field], _number(field, str(value)))
    return str(value)


def value_label(field: str, value) -> str:
    """How one value reads in a grid header or legend: 'CFG 5', 'LoRA strength 0.7', 'Seed 3'."""
    if field == TIER:
        return str(value)
    if field == PROFILE:
        return f"Profile {value}"
    if field == MODEL:
        return f"Model {value}"
    return request_fields()[field].header(value)
