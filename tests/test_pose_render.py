"""The renderer draws DWPose / OpenPose style: right limbs, right colours, right places (pixel checks)."""

import numpy as np

from engine.pose.format import Person
from engine.pose.render import (BODY_COLOURS, FACE_COLOUR, HAND_COLOURS, HAND_JOINT_COLOUR, LIMB_BRIGHTNESS,
                                RenderOptions, overlay, render_pose, scaled)

H, W = 512, 512


def person_with(joints: dict) -> Person:
    person = Person()
    for index, (x, y) in joints.items():
        person.body[index] = (x, y, 1.0)
    return person


def dimmed(colour):
    return tuple(int(c * LIMB_BRIGHTNESS) for c in colour)


def test_neck_to_right_shoulder_is_the_first_limb_in_dimmed_red_with_joints_on_top():
    image = render_pose([person_with({1: (200, 100), 2: (300, 100)})], H, W, RenderOptions())
    assert tuple(image[100, 250]) == dimmed(BODY_COLOURS[0])  # the limb's middle
    assert tuple(image[100, 200]) == BODY_COLOURS[1]  # neck joint, full colour
    assert tuple(image[100, 300]) == BODY_COLOURS[2]  # right shoulder joint
    assert tuple(image[300, 250]) == (0, 0, 0)  # background stays black


def test_left_leg_limbs_have_their_own_colours():
    image = render_pose([person_with({11: (100, 100), 12: (100, 300), 13: (100, 450)})], H, W, RenderOptions())
    assert tuple(image[200, 100]) == dimmed(BODY_COLOURS[10])  # left hip - left knee is limb 10
    assert tuple(image[375, 100]) == dimmed(BODY_COLOURS[11])  # left knee - left ankle is limb 11


def test_low_confidence_joints_and_their_limbs_are_not_drawn():
    person = person_with({1: (200, 100), 2: (300, 100)})
    person.body[2, 2] = 0.2
    image = render_pose([person], H, W, RenderOptions(threshold=0.3))
    assert tuple(image[100, 250]) == (0, 0, 0) and tuple(image[100, 300]) == (0, 0, 0)
    assert tuple(image[100, 200]) == BODY_COLOURS[1]


def test_hands_and_face_follow_their_toggles_and_colours():
    person = Person()
    person.hands[1, 0] = (100, 100, 1)
    person.hands[1, 1] = (100, 200, 1)  # the first bone: wrist to thumb base
    person.face[0] = (400, 400, 1)
    image = render_pose([person], H, W, RenderOptions(body=False, hands=True, face=True))
    assert tuple(image[150, 100]) == HAND_COLOURS[0]
    assert tuple(image[100, 100]) == HAND_JOINT_COLOUR
    assert tuple(image[400, 400]) == FACE_COLOUR
    hidden = render_pose([person], H, W, RenderOptions(body=True, hands=False, face=False))
    assert not hidden.any()


def test_line_widths_scale_with_resolution():
    joints = {1: (0.4, 0.5), 2: (0.6, 0.5)}

    def limb_thickness(size):
        person = person_with({k: (x * size, y * size) for k, (x, y) in joints.items()})
        image = render_pose([person], size, size, RenderOptions())
        return int((image[:, size // 2].sum(axis=1) > 0).sum())

    assert scaled(4, 1024, 1024) == 2 * scaled(4, 512, 512)
    assert limb_thickness(1024) >= 2 * limb_thickness(512) - 1


def test_overlay_keeps_the_skeleton_and_darkens_the_frame():
    frame = np.full((64, 64, 3), 200, np.uint8)
    skeleton = np.zeros_like(frame)
    skeleton[10, 10] = (255, 0, 0)
    out = overlay(frame, skeleton)
    assert tuple(out[10, 10]) == (255, 0, 0) and out[30, 30, 0] == 140
