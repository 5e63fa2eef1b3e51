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


# Every folder the lab writes, in one place. <workspace>/<folder>:
WORKSPACE_FOLDERS = {
    "outputs": "outputs",  # outputs/<kind>/<time-id>: generations, sweeps, pose extractions, downloads
    "loras": "loras",  # training runs: <run>/pytorch_lora_weights.safetensors and checkpoints
    "datasets": "datasets",  # training datasets added in the Train tab
    "models": "models",  # built or downloaded models (the tiny engine, DWPose's ONNX files)
    "prompt_sets": "prompt_sets",  # prompt sets saved in the Prompts tab, for sweeps
    "prompt_templates": "prompt_templates",  # the user's own prompt templates
}


def workspace_dir(name: str) -> Path:
    """<workspace>/<folder> for one of WORKSPACE_FOLDERS (not created: callers that write create it)."""
    if name not in WORKSPACE_FOLDERS:
        raise ValueError(f"unknown workspace folder {name!r}; folders: {', '.join(WORKSPACE_FOLDERS)}")
    return workspace() / WORKSPACE_FOLDERS[name]


def outputs_dir(kind: str) -> Path:
    return workspace_dir("outputs") / kind


def lora_dirs() -> list[Path]:
    """Folders searched for LoRAs given by bare file name: the repo's loras/ and the workspace's."""
    return [LORAS_DIR, workspace_dir("loras")]
