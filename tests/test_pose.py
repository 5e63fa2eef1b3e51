"""Driving video in, pose video out: exact frames and fps, the right people, diagnostics, fitting, errors."""

import json

import numpy as np
import pytest
from PIL import Image

from engine import media
from engine.pose.extract import PoseCancelled, PoseRequest, extract_pose, read_keypoints_json
from engine.pose.load import MISSING_PARTS_NOTE
from tests.helpers import bright_figure_frames, write_video

SMALL = dict(width=256, height=192, num_frames=9)


def two_people_clip(tmp_path, frames=12):
    """A big person on the left and a small one on the right; the middle frames are empty."""
    boxes = [[(20, 20, 80, 180), (170, 60, 210, 150)]] * frames
    boxes[5] = boxes[6] = []
    return write_video(tmp_path / "two.mp4", bright_figure_frames(boxes), fps=16)


def test_outputs_have_exact_frames_fps_and_size(tmp_path, moving_person_mp4):
    request = PoseRequest(video=str(moving_person_mp4), backend="mediapipe", fps=8, num_frames=5,
                          width=320, height=240)
    result = extract_pose(request, tmp_path / "out")
    for video in (result.pose_video, result.overlay_video):
        clip = media.read_video(video)
        assert len(clip.frames) == 5 and clip.fps == pytest.approx(8) and clip.frames.shape[1:3] == (240, 320)
    assert Image.open(result.first_frame).size == (320, 240)
    assert len(read_keypoints_json(result.keypoints)["frames"]) == 5
    manifest = json.loads(result.manifest.read_text())
    assert manifest["kind"] == "pose" and manifest["backend"] == "mediapipe"
    assert manifest["source"]["fps"] == pytest.approx(16) and manifest["request"]["num_frames"] == 5
    assert set(manifest["timings"]) >= {"detect_frames_per_s", "render_ms_per_frame"}


def test_the_pose_video_follows_the_person(tmp_path, moving_person_mp4):
    result = extract_pose(PoseRequest(video=str(moving_person_mp4), backend="mediapipe", width=320, height=240,
                                      num_frames=17), tmp_path)
    necks = [frame[0].body[1, 0] for frame in read_keypoints_json(result.keypoints)["frames"]]
    assert necks[-1] - necks[0] > 100 and result.diagnostics.frames_without_person == []
    pose = media.read_video(result.pose_video).frames
    drawn_x = [np.nonzero(frame.max(axis=(0, 2)) > 60)[0].mean() for frame in (pose[0], pose[-1])]
    assert drawn_x[1] - drawn_x[0] > 80  # the drawn skeleton moved right too


def test_start_time_and_crop_are_applied(tmp_path, moving_person_mp4):
    request = PoseRequest(video=str(moving_person_mp4), backend="mediapipe", start=0.5, num_frames=5, fit="crop",
                          width=192, height=192, reference_frame=4)
    result = extract_pose(request, tmp_path)
    source = media.read_video(moving_person_mp4).frames
    expected = media.fit_frame(source[8 + 4], 192, 192, "crop")  # 0.5 s at 16 fps is frame 8
    assert np.abs(np.asarray(Image.open(result.first_frame), np.int16) - expected).mean() < 3


def test_largest_person_by_default_index_from_the_left_or_everyone(tmp_path, fake_dwpose):
    clip = two_people_clip(tmp_path)

    def necks(person):
        result = extract_pose(PoseRequest(video=str(clip), backend="dwpose", person=person, **SMALL),
                              tmp_path / person, dwpose_models=fake_dwpose)
        return [sorted(round(float(p.body[1, 0])) for p in frame) for frame in read_keypoints_json(result.keypoints)["frames"]], result

    largest, result = necks("largest")
    assert largest[0] == [50] and any("largest is drawn" in note for note in result.notes)
    assert result.diagnostics.frames_without_person == [5, 6]
    assert any("No person found in frames 5-6" in note for note in result.notes)
    assert necks("1")[0][0] == [190]
    assert necks("all")[0][0] == [50, 190]


def test_smoothing_writes_a_before_and_after_view(tmp_path, moving_person_mp4):
    request = PoseRequest(video=str(moving_person_mp4), backend="mediapipe", smoothing=1.5, width=320, height=240,
                          num_frames=9)
    result = extract_pose(request, tmp_path)
    assert result.before_after_video.is_file() and result.raw_diagnostics is not None
    assert result.diagnostics.jitter_px <= result.raw_diagnostics.jitter_px
    before_after = media.read_video(result.before_after_video).frames
    assert before_after.shape[2] == 2 * 320 + 8


def test_fit_to_a_reference_photo(tmp_path, moving_person_mp4):
    from tests.helpers import person_photo

    photo = tmp_path / "me.png"
    person_photo().resize((256, 300)).save(photo)
    request = PoseRequest(video=str(moving_person_mp4), backend="mediapipe", fit_to_reference="scale",
                          reference_image=str(photo), width=320, height=240, num_frames=5)
    result = extract_pose(request, tmp_path / "out")
    assert result.fit_preview.is_file() and result.reference_for_generation == photo
    assert any(note.startswith("Skeleton scaled by") for note in result.notes)
    assert Image.open(result.fit_preview).size == (3 * 320 + 16, 240)


def test_imported_aist_keypoints_are_mapped_into_the_frame(tmp_path):
    points = np.zeros((60, 17, 3), np.float32)
    points[:, :, 2] = 1
    points[:, 5] = (800, 400, 1)  # left shoulder
    points[:, 6] = (1120, 400, 1)  # right shoulder: neck at (960, 400), the centre column
    np.save(tmp_path / "gBR_sBM_c01_d04_mBR0_ch01.npy", points)
    request = PoseRequest(keypoints=str(tmp_path / "gBR_sBM_c01_d04_mBR0_ch01.npy"), keypoints_fps=60,
                          keypoints_size="1920x1080", width=256, height=192, num_frames=9)
    result = extract_pose(request, tmp_path / "out")
    neck = read_keypoints_json(result.keypoints)["frames"][0][0].body[1]
    # 1920x1080 padded into 256x192: scale 2/15, so 144 rows of picture and 24-px bars above and below
    assert neck[:2].tolist() == pytest.approx([128, 400 * 2 / 15 + 24], abs=1)
    assert MISSING_PARTS_NOTE in result.notes and result.backend == "keypoints"
    assert ("genre", "Break (gBR)") in result.aist


def test_stop_cancels_between_frames(tmp_path, moving_person_mp4):
    request = PoseRequest(video=str(moving_person_mp4), backend="mediapipe", width=320, height=240, num_frames=9)
    with pytest.raises(PoseCancelled, match="stopped after 0 of 9"):
        extract_pose(request, tmp_path, should_stop=lambda: True)


@pytest.mark.parametrize("changes,reason", [
    (dict(num_frames=80), "4n\\+1"),
    (dict(num_frames=401), "at most"),
    (dict(width=250), "multiple of 16"),
    (dict(fit="stretch"), "pad or crop"),
    (dict(person="tallest"), "largest, all, or an index"),
    (dict(person="all", smoothing=1.0), "follow one person"),
    (dict(body=False, face=False), "at least one"),
    (dict(backend="openpose"), "unknown pose backend"),
    (dict(video=None), "give a driving video"),
])
def test_bad_requests_get_one_line_reasons(changes, reason, tmp_path):
    fields = dict(video="clip.mp4") | changes
    with pytest.raises(ValueError, match=reason):
        extract_pose(PoseRequest(**fields), tmp_path)


def test_unreadable_and_too_short_videos(tmp_path, moving_person_mp4):
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    with pytest.raises(ValueError, match="broken.mp4: cannot open the video"):
        extract_pose(PoseRequest(video=str(tmp_path / "broken.mp4")), tmp_path / "a")
    with pytest.raises(ValueError, match="past the end"):
        extract_pose(PoseRequest(video=str(moving_person_mp4), start=30), tmp_path / "b")
    result = extract_pose(PoseRequest(video=str(moving_person_mp4), backend="mediapipe", width=320, height=240,
                                      num_frames=21), tmp_path / "c")
    assert any("ends 4 frames early" in note for note in result.notes)


def test_a_clip_with_nobody_in_it_is_refused_in_the_cli_and_the_engine(tmp_path, capsys):
    from experiments.cli import main
    from experiments.flags import EXIT_BAD_INPUT
    from tests.helpers import write_video

    empty = write_video(tmp_path / "empty-room.mp4", [np.full((96, 128, 3), 90, np.uint8)] * 9, fps=16)
    with pytest.raises(ValueError, match="empty-room.mp4: no person found in any of its 5 frames"):
        extract_pose(PoseRequest(video=str(empty), backend="mediapipe", num_frames=5, width=128, height=96),
                     tmp_path / "out")
    code = main(["pose", str(empty), "--out", str(tmp_path / "cli"), "--backend", "mediapipe", "--frames", "5",
                 "--size", "128x96"])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT and err.startswith("error: empty-room.mp4: no person found") and "\n" not in err
    assert not (tmp_path / "cli" / "pose.mp4").exists()
