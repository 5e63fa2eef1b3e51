"""One folder per sweep run:

    manifest.json     spec, every cell's resolved request and values, model, LoRA hashes, versions, timings
    cells.csv         one row per cell, one column per varied field (named by the field), status, metrics
    cells/<id>/       video.mp4 + manifest.json (from the engine) + cell.json (status, metrics, error)
    grid.gif/.mp4/.png  the labelled comparison (grid-z01.* and so on for further Z values)

cell.json is written last and atomically, so a cell counts as finished only when all of it is on disk:
a killed run resumes without recomputing finished cells.
"""

from __future__ import annotations

import csv
import json
import os
import time
import zipfile
from pathlib import Path

from engine.records import write_json

CELL_FILE = "cell.json"


class RunStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def prepare(self):
        try:
            (self.folder / "cells").mkdir(parents=True, exist_ok=True)
            probe = self.folder / f".write-test-{os.getpid()}"  # per process: several may share a run
            probe.write_text("ok")
            probe.unlink()
        except OSError as err:
            raise ValueError(f"cannot write the run folder {self.folder}: {err.strerror or err}") from None

    def cell_dir(self, cell_id: str) -> Path:
        return self.folder / "cells" / cell_id

    def read_cell(self, cell_id: str) -> dict | None:
        """A cell's saved record, or None when there is none (or only a broken one)."""
        try:
            return json.loads((self.cell_dir(cell_id) / CELL_FILE).read_text())
        except (OSError, ValueError):
            return None

    def finished(self, cell) -> dict | None:
        """The saved record of a cell that finished with this exact request, or None."""
        record = self.read_cell(cell.id)
        if record is None:
            return None
        video = self.cell_dir(cell.id) / "video.mp4"
        if record.get("status") == "done" and record.get("key") == cell.key and video.is_file():
            return record
        return None

    def save_cell(self, cell, record: dict):
        folder = self.cell_dir(cell.id)
        folder.mkdir(parents=True, exist_ok=True)
        write_json({"id": cell.id, "key": cell.key, "values": cell.values, "labels": cell.labels, **record},
                   folder / CELL_FILE)

    def write_cells_csv(self, cells, records: dict, varied_fields: list[str]) -> Path:
        metric_names = sorted({name for r in records.values() for name in (r.get("metrics") or {})})
        columns = ["id", *varied_fields, "status", "error", "seconds", "s_per_step", *metric_names, "video"]
        path = self.folder / "cells.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for cell in cells:
                record = records.get(cell.id, {"status": "not run"})
                timings = record.get("timings") or {}
                row = {"id": cell.id, "status": record.get("status"), "error": record.get("error") or "",
                       "seconds": _round(timings.get("total")), "s_per_step": _round(timings.get("s_per_step")),
                       "video": f"cells/{cell.id}/video.mp4" if record.get("status") in ("done", "reused") else ""}
                row.update({f: json.dumps(v) if isinstance(v, list) else v for f, v in cell.values.items()})
                row.update({m: _round(v) for m, v in (record.get("metrics") or {}).items()})
                writer.writerow(row)
        return path

    def write_manifest(self, data: dict) -> Path:
        return write_json({**data, "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, self.folder / "manifest.json")

    def zip(self) -> Path:
        """The whole run as one ZIP next to its files."""
        target = self.folder / f"{self.folder.name}.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(self.folder.rglob("*")):
                if path.is_file() and path != target:
                    archive.write(path, path.relative_to(self.folder))
        return target


def _round(value):
    return round(value, 4) if isinstance(value, float) else value
