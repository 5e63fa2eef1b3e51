"""ui/common.py and the launch settings: ZeroGPU wrapping, upload limits, one-line errors."""

import sys
import types

import pytest

from ui.common import gpu_job


def test_without_the_spaces_package_handlers_are_left_alone(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # import spaces -> ImportError, as off Spaces

    def handler():
        return "ran"

    assert gpu_job("generate")(handler) is handler


def test_on_zerogpu_model_jobs_get_a_gpu_for_their_configured_time(monkeypatch):
    # ZeroGPU itself only exists on Hugging Face's machines: a stand-in `spaces` module records what the
    # real one is asked for (the decorator with a duration, as documented for spaces.GPU).
    asked = []
    fake = types.ModuleType("spaces")

    def gpu(duration):
        def decorate(function):
            def on_gpu(*args, **kwargs):
                asked.append(duration)
                return function(*args, **kwargs)
            return on_gpu
        return decorate

    fake.GPU = gpu
    monkeypatch.setitem(sys.modules, "spaces", fake)
    monkeypatch.setenv("VACE_LAB_SWEEP_GPU_SECONDS", "900")
    assert gpu_job("generate")(lambda: "video")() == "video"
    assert gpu_job("sweep")(lambda: "grid")() == "grid"
    assert asked == [120, 900]


def test_oversized_uploads_are_refused_with_a_reason(monkeypatch, tiny_engine, tmp_path):
    import app
    from gradio_client import Client, handle_file

    from engine.paths import ASSETS_DIR
    from tests.conftest import _free_port

    monkeypatch.setattr(app, "MAX_UPLOAD", "20kb")
    demo = app.build_app(tiny_engine)
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                        **app.launch_options())
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        big = ASSETS_DIR / "person.mp4"  # 350 kB
        assert big.stat().st_size > 20_000
        with pytest.raises(ValueError, match="exceeds the maximum file size"):  # the client checks first
            client.predict(handle_file(str(big)), 0, 16, 9, 256, 192, "pad", 0, "mediapipe", "largest", True,
                           False, True, 0.3, 0, "off", None, None, None, "", None, api_name="/pose")
    finally:
        demo.close()


def test_the_host_is_local_unless_on_a_space(monkeypatch):
    import app

    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert app.default_host() == "127.0.0.1"
    monkeypatch.setenv("SPACE_ID", "someone/vace-lab")
    assert app.default_host() == "0.0.0.0"


def test_the_metrics_table_shows_the_headline_metrics_first_by_their_names_and_leaves_out_empty_columns(tmp_path):
    from ui.common import metrics_table

    cells = tmp_path / "cells.csv"
    cells.write_text("id,seed,status,error,seconds,motion,pose_adherence,toy_colour_match,toy_psnr,video\n"
                     "x00,1,done,,14.57,1.85,,0.4641,18.22,cells/x00/video.mp4\n")
    heads, row = metrics_table(cells)
    assert heads == ["cell", "Seed", "status", "colours match", "seconds", "motion (px/frame)", "PSNR dB"]
    assert row == ["x00", "1", "done", "0.464", "14.6", "1.85", "18.2"]
    # A trained run's LoRA by its checkpoint's name, as the grid labels it, not its whole path.
    cells.write_text("id,lora,status,seconds\n"
                     "x00,runs/20261201-toy-blog/checkpoint-000050/pytorch_lora_weights.safetensors,done,6.1\n")
    assert metrics_table(cells)[1] == ["x00", "checkpoint-000050", "done", "6.1"]
