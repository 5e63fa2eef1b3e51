"""One robustness suite: every bad input the issues name, through the UI (Gradio's API, as the browser
sends it) and the CLI. Each must give a one-line reason, no traceback, and leave the app serving.

Elsewhere, because they need a process to kill or a run to stop: a sweep killed with SIGKILL resumes
without recomputing (test_runner.py), and a stopped sweep keeps its finished cells (test_runner.py,
test_browser.py). Oversized uploads are refused by the upload limit (test_common.py).
"""

import re
import subprocess
import sys

import pytest
from gradio_client.exceptions import AppError

from engine.paths import ASSETS_DIR
from experiments.cli import main
from experiments.flags import EXIT_BAD_INPUT
from tests.conftest import REPO
from tests.helpers import numbered_frames, write_video

REFERENCE = ASSETS_DIR / "reference.png"
CONTROL = ASSETS_DIR / "pose.mp4"


def zero_frame_mp4(path):
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=black:s=64x64:r=16", "-frames:v", "0", "-c:v", "libx264", str(path)], check=True)
    return path


def bad_files(folder):
    """name -> (path, what the one-line reason must say)."""
    (folder / "notes.txt").write_text("not a video")
    (folder / "broken.mp4").write_bytes(b"\x00\x01 definitely not an mp4")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return {
        "text file as video": (folder / "notes.txt", "not a video file"),
        "corrupt video": (folder / "broken.mp4", "broken.mp4: cannot open the video"),
        "zero-frame video": (zero_frame_mp4(folder / "zero.mp4"), "zero.mp4: cannot open the video"),
    }


def assert_one_line_cli(code, err, expected):
    assert code == EXIT_BAD_INPUT, err
    assert expected in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def generate_ui_values(control, reference=None):
    from gradio_client import handle_file

    return dict(reference=handle_file(str(reference or REFERENCE)), control_video=handle_file(str(control)),
                prompt="a dancer", num_inference_steps=2, height=64, width=112, num_frames=9)


@pytest.mark.parametrize("case", ["text file as video", "corrupt video", "zero-frame video"])
def test_bad_control_videos(case, tmp_path, client, capsys):
    path, expected = bad_files(tmp_path)[case]
    code = main(["generate", "--control", str(path), "--reference", str(REFERENCE), "--prompt", "x",
                 "--out", str(tmp_path / "out"), "--model", "tiny"])
    assert_one_line_cli(code, capsys.readouterr().err, expected)
    code = main(["pose", str(path), "--out", str(tmp_path / "pose")])
    assert_one_line_cli(code, capsys.readouterr().err, expected)
    with pytest.raises(AppError, match=expected):
        client.predict(**generate_ui_values(path), api_name="/inspect")
    assert client.predict(**generate_ui_values(CONTROL), api_name="/inspect")[2]  # still serving


def test_bad_reference_images(tmp_path, client, capsys):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    code = main(["generate", "--control", str(CONTROL), "--reference", str(broken), "--prompt", "x",
                 "--out", str(tmp_path / "out"), "--model", "tiny"])
    assert_one_line_cli(code, capsys.readouterr().err, "broken.png: cannot read the image")
    code = main(["pose", str(ASSETS_DIR / "person.mp4"), "--out", str(tmp_path / "p"), "--fit-to", str(tmp_path / "n.txt")])
    assert_one_line_cli(code, capsys.readouterr().err, "n.txt: not an image file")
    with pytest.raises(AppError, match="broken.png: cannot read the image"):
        client.predict(**generate_ui_values(CONTROL, reference=broken), api_name="/inspect")


@pytest.mark.parametrize("x,y,expected", [
    ("guidance_scale=3,x", "", "guidance_scale"),
    ("seed=1-10", "guidance_scale=1-10", "the grid has 100 cells (10 x 10), more than max_cells=64"),
])
def test_invalid_axes_and_too_large_grids(x, y, expected, tmp_path, client, capsys):
    code = main(["sweep", "--out", str(tmp_path / "run"), "--model", "tiny", "--x", x, *(["--y", y] if y else []),
                 "--dry-run"])
    assert_one_line_cli(code, capsys.readouterr().err, expected)
    (x_field, x_values), (y_field, y_values) = x.split("="), (y.split("=") if y else ("", ""))
    with pytest.raises(AppError, match=re.escape(expected)):
        client.predict(preset="(custom)", x_field=x_field, x_values=x_values, y_field=y_field, y_values=y_values,
                       settings="num_inference_steps=2", api_name="/sweep_plan")


@pytest.mark.parametrize("kind,expected", [("pickled", "safetensors"), ("other_model", "another model")])
def test_loras_that_cannot_load(kind, expected, lora_files, tmp_path, client, capsys):
    code = main(["generate", "--control", str(CONTROL), "--reference", str(REFERENCE), "--prompt", "x",
                 "--out", str(tmp_path / "out"), "--model", "tiny", "--lora", str(lora_files[kind]),
                 "--set", "num_inference_steps=2", "--set", "num_frames=9", "--set", "height=64", "--set", "width=112"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and expected in err and len(err.strip().splitlines()) == 1
    # In a sweep the LoRA's cell fails with the reason on its tile, and the rest of the grid is made.
    header, status, cells, gif, sheet, table, files, plot, metric, note = client.predict(
        preset="(custom)", x_field="lora", x_values=f"none, {lora_files[kind]}", settings="num_inference_steps=2\nnum_frames=9",
        tile_scale=0.5, api_name="/sweep")
    rows = {row[0]: dict(zip(table["headers"], row)) for row in table["value"]["data"]}
    assert status.startswith("Done.") and gif and len(cells) == 1
    assert rows["x00"]["status"] == "done" and rows["x01"]["status"] == "failed"
    assert expected in rows["x01"]["error"]


def test_an_unwritable_run_folder_from_the_cli(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code = main(["sweep", "--out", str(blocker / "run"), "--model", "tiny", "--x", "seed=1",
                 "--set", "num_inference_steps=2"])
    assert_one_line_cli(code, capsys.readouterr().err, "cannot write the run folder")


def test_training_data_that_cannot_train(tmp_path, capsys):
    write_video(tmp_path / "short.mp4", numbered_frames(3, 32, 32), 16)
    code = main(["train", "self-attention", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--model", "tiny"])
    assert_one_line_cli(code, capsys.readouterr().err, "short.mp4 has 3 frames at 16 fps; training needs 17")


def test_no_traceback_from_a_real_process(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 64)
    for command in (["pose", str(tmp_path / "clip.mp4"), "--out", str(tmp_path / "o")],
                    ["sweep", "--out", str(tmp_path / "r"), "--x", "steps=oops", "--dry-run", "--model", "tiny"]):
        proc = subprocess.run([sys.executable, "-m", "experiments", *command], cwd=REPO, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.strip().splitlines()[-1].startswith("error:")
