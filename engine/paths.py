"""Where the lab keeps its files: presets ship in the repo, everything written goes under a workspace."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PRESETS_DIR = REPO_ROOT / "presets"
ASSETS_DIR = REPO_ROOT / "assets"
LORAS_DIR = REPO_ROOT / "loras"


SPACES_PERSISTENT = Path("/data")  # a Hugging Face Space's persistent storage, when it has some


def default_workspace() -> Path:
    """<repo>/workspace; on a Space with persistent storage, /data/vace-lab so runs survive restarts."""
    if os.environ.get("SPACE_ID") and SPACES_PERSISTENT.is_dir() and os.access(SPACES_PERSISTENT, os.W_OK):
        return SPACES_PERSISTENT / "vace-lab"
    return REPO_ROOT / "workspace"


def workspace() -> Path:
    """The folder for outputs and built models; VACE_LAB_HOME overrides it (tests point it at a tmp dir)."""
    root = Path(os.environ.get("VACE_LAB_HOME") or default_workspace())
    root.mkdir(parents=True, exist_ok=True)
    return root


def lora_dirs() -> list[Path]:
    """Folders searched for LoRAs given by bare file name: the repo's loras/ and the workspace's."""
    return [LORAS_DIR, workspace() / "loras"]
