import json
import os
import subprocess
import sys

import pytest

from engine import media
from experiments.cli import main
from tests.conftest import ASSETS, REPO


def generate_args(pose_mp4, reference_png, out, *extra):
    return ["generate", "--control", str(pose_mp4), "--reference", str(reference_png), "--prompt", "a man dancing",
            "--out", str(out), "--model", "tiny", "--set", "num_inference_steps=2", "--set", "num_frames=9", *extra]


def test_generate_writes_video_and_manifest(pose_mp4, reference_png, tmp_path, capsys):
    assert main(generate_args(pose_mp4, reference_png, tmp_path, "--set", "guidance_scale=7.5",
                              "--set", "seed=42")) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "video.mp4")
    clip = media.read_video(tmp_path / "video.mp4")
    assert len(clip.frames) == 9 and clip.fps == 16.0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["request"]["guidance_scale"] == 7.5 and manifest["request"]["seed"] == 42
    assert manifest["request"]["prompt"] == "a man dancing"
    assert manifest["model"]["name"] == "tiny" and manifest["lora"] is None
    assert manifest["packages"]["diffusers"] == "0.42.1"


def test_lora_hash_goes_into_the_manifest(pose_mp4, reference_png, tmp_path, lora_files):
    from engine.records import sha256_file

    assert main(generate_args(pose_mp4, reference_png, tmp_path, "--lora", str(lora_files["diffsynth"]),
                              "--set", "lora_scale=0.5")) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["lora"] == {"file": str(lora_files["diffsynth"]), "sha256": sha256_file(lora_files["diffsynth"]),
                                "scale": 0.5}


@pytest.mark.parametrize("extra, message", [
    (["--set", "num_frames=80"], "num_frames must be 4n+1, got 80; nearest valid: 77 or 81"),
    (["--set", "width=100"], "width must be a multiple of 16"),
    (["--set", "num_frames=100001"], "num_frames must be at most 241 for this model, got 100001"),
    (["--set", "guidance=5"], "unknown field 'guidance'"),
    (["--set", "seed"], "--set expects FIELD=VALUE"),
    (["--lora", "missing.safetensors"], "LoRA not found: missing.safetensors"),
    (["--profile", "turbo"], "unknown profile 'turbo'; this model's profiles: default"),
    (["--set", "sigmas=1,0.5,0.7"], "sigmas must decrease from high noise to low, got 1, 0.5, 0.7"),
])
def test_bad_input_exits_2_with_one_line(pose_mp4, reference_png, tmp_path, capsys, extra, message):
    assert main(generate_args(pose_mp4, reference_png, tmp_path, *extra)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0]
    assert not (tmp_path / "video.mp4").exists()


def test_unreadable_files_from_a_real_process_give_no_traceback(tmp_path, reference_png):
    (tmp_path / "clip.mp4").write_bytes(b"this is not a video")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "experiments", "generate", "--control", str(tmp_path / "clip.mp4"),
         "--reference", str(reference_png), "--prompt", "x", "--out", str(tmp_path / "out"), "--model", "tiny"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: clip.mp4: cannot")


def test_unknown_model_is_a_one_line_error(pose_mp4, reference_png, tmp_path, capsys):
    assert main(generate_args(pose_mp4, reference_png, tmp_path)[:-6] + ["--model", "no such model"]) == 2
    assert "unknown model 'no such model'" in capsys.readouterr().err


def test_prompts_variants_prints_each_with_token_counts(tmp_path, capsys):
    assert main(["prompts", "variants", "--description", "blog-reference", "--clip", "gBR_sBM_c01_d04_mBR0_ch01",
                 "--model", "tiny", "--json", str(tmp_path / "set.json")]) == 0
    out = capsys.readouterr().out
    assert "== Detailed Default (" in out and "/512 tokens)" in out
    assert "A high-quality video of a young adult man" in out
    prompt_set = json.loads((tmp_path / "set.json").read_text())
    assert "Identity-Focused" in prompt_set and len(prompt_set) >= 7


def test_prompts_variants_on_the_toy_lead_with_its_own_words_and_name_the_rest(capsys):
    assert main(["prompts", "variants", "--description", "toy-sample", "--model", "toy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("== Toy: clothes and floor (")
    assert "A person in a white top and teal trousers dances on a striped purple background" in out
    assert "== Simple (" in out and "== Detailed Default: not built, fill age" in out
    assert "The toy knows only its puppet world's words" not in out  # every variant built here is in its words
    assert main(["prompts", "variants", "--description", "lab-sample", "--model", "toy"]) == 0
    assert "in the prompt it has never seen: young, man" in capsys.readouterr().out


def test_prompts_batch_and_its_errors(tmp_path, capsys):
    from tests.helpers import numbered_frames, write_video

    write_video(tmp_path / "gBR_sBM_c01_d04_mBR0_ch01.mp4", numbered_frames(3), fps=16)
    assert main(["prompts", "batch", str(tmp_path), "--description", "lab-sample"]) == 0
    assert (tmp_path / "metadata.csv").is_file() and (tmp_path / "metadata_diffsynth.csv").is_file()
    assert main(["prompts", "batch", str(tmp_path / "missing")]) == 2
    assert main(["prompts", "variants", "--description", "no-such-preset", "--model", "tiny"]) == 2
    assert main(["prompts", "variants", "--clip", "not_an_aist_name", "--model", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "not a folder" in err and "unknown description preset 'no-such-preset'" in err and "not an AIST name" in err


def test_prompts_caption_without_weights_is_one_line(reference_png, capsys):
    assert main(["prompts", "caption", str(reference_png)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not available here" in err[0]


def test_sweep_command_writes_the_contracts_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["sweep", "seeds", "--out", str(out), "--model", "tiny", "--x", "seed=1,2",
                 "--set", "num_inference_steps=2", "--set", "num_frames=9", "--gif-scale", "0.5"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    for name in ("manifest.json", "cells.csv", "grid.gif", "grid.mp4", "grid.png", "cells/x00/video.mp4"):
        assert (out / name).is_file(), name
    with open(out / "cells.csv") as handle:
        assert handle.readline().startswith('id,seed,status')


def test_sweep_command_errors(tmp_path, capsys):
    assert main(["sweep", "blog-lora-strength", "--out", str(tmp_path), "--model", "tiny"]) == 2
    assert main(["sweep", "--out", str(tmp_path), "--model", "tiny", "--x", "cfg=3,5"]) == 2
    assert main(["sweep", "--out", str(tmp_path), "--model", "tiny", "--x", "seed=1-50", "--y", "guidance_scale=1-5"]) == 2
    err = capsys.readouterr().err
    assert "this sweep uses a LoRA: choose one" in err and "unknown axis field 'cfg'" in err and "more than max_cells=64" in err


def test_pose_command_writes_the_contracts_outputs(moving_person_mp4, tmp_path, capsys):
    out = tmp_path / "pose"
    code = main(["pose", str(moving_person_mp4), "--out", str(out), "--backend", "mediapipe", "--frames", "9",
                 "--size", "320x240", "--hands", "--smooth", "1"])
    assert code == 0 and capsys.readouterr().out.strip() == str(out)
    for name in ("pose.mp4", "overlay.mp4", "first_frame.png", "keypoints.json", "manifest.json", "before_after.mp4"):
        assert (out / name).is_file(), name
    clip = media.read_video(out / "pose.mp4")
    assert len(clip.frames) == 9 and clip.fps == pytest.approx(16)
    request = json.loads((out / "manifest.json").read_text())["request"]
    assert request["hands"] is True and request["smoothing"] == 1.0


@pytest.mark.parametrize("extra,message", [
    (["--frames", "80"], "4n+1"),
    (["--size", "832by480"], "size must look like 832x480"),
    (["--person", "tallest"], "person must be"),
])
def test_pose_bad_input_exits_2_with_one_line(moving_person_mp4, tmp_path, capsys, extra, message):
    code = main(["pose", str(moving_person_mp4), "--out", str(tmp_path), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_pose_with_an_unreadable_file_from_a_real_process(tmp_path):
    (tmp_path / "clip.mp4").write_bytes(b"\x00" * 100)
    proc = subprocess.run([sys.executable, "-m", "experiments", "pose", str(tmp_path / "clip.mp4"), "--out",
                           str(tmp_path / "out")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "clip.mp4: cannot open the video" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_train_command_writes_the_lora_and_checkpoints(tmp_path, capsys):
    from engine.train.metadata_csv import ClipRow, write_metadata_csv
    from tests.helpers import numbered_frames, write_video

    data = tmp_path / "data"
    data.mkdir()
    write_video(data / "clip.mp4", numbered_frames(9, 32, 32), 16)
    write_video(data / "pose.mp4", numbered_frames(9, 32, 32), 16)
    write_metadata_csv([ClipRow("clip.mp4", "a dancer", "pose.mp4", "")], data / "metadata.csv")
    out = tmp_path / "run"
    code = main(["train", "self-attention", "--data", str(data), "--out", str(out), "--model", "tiny",
                 "--set", "height=32", "--set", "width=32", "--set", "num_frames=5", "--set", "max_steps=4",
                 "--set", "checkpoint_every=2"])
    assert code == 0 and capsys.readouterr().out.strip().endswith("pytorch_lora_weights.safetensors")
    assert (out / "checkpoint-000002" / "pytorch_lora_weights.safetensors").is_file()
    # header + 4 steps x 4 micro-batches (the preset accumulates 4) of the one sample
    assert (out / "loss.csv").read_text().count("\n") == 1 + 4 * 4


@pytest.mark.parametrize("extra,message", [
    (["--set", "rank=abc"], "rank takes a int"),
    (["--set", "rnak=4"], "expected FIELD=VALUE"),
])
def test_train_bad_input_exits_2_with_one_line(tmp_path, capsys, extra, message):
    code = main(["train", "self-attention", "--data", str(tmp_path), "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_train_with_no_clips_fails_before_loading_a_model(tmp_path, capsys):
    code = main(["train", "self-attention", "--data", str(tmp_path), "--out", str(tmp_path / "o"), "--model", "tiny"])
    assert code == 2 and "no metadata.csv and no video clips" in capsys.readouterr().err


def test_pose_for_animate_then_generate_with_its_face_and_replace_mode_videos(tmp_path, capsys):
    pose = tmp_path / "pose"
    assert main(["pose", str(REPO / "assets" / "person.mp4"), "--out", str(pose), "--for", "animate", "--replace",
                 "--backend", "mediapipe", "--frames", "5", "--size", "320x192"]) == 0
    for name in ("background", "mask"):
        assert media.read_video(pose / f"{name}.mp4").frames.shape == (5, 192, 320, 3)
    face = media.read_video(pose / "face.mp4")
    assert face.frames.shape == (5, 512, 512, 3) and face.fps == pytest.approx(30)  # Animate's own fps
    manifest = json.loads((pose / "manifest.json").read_text())
    assert manifest["outputs"]["face_video"] == "face.mp4"
    assert (manifest["request"]["hands"], manifest["request"]["face"]) == (True, False)  # Animate's skeleton
    out = tmp_path / "video"
    assert main(["generate", "--model", "tiny-animate", "--control", str(pose / "pose.mp4"), "--face",
                 str(pose / "face.mp4"), "--background", str(pose / "background.mp4"), "--mask",
                 str(pose / "mask.mp4"), "--reference", str(pose / "first_frame.png"), "--prompt", "a person",
                 "--out", str(out), "--set", "num_inference_steps=1", "--set", "num_frames=5",
                 "--set", "height=64", "--set", "width=112"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["model"]["family"] == "tiny-animate" and manifest["request"]["face_video"].endswith("face.mp4")
    assert manifest["request"]["mask_video"].endswith("mask.mp4")
    assert media.read_video(out / "video.mp4").frames.shape == (5, 64, 112, 3)


def test_replace_inputs_without_animate_exit_2_with_one_line(tmp_path, capsys):
    assert main(["pose", str(REPO / "assets" / "person.mp4"), "--out", str(tmp_path), "--replace"]) == 2
    err = capsys.readouterr().err
    assert "add --for animate" in err and len(err.strip().splitlines()) == 1


def test_a_face_video_for_a_vace_model_exits_2_with_one_line(pose_mp4, reference_png, tmp_path, capsys):
    assert main(generate_args(pose_mp4, reference_png, tmp_path, "--face", str(pose_mp4))) == 2
    err = capsys.readouterr().err
    assert "face video is for Animate models" in err and len(err.strip().splitlines()) == 1


def test_a_model_axis_sweep_gives_one_cell_per_family_each_with_the_inputs_it_takes(pose_mp4, tmp_path, capsys,
                                                                                     caplog):
    out = tmp_path / "run"
    driving = ASSETS / "person.mp4"
    with caplog.at_level("INFO"):
        assert main(["sweep", "--out", str(out), "--model", "tiny", "--x", "model=tiny,tiny-animate,tiny-animate-2",
                     "--face", str(pose_mp4), "--driving", str(driving),
                     "--set", "num_inference_steps=1", "--set", "num_frames=5", "--set", "height=64",
                     "--set", "width=112"]) == 0
    assert "swapping model tiny -> tiny-animate" in caplog.text
    with open(out / "cells.csv") as handle:
        rows = handle.read().splitlines()
    families = ["tiny", "tiny-animate", "tiny-animate-2"]
    assert rows[0].startswith("id,model,status") and [row.split(",")[1] for row in rows[1:]] == families
    cells = json.loads((out / "manifest.json").read_text())["cells"]
    assert [cell["model"] for cell in cells] == families
    assert [cell["request"]["guidance_scale"] for cell in cells] == [5.0, 1.0, 3.0]  # each family's own default
    assert [cell["request"]["face_video"] for cell in cells] == [None, str(pose_mp4), None]
    assert [cell["request"]["driving_video"] for cell in cells] == [None, None, str(driving)]
    for cell in ("x00", "x01", "x02"):
        assert media.read_video(out / "cells" / cell / "video.mp4").frames.shape == (5, 64, 112, 3)


def test_animate2_14b_without_cuda_fails_with_one_line_before_any_download(pose_mp4, reference_png, tmp_path,
                                                                          capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("with CUDA the 14B is not refused: it would load (and download) the real weights")
    code = main(["generate", "--model", "wan-animate-2-14b", "--control", str(pose_mp4), "--reference",
                 str(reference_png), "--prompt", "a person", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code != 0 and "needs a CUDA GPU" in err and len(err.strip().splitlines()) == 1
