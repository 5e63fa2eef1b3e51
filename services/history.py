"""Past work: sweep runs (find them, reopen them, compare two cells, re-run one cell), single generations and
training runs (find them and say what they were)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.request import field_info
from services.metrics import label
from services.runner import SweepOutcome, SweepRunner
from services.sweep_spec import SweepSpec


def list_runs(root: str | Path) -> list[Path]:
    """Run folders (those with a manifest.json) under root, newest first."""
    root = Path(root)
    if not root.is_dir():
        return []
    runs = [p.parent for p in root.glob("*/manifest.json")]
    return sorted(runs, key=lambda p: p.stat().st_mtime, reverse=True)


def resolve_run(root: str | Path, name: str) -> Path:
    """A run folder by name; names from elsewhere cannot reach outside root."""
    for run in list_runs(root):
        if run.name == name:
            return run
    raise ValueError(f"no run named {name!r} under {root}")


def run_title(run: Path) -> str:
    """What a run swept, how big it is and when: 'guidance_scale x seed, 9 cells, 20:14'."""
    import time

    try:
        manifest = load_manifest(run)
    except ValueError:
        return f"{Path(run).name} (unreadable manifest)"
    spec = manifest.get("spec", {})
    fields = " x ".join(spec[name]["field"] for name in ("x", "y", "z") if spec.get(name)) or "single cell"
    cells = len(manifest.get("cells", []))
    when = time.strftime("%H:%M:%S", time.localtime(Path(run).stat().st_mtime))
    day = time.strftime("%Y-%m-%d", time.localtime(Path(run).stat().st_mtime))
    today = time.strftime("%Y-%m-%d")
    status = "" if manifest.get("status") == "complete" else f", {manifest.get('status')}"
    return f"{fields}, {cells} cells{status}, {when if day == today else day + ' ' + when}"


def load_manifest(run: Path) -> dict:
    try:
        return json.loads((Path(run) / "manifest.json").read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{Path(run).name}: cannot read its manifest ({err})") from None


def run_summary(manifest: dict) -> str:
    spec = manifest["spec"]
    axes = ", ".join(f"{name.upper()}: {spec[name]['field']}" for name in ("x", "y", "z") if spec.get(name))
    statuses = [cell.get("status") for cell in manifest["cells"]]
    counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
    return (f"**{spec['name']}** on {manifest['model']['name']} · {axes or 'single cell'} · "
            f"{len(statuses)} cells ({counts}) · {manifest['status']}")


def field_label(name: str) -> str:
    """A request field's human name, as the page's widgets and the grid's labels give it."""
    try:
        return field_info(name).label
    except ValueError:
        return name.replace("_", " ")


def diff_cells(manifest: dict, first: str, second: str) -> list[tuple[str, object, object]]:
    """(name, first value, second value) for every request field and metric that differs."""
    cells = {cell["id"]: cell for cell in manifest["cells"]}
    for cell_id in (first, second):
        if cell_id not in cells:
            raise ValueError(f"no cell {cell_id!r} in this run; cells: {', '.join(cells)}")
    a, b = cells[first], cells[second]
    rows = [(field_label(f), a["request"].get(f), b["request"].get(f)) for f in a["request"]
            if a["request"].get(f) != b["request"].get(f)]
    metrics = sorted(set(a.get("metrics") or {}) | set(b.get("metrics") or {}))
    rows += [(label(m), (a.get("metrics") or {}).get(m), (b.get("metrics") or {}).get(m)) for m in metrics]
    rows += [("status", a.get("status"), b.get("status"))] if a.get("status") != b.get("status") else []
    return rows


def reopen(engine, run: Path) -> SweepRunner:
    """The runner of a past run, with the same cells (same ids and requests)."""
    manifest = load_manifest(run)
    spec = SweepSpec.from_dict(manifest["spec"])
    runner = SweepRunner(engine, spec, run, lora=manifest.get("lora_choice"))
    recorded = {cell["id"]: cell["request"] for cell in manifest["cells"]}
    changed = [c.id for c in runner.cells if recorded.get(c.id) != c.request.to_dict()]
    if changed:
        raise ValueError(f"this run's cells cannot be rebuilt the same way (changed: {', '.join(changed[:3])}); "
                         "its files or presets moved")
    return runner


def render_full(engine, run: Path, cell_id: str) -> Path:
    """A (preview) cell again at the model's full settings: its default size, frame count and steps, with the
    cell's seed, prompt, guidance and LoRA. Written to <run>/full/<cell>/; the sweep itself is unchanged."""
    runner = reopen(engine, run)
    cell = next((c for c in runner.cells if c.id == cell_id), None)
    if cell is None:
        raise ValueError(f"no cell {cell_id!r} in {run.name}")
    full = engine.default_request(control_video=cell.request.control_video)
    request = cell.request.replace(height=full.height, width=full.width, num_frames=full.num_frames,
                                   num_inference_steps=full.num_inference_steps)
    result = engine.generate(request, out_dir=run / "full" / cell_id)
    return Path(result.video_path)


def rerun_cell(engine, run: Path, cell_id: str) -> dict:
    """Generate one cell again (e.g. one that failed), then refresh cells.csv, the manifest and the grids."""
    runner = reopen(engine, run)
    cell = next((c for c in runner.cells if c.id == cell_id), None)
    if cell is None:
        raise ValueError(f"no cell {cell_id!r} in {run.name}")
    record = runner.run_cell(cell, on_step=None, should_stop=None)
    runner.finish(SweepOutcome(records={cell.id: record}))
    return record


# ---- generations and training runs ---------------------------------------------------------------------


def _when(path: Path) -> str:
    import time

    stamp = time.localtime(path.stat().st_mtime)
    same_day = time.strftime("%Y-%m-%d", stamp) == time.strftime("%Y-%m-%d")
    return time.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M:%S", stamp)


def list_generations(root: str | Path) -> list[Path]:
    """Generate tab outputs (folders with a video.mp4 and manifest.json) under root, newest first."""
    root = Path(root)
    found = [p.parent for p in root.glob("*/manifest.json") if (p.parent / "video.mp4").is_file()] if root.is_dir() else []
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def generation_title(folder: Path) -> str:
    """'generation: "a person in a red top...", seed 1, 14:03:27'."""
    request = _read_json(folder / "manifest.json").get("request", {})
    prompt = (request.get("prompt") or "").strip() or "(no prompt)"
    prompt = prompt if len(prompt) <= 40 else prompt[:37] + "..."
    return f'generation: "{prompt}", seed {request.get("seed", "?")}, {_when(folder)}'


def generation_summary(folder: Path) -> str:
    manifest = _read_json(folder / "manifest.json")
    request = manifest.get("request", {})
    shown = ("prompt", "guidance_scale", "num_inference_steps", "seed", "lora", "lora_scale", "height", "width",
             "num_frames")
    rows = "\n".join(f"| {field_label(name)} | {request.get(name)} |" for name in shown if name in request)
    return f"**Generation {folder.name}**, model {manifest.get('model', '?')}\n\n| field | value |\n|---|---|\n{rows}"


def list_training_runs(root: str | Path) -> list[Path]:
    """Training runs (folders with a loss.csv) under root, newest first."""
    root = Path(root)
    found = [p.parent for p in root.glob("*/loss.csv")] if root.is_dir() else []
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def training_title(run: Path) -> str:
    """'training: 20261206-blog, 150 steps, 14:03:27'."""
    return f"training: {run.name}, {_training_steps(run)} steps, {_when(run)}"


def training_summary(run: Path) -> str:
    record = _read_json(run / "run.json")
    lines = [f"**Training run {run.name}**: {_training_steps(run)} steps"]
    if record.get("dataset"):
        lines.append(f"- dataset: {record['dataset']}")
    if record.get("prompt"):
        lines.append(f"- training prompt: *{record['prompt']}*")
    checkpoints = sorted(p.parent.name for p in run.glob("checkpoint-*/pytorch_lora_weights.safetensors"))
    if checkpoints:
        lines.append(f"- checkpoints: {', '.join(checkpoints)}")
    return "\n".join(lines)


def _training_steps(run: Path) -> int:
    import csv

    with (run / "loss.csv").open(newline="", encoding="utf-8") as handle:
        steps = [int(float(row["step"])) for row in csv.DictReader(handle) if row.get("step")]
    return max(steps, default=0)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
