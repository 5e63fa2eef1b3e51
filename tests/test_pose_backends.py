"""Both extraction backends on real code paths: MediaPipe on a real photo, rtmlib with tiny fake ONNX models."""

import numpy as np
import pytest

from engine.pose.backends import DWPoseBackend, MediaPipeBackend, find_dwpose_models, resolve_backend
from tests.helpers import bright_figure_frames, moving_person_frames


def test_mediapipe_finds_the_person_and_the_skeleton_follows_the_motion():
    frames = moving_person_frames(count=9, shift=120)
    backend = MediaPipeBackend()
    try:
        people = [backend.detect(frame) for frame in frames]
    finally:
        backend.close()
    assert all(len(found) == 1 for found in people)
    necks = np.array([found[0].body[1, :2] for found in people])
    noses = np.array([found[0].body[0, :2] for found in people])
    # The photo moves 120 px to the right in 8 steps of 15 px; so must the neck and nose.
    assert np.allclose(np.diff(necks[:, 0]), 15, atol=5) and abs(necks[-1, 0] - necks[0, 0] - 120) < 12
    assert abs(noses[-1, 0] - noses[0, 0] - 120) < 12 and (np.diff(noses[:, 0]) > 5).all()
    assert np.ptp(necks[:, 1]) < 8  # no vertical motion
    face = people[0][0].face
    assert (face[:, 2] > 0).all() and noses[0, 1] > face[:, 1].min()  # a face, around the nose


def test_mediapipe_says_nobody_on_an_empty_frame():
    backend = MediaPipeBackend()
    try:
        assert backend.detect(np.zeros((240, 320, 3), np.uint8)) == []
    finally:
        backend.close()


def test_dwpose_through_rtmlib_finds_each_person_with_hands_and_face(fake_dwpose):
    backend = DWPoseBackend(fake_dwpose)
    frame = bright_figure_frames([[(20, 20, 80, 180), (150, 40, 210, 150)]])[0]
    people = sorted(backend.detect(frame), key=lambda person: person.body[1, 0])
    assert len(people) == 2
    assert people[0].body[1, 0] == pytest.approx(50, abs=2) and people[1].body[1, 0] == pytest.approx(180, abs=2)
    for person in people:
        assert (person.hands[..., 2] > 0.5).all() and (person.face[:, 2] > 0.5).all()
    assert backend.detect(np.zeros((192, 256, 3), np.uint8)) == []


def test_dwpose_follows_a_moving_box(fake_dwpose):
    backend = DWPoseBackend(fake_dwpose)
    frames = bright_figure_frames([[(10 + 10 * t, 30, 60 + 10 * t, 170)] for t in range(5)])
    necks = [backend.detect(frame)[0].body[1, 0] for frame in frames]
    assert np.allclose(np.diff(necks), 10, atol=1.5)


def test_backend_names_and_missing_models(monkeypatch, tmp_path):
    monkeypatch.setenv("VACE_LAB_DWPOSE_DIR", str(tmp_path))
    assert resolve_backend("auto") == "mediapipe"  # no DWPose files here
    with pytest.raises(ValueError, match="unknown pose backend"):
        resolve_backend("openpose")
    with pytest.raises(ValueError, match="DWPose models not found: put yolox_l.onnx"):
        find_dwpose_models()


def test_auto_prefers_dwpose_when_its_models_are_on_disk(monkeypatch, fake_dwpose):
    monkeypatch.setenv("VACE_LAB_DWPOSE_DIR", str(fake_dwpose.detector.parent))
    assert resolve_backend("auto") == "dwpose"
