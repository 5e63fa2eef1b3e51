"""Shared fixtures. Everything runs offline on CPU with the tiny engine, in a temporary workspace."""

import os
import socket
import tempfile
from pathlib import Path

# Set before any engine import: the workspace (tiny model build, outputs) lives in one temp dir per run.
_WORKSPACE = Path(tempfile.mkdtemp(prefix="vace-lab-tests-"))
os.environ["VACE_LAB_HOME"] = str(_WORKSPACE)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


import pytest  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "assets"

from tests.helpers import save_diffusers_lora, tiny_lora_layers  # noqa: E402


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (none here); run `pytest -m gpu` on a GPU machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def reference_png():
    return ASSETS / "reference.png"


@pytest.fixture(scope="session")
def pose_mp4():
    return ASSETS / "pose.mp4"


@pytest.fixture(scope="session")
def tiny_engine():
    from engine import Engine

    engine = Engine.from_name("tiny")
    engine.load()
    return engine


@pytest.fixture(scope="session")
def tiny_animate_engine():
    from engine import Engine

    engine = Engine.from_name("tiny-animate")
    engine.load()
    return engine


@pytest.fixture(scope="session")
def tiny_animate2_engine():
    from engine import Engine

    engine = Engine.from_name("tiny-animate-2")
    engine.load()
    return engine


@pytest.fixture
def tiny_request(tiny_engine, pose_mp4, reference_png):
    """A fast request: 9 frames at 64x112, 3 steps."""
    return tiny_engine.default_request(
        control_video=str(pose_mp4), reference=str(reference_png), prompt="a man dancing in a studio",
        height=64, width=112, num_frames=9, num_inference_steps=3,
    )


@pytest.fixture(scope="session")
def lora_files(tmp_path_factory):
    """One LoRA file per supported format (all the same weights), a VACE-branch one, plus broken ones."""
    import torch
    from safetensors.torch import save_file

    from tests.helpers import (VACE_BRANCH, to_comfyui_names, to_diffsynth_trainer_names, to_musubi_names,
                               to_original_wan_names)

    folder = tmp_path_factory.mktemp("loras")
    layers = tiny_lora_layers()
    files = {"diffusers": save_diffusers_lora(folder / "diffusers", layers),
             "diffusers_b": save_diffusers_lora(folder / "diffusers_b", tiny_lora_layers(seed=1))}

    def save(name, state):
        files[name] = folder / f"{name}.safetensors"
        save_file(state, files[name])

    save("diffsynth", to_original_wan_names(layers))
    save("diffsynth_trainer", to_diffsynth_trainer_names(layers))
    save("original", to_original_wan_names(layers, "diffusion_model."))
    save("comfyui", to_comfyui_names(layers))
    save("musubi", to_musubi_names(layers))
    vace_layers = tiny_lora_layers(seed=2, target=VACE_BRANCH)
    files["vace_diffusers"] = save_diffusers_lora(folder / "vace_diffusers", vace_layers)
    save("vace_diffsynth_trainer", to_diffsynth_trainer_names(vace_layers))
    save("vace_comfyui", to_comfyui_names(vace_layers))
    save("mixed", {**to_original_wan_names(layers, "diffusion_model."), **to_musubi_names(vace_layers)})
    nan_layers = {k: (torch.full_like(v, float("nan")) if "lora_B" in k else v) for k, v in layers.items()}
    files["nan"] = save_diffusers_lora(folder / "nan", nan_layers)
    save("other_model", {"unet.down.0.lora_A.weight": torch.zeros(4, 8), "unet.down.0.lora_B.weight": torch.zeros(8, 4)})
    bigger = {k: torch.zeros(4, 48) if "lora_A" in k else torch.zeros(48, 4) for k in layers}
    save("other_size", to_comfyui_names(bigger))
    torch.save(layers, folder / "pickled.pt")
    files["pickled"] = folder / "pickled.pt"
    return files


@pytest.fixture(scope="session")
def tiny_captioner_dir(tmp_path_factory):
    from tests.helpers import save_tiny_florence2

    return save_tiny_florence2(tmp_path_factory.mktemp("florence2"))


@pytest.fixture(scope="session")
def tiny_rewriter_dir(tmp_path_factory):
    from tests.helpers import save_tiny_qwen2

    return save_tiny_qwen2(tmp_path_factory.mktemp("qwen2"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(tiny_engine):
    from app import build_app, launch_options

    demo = build_app(tiny_engine)
    port = _free_port()
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=port,
                                                   prevent_thread_lock=True, quiet=True, **launch_options())
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def fake_dwpose(tmp_path_factory):
    """Tiny DWPose stand-ins (ONNX, exported here) for rtmlib's real code path."""
    from tests.helpers import export_fake_dwpose

    return export_fake_dwpose(tmp_path_factory.mktemp("dwpose"))


@pytest.fixture(scope="session")
def moving_person_mp4(tmp_path_factory):
    """A real person photo sliding left to right across 17 frames at 16 fps, 320x240."""
    from tests.helpers import moving_person_frames, write_video

    return write_video(tmp_path_factory.mktemp("clips") / "person.mp4", moving_person_frames(), fps=16)
