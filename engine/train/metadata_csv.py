"""metadata.csv: one row per training clip, the contract between the Prompts batch mode and the trainer.

    video,pose_video,reference_image,prompt        (ours; paths relative to the CSV's folder)

DiffSynth-Studio's Wan VACE trainer reads the same facts under other names
(video, vace_video, vace_reference_image, prompt), and only passes the reference to the model when it
is listed in --data_file_keys and --extra_inputs: the blog's reference never reached its model.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

OUR_COLUMNS = ("video", "pose_video", "reference_image", "prompt")
DIFFSYNTH_COLUMNS = {"video": "video", "pose_video": "vace_video", "reference_image": "vace_reference_image",
                     "prompt": "prompt"}
DIFFSYNTH_FLAGS = '--data_file_keys "video,vace_video,vace_reference_image" --extra_inputs "vace_video,vace_reference_image"'


@dataclass
class ClipRow:
    """One training sample; empty pose_video / reference_image mean 'derive it' (extract / first frame)."""

    video: str
    prompt: str
    pose_video: str = ""
    reference_image: str = ""


def write_metadata_csv(rows: list[ClipRow], path: str | Path) -> Path:
    return _write(path, OUR_COLUMNS, [asdict(row) for row in rows])


def write_diffsynth_csv(rows: list[ClipRow], path: str | Path) -> Path:
    renamed = [{DIFFSYNTH_COLUMNS[k]: v for k, v in asdict(row).items()} for row in rows]
    return _write(path, tuple(DIFFSYNTH_COLUMNS[c] for c in OUR_COLUMNS), renamed)


def read_metadata_csv(path: str | Path) -> list[ClipRow]:
    """Rows of a metadata.csv; `video` and `prompt` are required, the other columns optional."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = set(reader.fieldnames or [])
            missing = {"video", "prompt"} - columns
            if missing:
                raise ValueError(f"{path.name}: missing column(s) {sorted(missing)}; has {sorted(columns)}")
            known = {f.name for f in fields(ClipRow)}
            rows = [ClipRow(**{k: (v or "") for k, v in record.items() if k in known}) for record in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ValueError(f"{path.name}: cannot read it as CSV ({err})") from None
    for number, row in enumerate(rows, start=2):
        if not row.video:
            raise ValueError(f"{path.name}, line {number}: empty video path")
    return rows


def _write(path, columns, records) -> Path:
    path = Path(path)
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(records)
    tmp.replace(path)
    return path
