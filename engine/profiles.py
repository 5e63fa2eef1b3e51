"""Sampling profiles: sampler, steps, sigmas, guidance and shift set together, named in a model preset.

Step-distilled LoRAs (CausVid for the 1.3B, lightx2v's for the 14B) were trained for one few-step schedule
without classifier-free guidance; with the default 50 UniPC steps at guidance 5 they give burnt, jittery
video. A profile carries the settings their authors' tools use, with a note saying where they come from.
A LoRA's file name or metadata may suggest a profile; the student then picks it (it is never applied
behind their back).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

# The request fields a profile may set. step_cache is always cleared: a cache that skips steps and a
# schedule of 4 steps would fight (GenerationRequest refuses the pair).
PROFILE_FIELDS = ("sampler", "sigmas", "num_inference_steps", "guidance_scale", "flow_shift", "lora_scale")
DEFAULT_PROFILE = "default"


@dataclass(frozen=True)
class SamplingProfile:
    name: str
    settings: dict
    """Request fields (PROFILE_FIELDS) and their values."""
    note: str = ""
    """Where the settings come from and what to try next, shown beside the choice."""
    lora_hints: tuple = field(default_factory=tuple)
    """Lower-case words in a LoRA's file name or metadata that suggest this profile."""

    @classmethod
    def from_mapping(cls, name: str, data: dict) -> "SamplingProfile":
        data = dict(data or {})
        note = str(data.pop("note", ""))
        hints = tuple(str(h).lower() for h in data.pop("lora_hints", []))
        unknown = sorted(set(data) - set(PROFILE_FIELDS))
        if unknown:
            raise ValueError(f"profile {name!r} sets unknown field(s) {unknown}; a profile sets {list(PROFILE_FIELDS)}")
        if "sigmas" in data and data.get("num_inference_steps", len(data["sigmas"])) != len(data["sigmas"]):
            raise ValueError(f"profile {name!r}: {len(data['sigmas'])} sigmas but num_inference_steps "
                             f"{data['num_inference_steps']}")
        if "sigmas" in data:
            data["num_inference_steps"] = len(data["sigmas"])
        return cls(name=name, settings=data, note=note, lora_hints=hints)


def model_profiles(spec) -> dict[str, SamplingProfile]:
    """The model preset's profiles, after 'default' (the preset's own request defaults, sigmas cleared)."""
    import dataclasses

    from engine.request import GenerationRequest

    # Every field a profile may change, back to the model's value (LoRA strength stays the student's).
    fields = {f.name: f.default for f in dataclasses.fields(GenerationRequest) if f.name in PROFILE_FIELDS}
    fields.pop("lora_scale")
    fields.update({k: v for k, v in spec.defaults.items() if k in fields})
    profiles = {DEFAULT_PROFILE: SamplingProfile(DEFAULT_PROFILE, fields, note="The model's own sampling settings.")}
    for name, data in (spec.profiles or {}).items():
        profiles[name] = SamplingProfile.from_mapping(name, data)
    return profiles


def profile_changes(profiles: dict[str, SamplingProfile], name: str) -> dict:
    """The request fields a profile sets (with the step cache off); ValueError names the choices."""
    if name not in profiles:
        raise ValueError(f"unknown profile {name!r}; this model's profiles: {', '.join(profiles)}")
    profile = profiles[name]
    changes = {"sigmas": None, **profile.settings, "step_cache": None}
    return changes


def suggest_profile(profiles: dict[str, SamplingProfile], lora: str | Path | None) -> SamplingProfile | None:
    """The profile a LoRA's file name or metadata points at, if any (a suggestion: the user picks it)."""
    if not lora:
        return None
    text = Path(str(lora)).name.lower() + " " + _metadata_text(lora).lower()
    for profile in profiles.values():
        if any(hint in text for hint in profile.lora_hints):
            return profile
    return None


def _metadata_text(path) -> str:
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            return json.dumps(handle.metadata() or {})
    except Exception:  # a missing or unreadable file suggests nothing; loading it reports the problem
        return ""
