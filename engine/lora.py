"""Finding, reading and checking LoRA files. Only safetensors are read: nothing is ever unpickled.

diffusers' Wan loader converts files whose keys start with `diffusion_model.` (original Wan /
ComfyUI naming) and musubi-tuner files. DiffSynth-Studio saves the original Wan names without that
prefix (`blocks.0.self_attn.q.lora_A.weight`), so we add the prefix and let diffusers convert them.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from engine.paths import lora_dirs

# Original Wan module names, as DiffSynth-Studio writes them.
_ORIGINAL_WAN_KEY = re.compile(r"^blocks\.\d+\.(self_attn|cross_attn|ffn)\.")


def list_loras() -> list[Path]:
    """LoRA files in the lab's folders, newest first."""
    found = [p for d in lora_dirs() if d.is_dir() for p in d.rglob("*.safetensors")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def resolve_lora(name_or_path: str) -> Path:
    """A path to a .safetensors file, or the name of one in the lab's LoRA folders."""
    path = Path(name_or_path)
    if not path.is_file():
        matches = [p for d in lora_dirs() for p in (d / name_or_path, d / f"{name_or_path}.safetensors") if p.is_file()]
        if not matches:
            raise ValueError(f"LoRA not found: {name_or_path} (looked in {', '.join(str(d) for d in lora_dirs())})")
        path = matches[0]
    if path.suffix != ".safetensors":
        raise ValueError(f"{path.name}: only .safetensors LoRA files are loaded (pickled .pt/.bin/.ckpt files are refused)")
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


def read_lora_state_dict(path: str | Path) -> dict:
    """Tensors of a LoRA file, with DiffSynth-Studio key names prefixed so diffusers converts them."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{path.name}: not a readable safetensors file ({err})") from None
    if not state:
        raise ValueError(f"{path.name}: the file holds no tensors")
    if not any("lora" in key for key in state):
        raise ValueError(f"{path.name}: no LoRA weights in this file (no key contains 'lora')")
    if all(_ORIGINAL_WAN_KEY.match(key) for key in state if "lora" in key):
        state = {f"diffusion_model.{key}": value for key, value in state.items()}
    return state
