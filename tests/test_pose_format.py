"""The remaps into the lab's one pose format: every joint lands where its name says."""

from types import SimpleNamespace

import numpy as np
import pytest

from engine.pose.format import (BODY_JOINTS, COCO17_JOINTS, MEDIAPIPE_FACE_TO_68, Person, clip_to_frame,
                                from_coco17, from_coco_wholebody, from_mediapipe_holistic)


def coco17_points():
    """Joint k at (10k, 100 + k) with confidence 0.5 + k/100, so each output names its source."""
    return np.array([(10 * k, 100 + k, 0.5 + k / 100) for k in range(17)], dtype=np.float32)


def test_coco17_remap_puts_every_joint_in_its_openpose_slot():
    person = from_coco17(coco17_points())
    by_name = {name: index for index, name in enumerate(COCO17_JOINTS)}
    for slot, name in enumerate(BODY_JOINTS):
        if name == "neck":
            continue
        k = by_name[name]
        assert person.body[slot].tolist() == pytest.approx([10 * k, 100 + k, 0.5 + k / 100]), name


def test_neck_is_the_shoulder_midpoint_as_sure_as_the_weaker_shoulder():
    person = from_coco17(coco17_points())
    assert person.body[1].tolist() == pytest.approx([55, 105.5, 0.55])  # shoulders are COCO 5 and 6


def test_coco17_import_has_no_hands_or_face_and_rejects_wrong_shapes():
    person = from_coco17(coco17_points())
    assert not person.hands[..., 2].any() and not person.face[..., 2].any()
    with pytest.raises(ValueError, match="17 x"):
        from_coco17(np.zeros((18, 3)))


def test_wholebody_slices_feed_body_hands_and_face():
    xy = np.stack([np.arange(133), np.arange(133) * 2], axis=1).astype(np.float32)
    person = from_coco_wholebody(xy, np.ones(133))
    assert person.body[0, 0] == 0 and person.body[2, 0] == 6  # nose, right shoulder (COCO 6)
    assert person.face[0, 0] == 23 and person.face[-1, 0] == 90
    assert person.hands[0, 0, 0] == 91 and person.hands[1, 20, 0] == 132  # left wrist root, right pinky tip


def fake_landmarks(count, offset=0.0):
    return SimpleNamespace(landmark=[SimpleNamespace(x=(k + offset) / 1000, y=k / 500, visibility=0.9)
                                     for k in range(count)])


def test_mediapipe_holistic_remap_uses_pose33_indices_and_the_68_point_face_table():
    result = SimpleNamespace(pose_landmarks=fake_landmarks(33), face_landmarks=fake_landmarks(468),
                             left_hand_landmarks=fake_landmarks(21, offset=0.5), right_hand_landmarks=None)
    person = from_mediapipe_holistic(result, width=1000, height=500)
    # right shoulder is MediaPipe 12, left ankle 27, right eye 5, left ear 7
    for slot, source in ((2, 12), (13, 27), (14, 5), (17, 7)):
        assert person.body[slot, :2].tolist() == pytest.approx([source, source]), BODY_JOINTS[slot]
    assert person.body[2, 2] == pytest.approx(0.9)
    assert person.face[:, 0].tolist() == pytest.approx(list(MEDIAPIPE_FACE_TO_68))
    assert person.hands[0, 3, 0] == pytest.approx(3.5) and not person.hands[1, :, 2].any()


def test_mediapipe_without_a_body_is_nobody():
    empty = SimpleNamespace(pose_landmarks=None)
    assert from_mediapipe_holistic(empty, 10, 10) is None


def test_face_table_has_68_distinct_mesh_vertices():
    assert len(MEDIAPIPE_FACE_TO_68) == 68 and len(set(MEDIAPIPE_FACE_TO_68)) == 68
    assert max(MEDIAPIPE_FACE_TO_68) < 468


def test_json_round_trip_and_clipping_to_the_frame():
    person = from_coco17(coco17_points())
    again = Person.from_json(person.to_json())
    assert np.allclose(again.body, person.body, atol=0.01)
    clipped = clip_to_frame(again, width=100, height=200)
    assert clipped.body[0, 2] > 0 and clipped.body[4, 2] == 0  # x=100 is outside a 100-wide frame
