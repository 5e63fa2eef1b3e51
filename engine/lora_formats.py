"""LoRA files from other tools: recognise the format, rename every layer to diffusers' names, and write the
lab's own LoRAs back out in ComfyUI naming.

What one layer (block 0's self-attention query) looks like in each format:

    diffusers / peft     transformer.blocks.0.attn1.to_q.lora_A.weight         the lab's own files
    DiffSynth-Studio     blocks.0.self_attn.q.lora_A.default.weight            its trainer keeps peft's adapter name
    original Wan         diffusion_model.blocks.0.self_attn.q.lora_A.weight    (the prefix is optional)
    ComfyUI / Kohya      diffusion_model.blocks.0.self_attn.q.lora_down.weight + .lora_up.weight + .alpha
                         (+ .diff_b for a bias, + .diff for a whole-weight change)
    musubi-tuner         lora_unet_blocks_0_self_attn_q.lora_down.weight + .lora_up.weight + .alpha

The VACE branch is `vace_blocks.N` in all of them; its projections are `before_proj` / `after_proj` in the
original names and `proj_in` / `proj_out` in diffusers'. We convert here rather than through diffusers'
own converter because that one knows only the main blocks: a LoRA on the VACE branch (DiffSynth trains
one with `--lora_base_model vace`) failed to load. Loading itself stays with diffusers' `load_lora_weights`.

`alpha` (and peft's `lora_alpha`) scales a layer by alpha / rank; we fold that factor into the down matrix
so every converted file means exactly what it meant in the tool that wrote it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

DIFFUSERS = "diffusers / peft"
DIFFSYNTH = "DiffSynth-Studio trainer"
ORIGINAL = "original Wan names (lora_A / lora_B)"
COMFYUI = "ComfyUI / Kohya (lora_down / lora_up)"
MUSUBI = "musubi-tuner"

# Prefixes other tools put before the module name; stripped in this order.
_PREFIXES = ("base_model.model.", "model.diffusion_model.", "diffusion_model.", "transformer.",
             "pipe.dit.", "pipe.vace.", "dit.", "vace.")
_MUSUBI_PREFIX = "lora_unet_"
_MATRIX_KEY = re.compile(r"^(?P<module>.+?)\.(?P<part>lora_A|lora_B|lora_down|lora_up)"
                         r"(?:\.(?P<adapter>[^.]+))?\.(?P<param>weight|bias)$")
_EXTRA_KEY = re.compile(r"^(?P<module>.+)\.(?P<part>alpha|diff|diff_b)$")

# Inside a block: original Wan name -> diffusers name.
_BLOCK_NAMES = {"self_attn.q": "attn1.to_q", "self_attn.k": "attn1.to_k", "self_attn.v": "attn1.to_v",
                "self_attn.o": "attn1.to_out.0", "cross_attn.q": "attn2.to_q", "cross_attn.k": "attn2.to_k",
                "cross_attn.v": "attn2.to_v", "cross_attn.o": "attn2.to_out.0",
                "cross_attn.k_img": "attn2.add_k_proj", "cross_attn.v_img": "attn2.add_v_proj",
                "ffn.0": "ffn.net.0.proj", "ffn.2": "ffn.net.2",
                "before_proj": "proj_in", "after_proj": "proj_out"}
# Outside the blocks.
_TOP_NAMES = {"head.head": "proj_out", "time_projection.1": "condition_embedder.time_proj",
              "text_embedding.0": "condition_embedder.text_embedder.linear_1",
              "text_embedding.2": "condition_embedder.text_embedder.linear_2",
              "time_embedding.0": "condition_embedder.time_embedder.linear_1",
              "time_embedding.2": "condition_embedder.time_embedder.linear_2"}
_DIFFUSERS_BLOCK_NAMES = set(_BLOCK_NAMES.values())
# Wan-Animate-2's transformer (diffusers' WanAnimate2Transformer3DModel) keeps the original block and top names
# but diffusers' attention projections: its own name -> diffusers' WanTransformer name, and back when a LoRA is
# loaded into it (for_transformer).
_ANIMATE2_BLOCK_NAMES = {f"{original}.{projection}": f"{diffusers_name}.{projection}"
                         for original, diffusers_name in (("self_attn", "attn1"), ("cross_attn", "attn2"))
                         for projection in ("to_q", "to_k", "to_v", "to_out.0")}
_ANIMATE2_BLOCK_NAMES.update({"cross_attn.add_k_proj": "attn2.add_k_proj", "cross_attn.add_v_proj": "attn2.add_v_proj",
                              "ffn.0": "ffn.net.0.proj", "ffn.2": "ffn.net.2"})
_DIFFUSERS_TOP_NAMES = set(_TOP_NAMES.values())
_BLOCK = re.compile(r"^(?P<branch>vace_blocks|blocks)\.(?P<index>\d+)\.(?P<rest>.+)$")
_MUSUBI_BLOCK = re.compile(r"^(?P<branch>vace_blocks|blocks)_(?P<index>\d+)_(?P<rest>.+)$")
# Wan2.2-Animate's face cross-attention after every few blocks (diffusers' WanAnimateTransformer3DModel).
_FACE_ADAPTER = re.compile(r"^face_adapter\.\d+\.(to_q|to_k|to_v|to_out)$")


@dataclass
class LoraLayer:
    """One adapted linear layer: down (rank x in) and up (out x rank) with alpha folded in, and an optional bias."""

    down: object = None
    up: object = None
    alpha: float | None = None
    bias: object = None

    @property
    def rank(self) -> int:
        return int(self.down.shape[0])


@dataclass
class LoraFile:
    """A LoRA file read into diffusers' module names."""

    name: str
    format: str
    layers: dict[str, LoraLayer]
    ignored: list[str] = field(default_factory=list)  # what the file holds that we do not apply, said once

    def state_dict(self) -> dict:
        """Keys and tensors as diffusers' load_lora_weights takes them, alpha / rank folded into lora_A."""
        import torch

        state = {}
        # peft gives every layer a bias once one has it: the others get explicit zeros, which change nothing.
        any_bias = any(layer.bias is not None for layer in self.layers.values())
        for module, layer in self.layers.items():
            scale = 1.0 if layer.alpha is None else layer.alpha / layer.rank
            down = layer.down if scale == 1.0 else (layer.down.float() * scale).to(layer.down.dtype)
            state[f"transformer.{module}.lora_A.weight"] = down
            state[f"transformer.{module}.lora_B.weight"] = layer.up
            if any_bias:
                bias = layer.bias if layer.bias is not None else torch.zeros(layer.up.shape[0], dtype=layer.up.dtype)
                state[f"transformer.{module}.lora_B.bias"] = bias
        return state

    def summary(self) -> str:
        branches = sorted({"VACE branch" if m.startswith("vace_blocks.") else "main blocks" if m.startswith("blocks.")
                           else "face adapter" if m.startswith("face_adapter.") else "embeddings/head"
                           for m in self.layers})
        ranks = sorted({layer.rank for layer in self.layers.values()})
        rank = str(ranks[0]) if len(ranks) == 1 else f"{ranks[0]}-{ranks[-1]}"
        return f"{self.format}: {len(self.layers)} layers ({', '.join(branches)}), rank {rank}"


def read_lora_file(path: str | Path) -> LoraFile:
    """Read a .safetensors LoRA of any known format; a ValueError names the format and what did not fit."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            state = {key: handle.get_tensor(key) for key in handle.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise ValueError(f"{path.name}: not a readable safetensors file ({err})") from None
    if not state:
        raise ValueError(f"{path.name}: the file holds no tensors")
    if not any("lora" in key for key in state):
        raise ValueError(f"{path.name}: no LoRA weights in this file (no key contains 'lora')")
    return parse_lora_state(state, path.name, peft_alpha(metadata))


def peft_alpha(metadata: dict) -> float | None:
    """lora_alpha / r as diffusers' save_lora_weights records them (peft's scale); None when not recorded."""
    raw = metadata.get("lora_adapter_metadata")
    if not raw:
        return None
    try:
        config = json.loads(raw)
    except json.JSONDecodeError:
        return None
    alpha = config.get("transformer.lora_alpha")
    return float(alpha) if alpha is not None else None


def parse_lora_state(state: dict, name: str = "LoRA", default_alpha: float | None = None) -> LoraFile:
    layers: dict[str, LoraLayer] = {}
    families, styles, unmatched, ignored = {}, set(), [], []
    for key, tensor in state.items():
        parsed = _parse_key(key)
        if parsed is None:
            unmatched.append(key)
            continue
        module, part, family = parsed
        families.setdefault(family, key)
        if module is None:
            unmatched.append(key)
            continue
        if part == "norm diff":
            ignored.append(key)
            continue
        layer = layers.setdefault(module, LoraLayer())
        if part in ("lora_A", "lora_down"):
            styles.add(part)
            layer.down = tensor
        elif part in ("lora_B", "lora_up"):
            styles.add(part)
            layer.up = tensor
        elif part in ("lora_B.bias", "diff_b"):
            layer.bias = tensor
        elif part == "alpha":
            layer.alpha = float(tensor.float().reshape(-1)[0])
        elif part in ("diff", "norm diff"):
            ignored.append(key)
    _refuse_mixed_formats(name, families, styles)
    if len(unmatched) == len(state):
        raise ValueError(f"{name}: none of its keys names a layer of Wan (first: {unmatched[0]}); "
                         "is it a LoRA for another model?")
    if unmatched:
        fmt = _format_name(families, styles)
        raise ValueError(f"{name}: looks like a {fmt} LoRA, but {len(unmatched)} of its {len(state)} keys are not "
                         f"a LoRA layer of Wan (first: {unmatched[0]})")
    ignored += [f"{m} (a bias without LoRA matrices)" for m, layer in layers.items() if layer.down is None and layer.up is None]
    layers = {m: layer for m, layer in layers.items() if layer.down is not None or layer.up is not None}
    incomplete = [m for m, layer in layers.items() if layer.down is None or layer.up is None]
    if incomplete:
        raise ValueError(f"{name}: layer {incomplete[0]} has only one of its two LoRA matrices")
    if not layers:
        raise ValueError(f"{name}: no LoRA layers in this file")
    if default_alpha is not None:
        for layer in layers.values():
            if layer.alpha is None:
                layer.alpha = default_alpha
    result = LoraFile(name=name, format=_format_name(families, styles), layers=layers, ignored=ignored)
    if ignored:
        logger.warning("%s: not applied (diffusers skips them too): %d whole-weight, norm or bias-only entries, e.g. %s",
                       name, len(ignored), ignored[0])
    return result


def _parse_key(key: str):
    """(diffusers module name or None, part, naming family) for one key; None when it is no LoRA key at all."""
    if key.startswith(_MUSUBI_PREFIX):
        head, _, tail = key[len(_MUSUBI_PREFIX):].partition(".")
        part = tail.removesuffix(".weight")
        if part not in ("lora_down", "lora_up", "alpha"):
            return None
        return _musubi_module(head), part, "musubi"
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
    match = _MATRIX_KEY.match(key)
    if match:
        part = match["part"] + (".bias" if match["param"] == "bias" else "")
        if match["param"] == "bias" and match["part"] != "lora_B":
            return None
        module, family = _diffusers_module(match["module"])
        if match["adapter"] and family == "original":
            family = "diffsynth"
        return module, part, family
    match = _EXTRA_KEY.match(key)
    if match:
        module, family = _diffusers_module(match["module"])
        if module is None and match["part"] in ("diff", "diff_b") and _is_norm_or_modulation(match["module"]):
            return match["module"], "norm diff", family  # changes to norms (zero in the files we know): not applied
        return module, match["part"], family
    return None


def _is_norm_or_modulation(module: str) -> bool:
    return bool(re.search(r"(^|\.)(norm\w*|modulation)$", module))


def _diffusers_module(module: str):
    """(diffusers name, 'diffusers' | 'original') for a module in either naming; (None, '?') if it is neither."""
    block = _BLOCK.match(module)
    if block:
        rest = block["rest"]
        if rest in _DIFFUSERS_BLOCK_NAMES:
            return module, "diffusers"
        if rest in _ANIMATE2_BLOCK_NAMES and rest not in _BLOCK_NAMES:
            return f"{block['branch']}.{block['index']}.{_ANIMATE2_BLOCK_NAMES[rest]}", "animate-2"
        if rest in _BLOCK_NAMES:
            return f"{block['branch']}.{block['index']}.{_BLOCK_NAMES[rest]}", "original"
        return None, "?"
    if module in _TOP_NAMES:
        return _TOP_NAMES[module], "original"
    if module in _DIFFUSERS_TOP_NAMES or _FACE_ADAPTER.match(module):
        return module, "diffusers"
    return None, "?"


def _musubi_module(head: str) -> str | None:
    block = _MUSUBI_BLOCK.match(head)
    if not block:
        return None
    for original, diffusers_name in _BLOCK_NAMES.items():
        if block["rest"] == original.replace(".", "_"):
            return f"{block['branch']}.{block['index']}.{diffusers_name}"
    return None


def _refuse_mixed_formats(name: str, families: dict, styles: set):
    named = {f: k for f, k in families.items() if f != "?"}
    if "diffsynth" in named:
        named.pop("original", None)  # DiffSynth files are original names plus an adapter name
    if "animate-2" in named:
        named.pop("original", None)  # Wan-Animate-2's own names are the original ones outside its attention
    if len(named) > 1:
        examples = "; ".join(f"{_FAMILY_LABELS[f]}: {k}" for f, k in named.items())
        raise ValueError(f"{name}: mixes LoRA formats in one file ({examples}); convert it to one format first")
    if {"lora_A", "lora_B"} & styles and {"lora_down", "lora_up"} & styles and "musubi" not in named:
        raise ValueError(f"{name}: mixes lora_A/lora_B and lora_down/lora_up keys in one file; convert it to one format first")


_FAMILY_LABELS = {"diffusers": "diffusers names", "original": "original Wan names", "diffsynth": "DiffSynth names",
                  "musubi": "musubi names"}


def _format_name(families: dict, styles: set) -> str:
    if "musubi" in families:
        return MUSUBI
    if "diffsynth" in families:
        return DIFFSYNTH
    if "animate-2" in families:
        return DIFFUSERS
    if "lora_down" in styles or "lora_up" in styles:
        return COMFYUI
    if "original" in families:
        return ORIGINAL
    return DIFFUSERS


def for_transformer(lora: LoraFile, transformer) -> LoraFile:
    """The LoRA with its layers named as `transformer` names them: diffusers' WanTransformer names (what
    parse_lora_state gives) for VACE and Animate, Wan-Animate-2's own for its transformer."""
    modules = dict(transformer.named_modules())
    if "blocks.0.attn1" in modules or "blocks.0.self_attn" not in modules:
        return lora
    to_animate2 = {diffusers_name: own for own, diffusers_name in _ANIMATE2_BLOCK_NAMES.items()}
    top = {diffusers_name: original for original, diffusers_name in _TOP_NAMES.items()}
    renamed = {}
    for module, layer in lora.layers.items():
        block = _BLOCK.match(module)
        if block and block["rest"] in to_animate2:
            module = f"{block['branch']}.{block['index']}.{to_animate2[block['rest']]}"
        renamed[top.get(module, module)] = layer
    return dataclasses.replace(lora, layers=renamed)


def check_lora_fits(lora: LoraFile, transformer, model_name: str):
    """Every layer of the file exists in the transformer with the same shape, or one line says which not."""
    modules = dict(transformer.named_modules())
    missing = [m for m in lora.layers if m not in modules]
    if len(missing) == len(lora.layers):
        raise ValueError(f"{lora.name}: a {lora.format} LoRA, but none of its {len(lora.layers)} layers is in "
                         f"{model_name} (first: {missing[0]}); is it a LoRA for another model?")
    if missing:
        raise ValueError(f"{lora.name}: a {lora.format} LoRA, but {len(missing)} of its {len(lora.layers)} layers "
                         f"are not in {model_name} (first: {missing[0]}); is it for a model with more blocks?")
    for module, layer in lora.layers.items():
        target = modules[module]
        expected = (getattr(target, "in_features", None), getattr(target, "out_features", None))
        found = (int(layer.down.shape[-1]), int(layer.up.shape[0]))
        if expected != found:
            raise ValueError(f"{lora.name}: a {lora.format} LoRA for another model size: layer {module} is "
                             f"{found[0]}->{found[1]} in the file and {expected[0]}->{expected[1]} in {model_name}")


def export_comfyui(source: str | Path, target: str | Path) -> Path:
    """Write a LoRA of any known format in ComfyUI / Wan2GP naming: `diffusion_model.<original Wan name>`
    with lora_down / lora_up, alpha = rank (the scale is already folded in) and diff_b for biases."""
    from safetensors.torch import save_file

    lora = read_lora_file(source)
    state = {}
    for key, tensor in lora.state_dict().items():
        module, part = tensor_key_parts(key)
        original = f"diffusion_model.{_original_module(module)}"
        if part == "lora_A.weight":
            state[f"{original}.lora_down.weight"] = tensor.contiguous()
            state[f"{original}.alpha"] = _scalar(tensor.shape[0], tensor.dtype)
        elif part == "lora_B.weight":
            state[f"{original}.lora_up.weight"] = tensor.contiguous()
        elif part == "lora_B.bias":
            state[f"{original}.diff_b"] = tensor.contiguous()
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(target), metadata={"format": "pt", "converted_by": "VACE Lab", "source_format": lora.format})
    return target


def tensor_key_parts(key: str) -> tuple[str, str]:
    """'transformer.blocks.0.attn1.to_q.lora_A.weight' -> ('blocks.0.attn1.to_q', 'lora_A.weight')."""
    key = key.removeprefix("transformer.")
    for part in ("lora_A.weight", "lora_B.weight", "lora_B.bias"):
        if key.endswith("." + part):
            return key[: -len(part) - 1], part
    raise ValueError(f"not a diffusers LoRA key: {key}")


def _original_module(module: str) -> str:
    for original, diffusers_name in _TOP_NAMES.items():
        if module == diffusers_name:
            return original
    block = _BLOCK.match(module)
    if block:
        for original, diffusers_name in _BLOCK_NAMES.items():
            if block["rest"] == diffusers_name:
                if diffusers_name in ("proj_in", "proj_out") and block["branch"] != "vace_blocks":
                    break
                return f"{block['branch']}.{block['index']}.{original}"
    raise ValueError(f"no original Wan name for layer {module}")


def _scalar(value, dtype):
    import torch

    return torch.tensor(float(value), dtype=dtype)
