"""SweepJob: one sweep run in its own thread, so the page can show progress while it runs.

    job = SweepJob(runner, should_stop=lambda: flag["stop"])
    for progress in job.updates():          # every POLL_SECONDS while it runs
        show(progress.text, progress.fraction, progress.finished_cells)
    result = job.finish(scale=1.0, frame_step=1, name="sweep-guidance_scale-20261206-2200")
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

POLL_SECONDS = 0.5


@dataclass
class SweepProgress:
    text: str = "starting"
    fraction: float = 0.0
    cells: list = field(default_factory=list)
    """(video path, label) per cell as it ends; a failed cell has no path and its error in the label."""

    @property
    def finished_cells(self) -> list[tuple[str, str]]:
        return [(path, label) for path, label in self.cells if path]


@dataclass
class SweepResult:
    outputs: dict
    """SweepRunner.finish's files: gif, mp4, png, zip, cells_csv, manifest, gif_bytes."""
    downloads: list[str]
    """The grid files under names that say what they are, then cells.csv and the manifest."""
    status: str
    """One line: done or stopped, the GIF's size, any failed cells."""


def cell_still(video: str | Path) -> str:
    """A still of a finished cell for the page's gallery (its middle frame, beside the video): a gallery of videos
    shows grey play icons until each is loaded. The video itself when no still can be made."""
    import numpy as np
    from PIL import Image

    from engine import media

    still = Path(video).with_name("still.jpg")
    if not still.is_file():
        try:
            frames = media.read_video(video).frames
            Image.fromarray(np.asarray(frames[len(frames) // 2])).save(still, quality=90)
        except (OSError, ValueError):
            return str(video)
    return str(still)


class SweepJob:
    def __init__(self, runner, should_stop=None):
        self.runner = runner
        self.should_stop = should_stop or (lambda: False)
        self.progress = SweepProgress()
        self.outcome = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._work, daemon=True)

    def _work(self):
        run_dir = self.runner.store.folder

        def on_cell(cell, record, number, total):
            label = " · ".join(cell.labels.values()) or cell.id
            if record["status"] in ("done", "reused"):
                self.progress.cells.append((cell_still(run_dir / "cells" / cell.id / "video.mp4"), label))
            else:
                self.progress.cells.append((None, f"{label}: failed: {record.get('error')}"))

        def on_step(text, fraction):
            self.progress.text, self.progress.fraction = text, fraction

        try:
            self.outcome = self.runner.run(on_cell=on_cell, on_step=on_step, should_stop=self.should_stop)
        except (ValueError, RuntimeError) as err:
            self.error = str(err)

    def updates(self):
        """Start the sweep and yield its progress every POLL_SECONDS until it ends; a sweep that could not run
        raises ValueError with its reason."""
        self._thread.start()
        while self._thread.is_alive():
            time.sleep(POLL_SECONDS)
            yield self.progress
        if self.error:
            raise ValueError(self.error)

    def finish(self, scale: float, frame_step: int, name: str) -> SweepResult:
        """The grid, the contact sheet, the ZIP and the tables of a sweep that ended, with downloads named `name`."""
        outputs = self.runner.finish(self.outcome, scale=scale, frame_step=frame_step, make_zip=True)
        run_dir = self.runner.store.folder
        downloads = []
        for key, suffix in (("gif", ".gif"), ("mp4", ".mp4"), ("png", ".png"), ("zip", ".zip")):
            target = run_dir / f"{name}{suffix}"
            shutil.copyfile(outputs[key], target)
            downloads.append(str(target))
        failed = self.outcome.failed
        status = (("Stopped: finished cells are kept; run again to continue. " if self.outcome.cancelled else "Done. ")
                  + f"Grid GIF {outputs['gif_bytes'] / 1e6:.1f} MB." + (f" {len(failed)} cell(s) failed." if failed else ""))
        return SweepResult(outputs=outputs, downloads=[*downloads, outputs["cells_csv"], outputs["manifest"]],
                           status=status)
