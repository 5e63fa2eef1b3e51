"""One way to find, read and name presets and saved things, for every kind the lab has.

    path = find_preset("sweeps", "blog-guidance")     # presets/sweeps/blog-guidance.yaml, or a .yaml path
    data = read_mapping(path)                          # safe YAML, a mapping, one-line errors
    spec = from_mapping(SweepSpec, data, "sweep spec")  # unknown keys are errors that list the known ones

Names that come from a page or a command line go through `safe_name` / `check_name` before they touch
the disk, so they cannot leave their folder (prompt sets, datasets, runs, downloads).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import yaml

from engine.paths import PRESETS_DIR

PRESET_KINDS = {
    "models": PRESETS_DIR / "models",
    "sweeps": PRESETS_DIR / "sweeps",
    "train": PRESETS_DIR / "train",
    "descriptions": PRESETS_DIR / "prompts" / "descriptions",
    "templates": PRESETS_DIR / "prompts" / "templates",
}
NOUNS = {"models": "model", "sweeps": "sweep", "train": "training", "descriptions": "description",
         "templates": "template"}
YAML_SUFFIXES = (".yaml", ".yml")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def safe_name(text: str | None, fallback: str = "", limit: int = 64, replacement: str = "-") -> str:
    """A file or folder name that cannot leave its parent: letters, digits, - and _ only (else `fallback`)."""
    return re.sub(r"[^A-Za-z0-9_-]+", replacement, (text or "").strip()).strip("-_")[:limit] or fallback


def check_name(name: str | None, what: str) -> str:
    """`name` itself when it is a plain name (1-64 letters, digits, '.', '-', '_', no '..'); else ValueError."""
    if not name or not _NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"{what} name {name!r}: use 1-64 letters, digits, '-' or '_'")
    return name


def preset_names(kind: str) -> list[str]:
    return sorted(p.stem for p in _folder(kind).glob("*.yaml"))


def find_preset(kind: str, name_or_path: str) -> Path:
    """A preset by name (presets/<kind>/<name>.yaml), or a YAML file given by path (command line)."""
    path = Path(name_or_path or "")
    if path.suffix in YAML_SUFFIXES and path.is_file():
        return path
    folder = _folder(kind)
    candidate = folder / f"{name_or_path}.yaml"
    if name_or_path and _NAME.fullmatch(name_or_path) and ".." not in name_or_path and candidate.is_file():
        return candidate
    raise ValueError(f"unknown {NOUNS[kind]} preset {name_or_path!r}; presets: {', '.join(preset_names(kind))}")


def read_mapping(path: str | Path) -> dict:
    """A YAML file that must be a mapping (empty file: {}); errors are one line naming the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"{path.name}: cannot read it ({err})") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path.name}: not valid YAML ({str(err).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: expected a mapping of key: value")
    return data


def from_mapping(cls, data: dict, what: str):
    """cls(**data) for a dataclass, refusing keys it does not have (a typo must not be silently ignored)."""
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"{what} has unknown key(s) {unknown}; known: {', '.join(known)}")
    return cls(**data)


def _folder(kind: str) -> Path:
    if kind not in PRESET_KINDS:
        raise ValueError(f"unknown preset kind {kind!r}; kinds: {', '.join(PRESET_KINDS)}")
    return PRESET_KINDS[kind]
