"""What a finished generation leaves on disk besides its video: manifest.json."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

PACKAGES = ("torch", "diffusers", "transformers", "peft", "accelerate", "gradio", "numpy", "imageio", "safetensors")


def package_versions() -> dict:
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_json(data: dict, path: str | Path) -> Path:
    """Write via a temporary file so a killed process never leaves half a manifest."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)
    return path
