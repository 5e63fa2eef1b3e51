"""SweepSpec: a base request plus up to three axes (X columns, Y rows, Z separate grids).

YAML presets in presets/sweeps/ map 1:1 onto SweepSpec; unknown keys are errors. Expanding a spec gives
one Cell per combination, each with a full GenerationRequest, ordered so the costly switches (LoRA,
size, control video, reference) happen as rarely as possible.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.paths import ASSETS_DIR, REPO_ROOT
from engine.presets import find_preset, preset_names as names_of, read_mapping
from engine.request import GenerationRequest
from engine.profiles import profile_changes
from services.axes import parse_axis_values, value_label

AXIS_NAMES = ("x", "y", "z")
PRETRAINED = ("none", "pretrained", "")
LORA_PLACEHOLDER = "$lora"  # in a preset: the LoRA the user picks (--lora, or the UI's LoRA choice)
DEFAULT_TIERS = {
    "preview": {"height": 128, "width": 224, "num_frames": 17, "num_inference_steps": 10},
    "480p": {"height": 480, "width": 832, "num_frames": 81},
    "blog": {"height": 480, "width": 832, "num_frames": 65},
}


@dataclass
class Axis:
    """One varied field and its values, in order."""

    field: str
    values: list

    @classmethod
    def from_dict(cls, name: str, data) -> "Axis":
        if isinstance(data, str):  # command-line form FIELD=VALUES
            field_name, sep, values = data.partition("=")
            if not sep:
                raise ValueError(f"--{name} expects FIELD=VALUES, e.g. guidance_scale=3,5,7.5; got {data!r}")
            data = {"field": field_name.strip(), "values": values}
        if not isinstance(data, dict) or set(data) - {"field", "values"} or "field" not in data or "values" not in data:
            raise ValueError(f"axis {name} must have exactly 'field' and 'values', got {data!r}")
        return cls(field=data["field"], values=parse_axis_values(data["field"], data["values"]))

    def label(self, value) -> str:
        return value_label(self.field, value)


@dataclass
class SweepSpec:
    """A grid of generations."""

    name: str
    """Names the run folder and the downloads."""
    description: str = ""
    base: dict = field(default_factory=dict)
    """GenerationRequest fields shared by every cell (the model's defaults fill the rest)."""
    x: Axis | None = None
    y: Axis | None = None
    z: Axis | None = None
    prompts: dict = field(default_factory=dict)
    """Named prompt variants a 'prompt' axis picks from."""
    tiers: dict = field(default_factory=lambda: dict(DEFAULT_TIERS))
    """Named size/frame tiers a 'tier' axis picks from."""
    max_cells: int = 64
    """Refuse bigger grids (a typo in a range should not queue a night of work)."""
    models: dict = field(default_factory=dict)
    """Changes for one model family, applied before the user's own settings: {toy: {note, base, prompts}}. The
    toy reads only its puppet world's words, so a blog preset says its prompts again in them."""

    @classmethod
    def from_dict(cls, data: dict) -> "SweepSpec":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"sweep spec has unknown key(s) {unknown}; known: {', '.join(sorted(known))}")
        data = dict(data)
        for name in AXIS_NAMES:
            if data.get(name) is not None:
                data[name] = Axis.from_dict(name, data[name])
        unknown_fields = sorted(set(data.get("base") or {}) - set(GenerationRequest.field_names()))
        if unknown_fields:
            raise ValueError(f"sweep base has unknown field(s) {unknown_fields}")
        if data.get("base"):
            data["base"] = _repo_files(data["base"])
        for model, changes in (data.get("models") or {}).items():
            _check_model_changes(model, changes)
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "SweepSpec":
        path = Path(path)
        return cls.from_dict({"name": path.stem, **read_mapping(path)})

    @classmethod
    def from_preset(cls, name_or_path: str) -> "SweepSpec":
        return cls.from_yaml(find_preset("sweeps", name_or_path))

    def axes(self) -> dict[str, Axis]:
        return {name: axis for name in AXIS_NAMES if (axis := getattr(self, name)) is not None}

    def __post_init__(self):
        fields = [axis.field for axis in self.axes().values()]
        if len(fields) != len(set(fields)):
            raise ValueError(f"each field can vary on one axis only, got {fields}")
        if self.max_cells < 1:
            raise ValueError(f"max_cells must be at least 1, got {self.max_cells}")
        for axis in self.axes().values():
            if axis.field == "prompt":
                missing = [v for v in axis.values if v not in self.prompts]
                if missing:
                    raise ValueError(f"prompt axis names {missing} that the spec's prompts do not define; "
                                     f"defined: {list(self.prompts) or 'none'}")
            if axis.field == "tier":
                missing = [v for v in axis.values if v not in self.tiers]
                if missing:
                    raise ValueError(f"tier axis names {missing}; tiers: {list(self.tiers)}")
        cells = self.num_cells
        if cells > self.max_cells:
            sizes = " x ".join(str(len(a.values)) for a in self.axes().values())
            raise ValueError(f"the grid has {cells} cells ({sizes}), more than max_cells={self.max_cells}; "
                             "use fewer values; the cap is raised only on the command line "
                             "(sweep --max-cells N) or with max_cells: in a preset file")

    @property
    def num_cells(self) -> int:
        count = 1
        for axis in self.axes().values():
            count *= len(axis.values)
        return count

    @property
    def needs_lora(self) -> bool:
        """Whether the spec says $lora anywhere (the base or an axis value)."""
        return self.base.get("lora") == LORA_PLACEHOLDER or any(
            LORA_PLACEHOLDER in axis.values for axis in self.axes().values() if axis.field == "lora")

    def pretrained_half(self) -> "SweepSpec | None":
        """The spec without its $lora values (the blog's 'pretrained' row alone), or None where nothing is left
        (the LoRA is in the base, or it is the axis's only value)."""
        if self.base.get("lora") == LORA_PLACEHOLDER:
            return None
        axes = {}
        for name, axis in self.axes().items():
            if axis.field == "lora" and LORA_PLACEHOLDER in axis.values:
                kept = [value for value in axis.values if value != LORA_PLACEHOLDER]
                if not kept:
                    return None
                axes[name] = {"field": "lora", "values": kept}
        return self.with_changes(axes=axes)

    def with_changes(self, axes: dict | None = None, base: dict | None = None, **changes) -> "SweepSpec":
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields.update(changes, base={**self.base, **(base or {})})
        for name, axis in (axes or {}).items():
            fields[name] = Axis.from_dict(name, axis) if axis is not None else None
        return SweepSpec(**fields)  # checked as a whole, new axes and all

    def with_prompt_set(self, prompts: dict[str, str]) -> "SweepSpec":
        """The set's prompts added to the spec's, and swept by name on a free axis (prompt_axis_name) unless an
        axis already sweeps prompts (its names were chosen, so they stay)."""
        spec = dataclasses.replace(self, prompts={**self.prompts, **prompts})
        fields = [axis.field if axis else None for axis in (self.x, self.y, self.z)]
        if "prompt" in fields:
            return spec
        return spec.with_changes(axes={prompt_axis_name(fields): {"field": "prompt", "values": list(prompts)}})

    def for_model(self, family: str) -> tuple["SweepSpec", str]:
        """The spec as it runs on a model family (ModelSpec.family): its `models` entry's base fields and prompts
        laid over the preset's, and the entry's note (empty when the spec has nothing for this model)."""
        changes = self.models.get(family)
        if not changes:
            return self, ""
        spec = dataclasses.replace(self, base={**self.base, **_repo_files(changes.get("base") or {})},
                                   prompts={**self.prompts, **(changes.get("prompts") or {})}, models={})
        return spec, changes.get("note", "")

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for name in AXIS_NAMES:
            if data[name] is not None:
                data[name] = {"field": data[name]["field"], "values": data[name]["values"]}
        return data


def prompt_axis_name(fields: list) -> str:
    """Where a prompt set is swept, given each axis's field (x, y, z; None or "" when free): the axis already on
    prompt, else the first free one, else X."""
    if "prompt" in fields:
        return AXIS_NAMES[fields.index("prompt")]
    return next((name for name, field in zip(AXIS_NAMES, fields) if not field), "x")


@dataclass
class Cell:
    """One generation of the grid."""

    id: str
    position: dict
    """Index on each axis: {'x': 0, 'y': 1}."""
    values: dict
    """The varied fields' values: {'guidance_scale': 5.0, 'lora': 'none'}."""
    labels: dict
    """Header text per axis: {'x': 'CFG 5.0'}."""
    request: GenerationRequest
    model: str | None = None
    """The model preset this cell runs on (a 'model' axis); None: the sweep's engine."""

    @property
    def key(self) -> str:
        """Hash of the full request and model: a finished cell is reused only if nothing about it changed."""
        text = json.dumps({**self.request.to_dict(), **({"model": self.model} if self.model else {})},
                          sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _repo_file(value):
    """Presets name the lab's sample files relative to the repository, wherever the lab was started from."""
    if value and not Path(value).is_absolute() and (REPO_ROOT / value).is_file():
        return str(REPO_ROOT / value)
    return value


MODEL_CHANGE_KEYS = ("note", "base", "prompts")


def _repo_files(base: dict) -> dict:
    return {name: _repo_file(value) if name in ("control_video", "reference", "lora") else value
            for name, value in base.items()}


def _check_model_changes(model: str, changes) -> None:
    if not isinstance(changes, dict) or set(changes) - set(MODEL_CHANGE_KEYS):
        raise ValueError(f"sweep models.{model} may set only {', '.join(MODEL_CHANGE_KEYS)}, got {changes!r}")
    unknown = sorted(set(changes.get("base") or {}) - set(GenerationRequest.field_names()))
    if unknown:
        raise ValueError(f"sweep models.{model}.base has unknown field(s) {unknown}")


def preset_names() -> list[str]:
    return names_of("sweeps")


def expand(spec: SweepSpec, make_request, lora: str | None = None, inputs: dict | None = None,
           profiles: dict | None = None, model_requests=None) -> list[Cell]:
    """Every cell of the grid, cost-ordered. make_request(**fields) builds a request with model defaults;
    `inputs` (control_video, reference) fill in what the spec does not say (default: the shipped sample);
    `profiles` are the model's sampling profiles, which a 'profile' axis picks from. On a 'model' axis,
    model_requests(name) gives that model's make_request: each cell gets its own model's defaults where the
    sweep sets nothing."""
    axes = spec.axes()
    inputs = inputs or {"control_video": str(ASSETS_DIR / "pose.mp4"), "reference": str(ASSETS_DIR / "reference.png")}
    base = {"control_video": inputs["control_video"], "reference": inputs["reference"], **spec.base}
    base = _resolve_lora_field(base, lora)
    cells = []
    ranges = [range(len(axis.values)) for axis in axes.values()]
    for indices in itertools.product(*ranges):
        position = dict(zip(axes, indices))
        values = {axes[name].field: axes[name].values[i] for name, i in position.items()}
        fields = dict(base)
        model = values.get("model")
        for field_name, value in values.items():
            if field_name != "model":
                fields.update(_cell_fields(spec, field_name, value, lora, profiles or {}))
        cell_id = "-".join(f"{name}{i:02d}" for name, i in position.items()) or "single"
        labels = {name: axes[name].label(_shown_value(axes[name].values[i], lora)) for name, i in position.items()}
        if model is not None and model_requests is None:
            raise ValueError("a model axis needs the lab's engines: run it from the Sweep tab or the CLI")
        request = (model_requests(model) if model is not None else make_request)(**fields)
        cells.append(Cell(cell_id, position, values, labels, request, model))
    return sorted(cells, key=_switch_cost_order)


def _shown_value(value, lora: str | None):
    return lora if value == LORA_PLACEHOLDER and lora else value


def _resolve_lora_field(fields: dict, lora: str | None) -> dict:
    if fields.get("lora") == LORA_PLACEHOLDER:
        if not lora:
            raise ValueError("this sweep uses a LoRA: choose one (the LoRA list, or --lora FILE on the command line); "
                             "the Train tab's sample trains one in minutes")
        fields = {**fields, "lora": lora}
    return fields


def _cell_fields(spec: SweepSpec, field_name: str, value, lora: str | None, profiles: dict) -> dict:
    if field_name == "profile":
        return profile_changes(profiles, value)
    if field_name == "prompt":
        return {"prompt": spec.prompts[value]}
    if field_name == "tier":
        return dict(spec.tiers[value])
    if field_name == "lora":
        if value in PRETRAINED:
            return {"lora": None}
        return _resolve_lora_field({"lora": _repo_file(value)}, lora)
    return {field_name: value}


def _switch_cost_order(cell: Cell):
    r = cell.request
    # Most expensive switch first: loading a model, a LoRA, then resizing (new conditioning encode), then inputs.
    return (cell.model or "", r.lora or "", r.height, r.width, r.num_frames, r.control_video, r.reference or "", cell.id)


def lora_or_fallback(spec: SweepSpec, lora: str | None, shipped_lora: Path | None = None) -> tuple[SweepSpec, str | None, str]:
    """What to run when a spec needs $lora: the chosen LoRA; else the shipped one (the toy's blog-in-a-box
    LoRA); else the pretrained half. Returns (spec, lora, a note saying which, empty when nothing changed)."""
    if not spec.needs_lora or lora:
        return spec, lora, ""
    if shipped_lora is not None and Path(shipped_lora).is_file():
        return spec, str(shipped_lora), f"No LoRA chosen: using the toy's blog-in-a-box LoRA ({Path(shipped_lora).name})."
    half = spec.pretrained_half()
    if half is None:
        return spec, None, ""  # expand() refuses with the one-line reason
    return half, None, ("No LoRA chosen: running the pretrained half only. Choose a LoRA for the other row "
                        "(the Train tab's sample trains one in minutes).")
