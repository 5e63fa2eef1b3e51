"""Face crops for Animate models (engine/pose/face_crops.py)."""

import numpy as np

from engine.pose.face_crops import FACE_BOX_SCALE, face_box, face_crops
from engine.pose.format import Person


def person_with_face(x0, y0, x1, y1) -> Person:
    person = Person()
    person.face[:, 0] = np.linspace(x0, x1, 68)
    person.face[:, 1] = np.linspace(y0, y1, 68)
    person.face[:, 2] = 1.0
    return person


def test_the_face_box_is_the_landmarks_box_grown_and_made_square():
    x, y, side = face_box(person_with_face(100, 50, 140, 110), threshold=0.3)
    assert (x, y) == (120, 80)
    assert side == 60 * FACE_BOX_SCALE  # the longer side, grown


def test_the_head_joints_stand_in_when_no_landmark_is_confident():
    person = Person()
    person.body[0] = (50, 40, 0.9)  # nose
    person.body[16] = (40, 35, 0.9)  # an ear
    x, y, _side = face_box(person, threshold=0.3)
    assert (x, y) == (45, 37.5)
    assert face_box(Person(), threshold=0.3) is None


def test_one_crop_per_frame_and_a_frame_without_a_face_keeps_the_box_before():
    frames = np.zeros((3, 120, 200, 3), np.uint8)
    frames[:, 60:100, 100:140] = 255  # the face, white
    track = [person_with_face(100, 60, 140, 100), None, person_with_face(100, 60, 140, 100)]
    crops = face_crops(frames, track, threshold=0.3, size=64)
    assert crops.shape == (3, 64, 64, 3)
    assert np.array_equal(crops[1], crops[0])
    assert crops[0, 32, 32].tolist() == [255, 255, 255]  # the face is in the middle
    assert face_crops(frames, [None, None, None], threshold=0.3) is None
