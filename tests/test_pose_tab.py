"""Pose tab: widgets -> PoseRequest, the /pose endpoint end to end, and its one-line errors."""

import pytest
from gradio_client.exceptions import AppError

from engine.paths import ASSETS_DIR
from ui.pose_tab import aist_table, build_pose_request


def widget_values(clip, **changes):
    """The Pose tab's inputs by name (build_pose_request's parameters, which are also the API's names)."""
    values = dict(video=clip, start=0, fps=16, num_frames=9, width=256, height=192, fit="pad", reference_frame=0,
                  backend="mediapipe", person="largest", body=True, hands=True, face=True, threshold=0.3,
                  smoothing=0, fit_mode="off", fit_photo=None, keypoints=None, keypoints_fps=None,
                  keypoints_size="", camera=None)
    return values | changes


def test_widgets_become_a_request():
    request = build_pose_request(**widget_values("clip.mp4", person="1", smoothing=1.5, camera=3))
    assert request.person == "1" and request.smoothing == 1.5 and request.camera == 3 and request.hands


@pytest.mark.parametrize("changes,reason", [
    (dict(video=None), "upload a driving video"),
    (dict(fit_mode="scale"), "add a photo"),
    (dict(num_frames=10), "4n\\+1"),
])
def test_bad_widget_values_name_the_problem(changes, reason):
    with pytest.raises(ValueError, match=reason):
        build_pose_request(**widget_values("clip.mp4", **changes))


def test_face_crops_for_animate_are_offered_with_the_pose_and_listed_as_a_download(client):
    from gradio_client import handle_file

    result = client.predict(**widget_values(handle_file(str(ASSETS_DIR / "person.mp4")), face_crops=True),
                            api_name="/pose")
    assert "person-16fps-9f-face.mp4" in [name.rsplit("/", 1)[-1] for name in result[-1]]
    assert "face.mp4: the face cropped from each frame" in result[4]


def test_aist_names_show_their_table():
    table = aist_table("/uploads/gBR_sBM_c01_d04_mBR0_ch01.mp4")
    assert "Break (gBR)" in table and "Front view" in table
    assert aist_table("/uploads/holiday.mp4") == ""


def test_pose_endpoint_returns_the_videos_diagnostics_and_downloads(client):
    from gradio_client import handle_file

    result = client.predict(**widget_values(handle_file(str(ASSETS_DIR / "person.mp4"))), api_name="/pose")
    pose_video, overlay_video, first_frame, fit_preview, diagnostics, plot, before_after, files = result
    video_path = lambda value: value["video"] if isinstance(value, dict) else value  # noqa: E731
    assert video_path(pose_video).endswith("pose.mp4") and video_path(overlay_video).endswith("overlay.mp4")
    assert first_frame and fit_preview is None and before_after is None
    assert "A person was found in 9 of 9 frames" in diagnostics
    # Downloads are named for what they are: the clip, fps and frames, then the kind of file.
    assert sorted(name.rsplit("/", 1)[-1] for name in files) == [
        "person-16fps-9f-first-frame.png", "person-16fps-9f-keypoints.json", "person-16fps-9f-overlay.mp4",
        "person-16fps-9f-pose-manifest.json", "person-16fps-9f-pose.mp4"]


def test_the_pose_defaults_are_the_models_size_and_window(client):
    """A skeleton drawn at another size is scaled on the way into the model, in other line widths and shades."""
    import imageio.v3 as iio
    from gradio_client import handle_file

    result = client.predict(video=handle_file(str(ASSETS_DIR / "person.mp4")), api_name="/pose")
    pose_video, files = result[0], result[-1]
    frames = iio.imread(pose_video["video"] if isinstance(pose_video, dict) else pose_video)
    assert frames.shape[:3] == (17, 128, 224)  # the tiny engine's: 17 frames at 224x128
    assert any(name.endswith("person-16fps-17f-pose.mp4") for name in files)


def test_pose_endpoint_errors_are_one_line_and_it_keeps_serving(client, tmp_path):
    from gradio_client import handle_file

    with pytest.raises(AppError, match="num_frames must be 4n\\+1"):
        client.predict(**widget_values(handle_file(str(ASSETS_DIR / "person.mp4")), num_frames=10), api_name="/pose")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(AppError, match="broken.mp4: cannot open the video"):
        client.predict(**widget_values(handle_file(str(broken))), api_name="/pose")
    assert client.predict(**widget_values(handle_file(str(ASSETS_DIR / "person.mp4"))), api_name="/pose")[0]
