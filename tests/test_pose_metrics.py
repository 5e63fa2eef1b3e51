"""Pose adherence: PCK of the person in the generated video against the control's keypoints."""

import numpy as np
import pytest

from engine import media
from engine.pose.extract import PoseRequest, extract_pose
from engine.pose.format import Person
from engine.pose.metrics import control_keypoints, pck, pose_adherence


def person_at(x, y, spread=20.0):
    person = Person()
    person.body[:, 0] = x + spread * np.cos(np.arange(18))
    person.body[:, 1] = y + spread * np.sin(np.arange(18))
    person.body[:, 2] = 1.0
    return person


def test_pck_counts_joints_within_a_fifth_of_the_person():
    want = [person_at(100, 100), None, person_at(50, 50)]
    assert pck(want, want) == 1.0
    assert pck(want, [person_at(103, 100), None, None]) == 0.5  # second person missing in the output
    assert pck(want, [person_at(200, 100), None, person_at(200, 100)]) == 0.0
    assert pck([None, None], [None, None]) is None


@pytest.fixture(scope="module")
def extracted(tmp_path_factory, moving_person_mp4):
    out = tmp_path_factory.mktemp("pose")
    extract_pose(PoseRequest(video=str(moving_person_mp4), backend="mediapipe", width=320, height=240,
                             num_frames=17), out)
    return out


def request_for(control, tiny_engine):
    return tiny_engine.default_request(control_video=str(control), height=240, width=320, num_frames=17)


def test_a_video_of_the_same_person_adheres_and_a_mirrored_one_does_not(extracted, moving_person_mp4, tiny_engine):
    request = request_for(extracted / "pose.mp4", tiny_engine)
    frames = media.read_video(moving_person_mp4).frames
    same = pose_adherence(frames, request)
    mirrored = pose_adherence(frames[:, :, ::-1].copy(), request)
    assert same > 0.9 and mirrored < same - 0.3


def test_controls_without_keypoints_get_no_score(tiny_engine, pose_mp4):
    frames = np.zeros((17, 128, 224, 3), np.uint8)
    assert control_keypoints(str(pose_mp4)) is None
    assert pose_adherence(frames, tiny_engine.default_request(control_video=str(pose_mp4))) is None


def test_a_sweep_on_an_extracted_pose_video_records_pose_adherence(extracted, tiny_engine, tmp_path):
    import csv

    from services.runner import SweepRunner
    from services.sweep_spec import SweepSpec

    spec = SweepSpec.from_dict({"name": "adherence", "x": {"field": "seed", "values": "1"},
                                "base": {"control_video": str(extracted / "pose.mp4"), "num_inference_steps": 2,
                                         "height": 64, "width": 112, "num_frames": 9}})
    runner = SweepRunner(tiny_engine, spec, tmp_path / "run")
    outputs = runner.finish(runner.run())
    with open(outputs["cells_csv"], newline="") as handle:
        row = next(csv.DictReader(handle))
    assert 0.0 <= float(row["pose_adherence"]) <= 1.0  # the tiny model makes noise: a low score, but a score
