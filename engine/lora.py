"""Finding, loading and switching LoRA files. Only safetensors are read: nothing is ever unpickled.

Files from other tools (DiffSynth-Studio, ComfyUI / Kohya, musubi-tuner, original Wan names) are renamed to
diffusers' names in engine/lora_formats.py, checked against the model, then loaded by diffusers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from engine.lora_formats import LoraFile, check_lora_fits, for_transformer, read_lora_file
from engine.lru import LRU
from engine.paths import lora_dirs
from engine.records import sha256_file

logger = logging.getLogger(__name__)

MAX_LOADED_LORAS = 4


def list_loras() -> list[Path]:
    """LoRA files in the lab's folders, newest first."""
    found = [p for d in lora_dirs() if d.is_dir() for p in d.rglob("*.safetensors")]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


TRAINING_PROMPT_FILE = "training_prompt.txt"  # beside a trained LoRA: the prompt of its first clip


def training_prompt(path) -> str | None:
    """The prompt a LoRA was trained with, where the lab knows it: LORA.txt beside a single file, or the
    training_prompt.txt the trainer writes beside each LoRA it saves."""
    path = Path(path)
    for candidate in (path.with_suffix(".txt"), path.parent / TRAINING_PROMPT_FILE):
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8").strip()
            if text:
                return text.splitlines()[0]
    return None


def lora_label(path: Path) -> str:
    """A name to show: trained runs save every file as pytorch_lora_weights.safetensors, so name those by
    their run (and checkpoint) folder instead."""
    path = Path(path)
    if path.name != "pytorch_lora_weights.safetensors":
        return path.name
    for folder in lora_dirs():
        if folder in path.parents:
            return str(path.parent.relative_to(folder))
    return str(path.parent.name)


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


def read_lora_state_dict(path: str | Path) -> dict:
    """Tensors of a LoRA file of any known format, with diffusers' names (see engine/lora_formats.py)."""
    return read_lora_file(path).state_dict()


def read_fitting_lora(path: Path, transformer, model_name: str) -> LoraFile:
    lora = for_transformer(read_lora_file(path), transformer)
    check_lora_fits(lora, transformer, model_name)
    return lora


class LoraAdapters:
    """The LoRAs loaded into one pipeline, keyed by file hash; at most one is active at a time.

    A file is loaded once; changing strength only calls set_adapters, never reloads the model.
    """

    HOTSWAP_SLOT = "lab_lora"

    def __init__(self, model_name: str, capacity: int = MAX_LOADED_LORAS, hotswap: bool = False):
        self.model_name = model_name
        self.capacity = capacity
        self.hotswap = hotswap
        self._names = LRU(capacity)  # sha256 -> adapter name; an evicted adapter is dropped from the model
        self._active = False
        self._slot_sha: str | None = None  # hotswap mode: which file is in the one slot

    def activate(self, pipe, lora: str | None, scale: float) -> str | None:
        """Make `lora` (a path or name) the only active adapter at `scale`; None turns LoRAs off."""
        if self.hotswap:
            return self._activate_hotswapped(pipe, lora, scale)
        if lora is None:
            if self._active:
                pipe.disable_lora()
                self._active = False
            return None
        path = resolve_lora(lora)
        sha = sha256_file(path)
        if sha not in self._names:
            self._load(pipe, path, sha)
        pipe.enable_lora()
        pipe.set_adapters([self._names.get(sha)], adapter_weights=[scale])
        self._active = True
        return sha

    def clear(self):
        self._names.clear()
        self._active = False
        self._slot_sha = None

    def _activate_hotswapped(self, pipe, lora: str | None, scale: float) -> str | None:
        """One adapter slot for a compiled transformer: files are hotswapped in, and "no LoRA" is strength
        0 (exactly the base output), because disabling the adapter would change the compiled graph."""
        if lora is None:
            if self._slot_sha is not None:
                pipe.set_adapters([self.HOTSWAP_SLOT], adapter_weights=[0.0])
            return None
        path = resolve_lora(lora)
        sha = sha256_file(path)
        if sha != self._slot_sha:
            state = read_fitting_lora(path, pipe.transformer, self.model_name).state_dict()
            try:
                pipe.load_lora_weights(state, adapter_name=self.HOTSWAP_SLOT, hotswap=self._slot_sha is not None)
            except (ValueError, KeyError, RuntimeError) as err:
                raise ValueError(f"{path.name}: cannot be hotswapped into the compiled model "
                                 f"({str(err).splitlines()[0][:300]})") from None
            self._slot_sha = sha
            logger.info("hotswapped LoRA %s into the compiled transformer", path.name)
        pipe.set_adapters([self.HOTSWAP_SLOT], adapter_weights=[scale])
        return sha

    def _load(self, pipe, path: Path, sha: str):
        name = f"lora_{sha[:16]}"
        state = read_fitting_lora(path, pipe.transformer, self.model_name).state_dict()
        before = _lora_layer_count(pipe.transformer)
        try:
            pipe.load_lora_weights(state, adapter_name=name)
        except (ValueError, KeyError, RuntimeError) as err:
            _drop_adapter(pipe, name)
            raise ValueError(f"{path.name}: does not fit this model ({str(err).splitlines()[0][:300]})") from None
        if _lora_layer_count(pipe.transformer) == before and name not in _adapter_names(pipe):
            raise ValueError(f"{path.name}: none of its keys match a layer of {self.model_name}; "
                             "is it a LoRA for another model?")
        self._names.on_evict = lambda _sha, oldest: _drop_adapter(pipe, oldest)
        self._names.put(sha, name)
        logger.info("loaded LoRA %s as adapter %s", path.name, name)


def _lora_layer_count(module) -> int:
    return sum(1 for name, _ in module.named_modules() if name.endswith("lora_A"))


def _adapter_names(pipe) -> set:
    return {name for names in pipe.get_list_adapters().values() for name in names}


def _drop_adapter(pipe, name: str):
    if name in _adapter_names(pipe):
        pipe.delete_adapters([name])
