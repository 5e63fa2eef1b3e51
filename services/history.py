"""Past sweep runs: find them, reopen them, compare two cells, re-run one cell."""

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
    when = time.strftime("%H:%M", time.localtime(Path(run).stat().st_mtime))
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
