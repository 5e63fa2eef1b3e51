"""What every benchmark and research script does with its result: log it, and write it as JSON when asked."""

from __future__ import annotations

import json
import logging
from pathlib import Path


def log_and_save(result: dict, json_path: str | Path | None, logger: logging.Logger):
    """Log `result` as indented JSON and, with a path, write it there too."""
    logger.info("%s", json.dumps(result, indent=1))
    if json_path:
        Path(json_path).write_text(json.dumps(result, indent=2), encoding="utf-8")
