"""What a finished generation leaves on disk besides its video: manifest.json, file hashes."""

from __future__ import annotations

import hashlib
import json
import platform
from functools import lru_cache
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


def sha256_file(path: str | Path) -> str:
    path = Path(path)
    stat = path.stat()
    return _sha256_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Where the lab writes pose videos with sidecars (keypoints.json, toy.json): the Pose tab's and `toy
# sample`'s outputs; the samples the lab ships (assets/*/) are searched too. Gradio copies an upload into its own cache, so a pose
# video sent from the Pose tab to the Sweep tab arrives without the files that lay beside it.
SIDECAR_ROOTS = ("outputs/pose", "outputs/toy")


def find_sidecar(video: str | Path, name: str) -> Path | None:
    """`name` beside `video`, or beside a video with the same content in one of the lab's own folders."""
    from engine.paths import ASSETS_DIR, workspace

    video = Path(video)
    if (video.parent / name).is_file():
        return video.parent / name
    if not video.is_file():
        return None
    digest = sha256_file(video)
    size = video.stat().st_size
    candidates = list(ASSETS_DIR.glob(f"*/{video.name}")) + [path for root in SIDECAR_ROOTS
                                                  for path in (workspace() / root).glob(f"*/{video.name}")]
    for candidate in candidates:
        if (candidate.is_file() and candidate.stat().st_size == size and (candidate.parent / name).is_file()
                and sha256_file(candidate) == digest):
            return candidate.parent / name
    return None


def device_label(device: str) -> str:
    """What trained a leg or timed an eval, for the model card: the GPU's name, or the CPU's cores and model."""
    import os

    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name()
    model = cpu_model()
    return f"cpu, {os.cpu_count()} cores" + (f", {model}" if model else "")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), or ''."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""
