"""COCO-17 keypoints (AIST++ style) in every accepted file type, and the unpickling guard."""

import json
import pickle

import numpy as np
import pytest

from engine.pose.load import AIST_FPS, AIST_SIZE, load_keypoints


def keypoints(frames=5, people=None):
    shape = (frames, 17, 3) if people is None else (frames, people, 17, 3)
    array = np.ones(shape, np.float32)
    array[..., 0] = np.arange(frames).reshape((frames,) + (1,) * (len(shape) - 2)) * 10  # x moves 10/frame
    return array


def test_npy_single_person_is_remapped_per_frame(tmp_path):
    np.save(tmp_path / "k.npy", keypoints())
    imported = load_keypoints(tmp_path / "k.npy")
    assert len(imported.people) == 5 and all(len(p) == 1 for p in imported.people)
    assert imported.people[3][0].body[0, 0] == 30 and imported.fps is None


def test_aist_pickle_picks_the_camera_and_knows_fps_and_size(tmp_path):
    views = np.stack([keypoints() + camera for camera in range(9)])  # [9, T, 17, 3]
    with open(tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl", "wb") as handle:
        pickle.dump({"keypoints2d": views, "det_scores": np.ones((9, 5)), "timestamps": np.arange(5)}, handle)
    imported = load_keypoints(tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl", camera=3)
    assert imported.people[0][0].body[0, 0] == 2  # camera 3 is index 2: x offset by 2
    assert imported.fps == AIST_FPS and imported.size == AIST_SIZE
    with pytest.raises(ValueError, match="which camera"):
        load_keypoints(tmp_path / "gBR_sBM_cAll_d04_mBR0_ch01.pkl")


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("owned",))

    with open(tmp_path / "evil.pkl", "wb") as handle:
        pickle.dump({"keypoints2d": Exploit()}, handle)
    with pytest.raises(ValueError, match="refusing to unpickle builtins.print"):
        load_keypoints(tmp_path / "evil.pkl")


def test_json_with_metadata_and_several_people(tmp_path):
    data = {"keypoints2d": keypoints(people=2).tolist(), "fps": 30, "width": 640, "height": 360}
    (tmp_path / "k.json").write_text(json.dumps(data))
    imported = load_keypoints(tmp_path / "k.json")
    assert imported.fps == 30 and imported.size == (640, 360) and len(imported.people[0]) == 2


def test_nan_frames_count_as_not_found(tmp_path):
    array = keypoints()
    array[2] = np.nan
    np.savez(tmp_path / "k.npz", keypoints2d=array)
    imported = load_keypoints(tmp_path / "k.npz")
    assert imported.people[2] == [] and len(imported.people[1]) == 1


@pytest.mark.parametrize("content,reason", [
    (np.zeros((5, 18, 3)), "expected keypoints shaped"),
    (np.zeros((0, 17, 3)), "zero frames"),
])
def test_wrong_arrays_get_one_line_reasons(tmp_path, content, reason):
    np.save(tmp_path / "k.npy", content)
    with pytest.raises(ValueError, match=reason):
        load_keypoints(tmp_path / "k.npy")


def test_wrong_files_get_one_line_reasons(tmp_path):
    (tmp_path / "k.csv").write_text("x")
    with pytest.raises(ValueError, match="must be one of"):
        load_keypoints(tmp_path / "k.csv")
    (tmp_path / "k.json").write_text("{not json")
    with pytest.raises(ValueError, match="cannot read keypoints"):
        load_keypoints(tmp_path / "k.json")
    (tmp_path / "k.npy").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="k.npy"):
        load_keypoints(tmp_path / "k.npy")
