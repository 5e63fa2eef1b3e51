"""Fitting the driving skeleton to the reference person: size, position, limb lengths; motion kept."""

import numpy as np
import pytest

from engine.pose.fit import apply_fit, bone_length, plan_fit
from engine.pose.format import Person

STANDING = {0: (0, -40), 1: (0, 0), 2: (-20, 0), 3: (-25, 30), 4: (-28, 60), 5: (20, 0), 6: (25, 30),
            7: (28, 60), 8: (-12, 70), 9: (-12, 110), 10: (-12, 150), 11: (12, 70), 12: (12, 110), 13: (12, 150)}


def body_at(x, y, size=1.0, legs=1.0) -> Person:
    person = Person()
    for joint, (dx, dy) in STANDING.items():
        if joint in (9, 10, 12, 13):  # longer or shorter legs below the hips
            dy = 70 + (dy - 70) * legs
        person.body[joint] = (x + dx * size, y + dy * size, 1.0)
    person.hands[0, :, :] = (x + 28 * size, y + 65 * size, 1.0)
    return person


def test_scale_fit_matches_size_and_neck_and_keeps_the_motion():
    driving = [body_at(100 + 5 * t, 50, size=2.0) for t in range(5)]
    reference = body_at(300, 200, size=1.0)
    fit = plan_fit(driving, reference, 0.3, "scale")
    fitted = apply_fit(driving, fit, 0.3)
    assert fit.scale == pytest.approx(0.5)
    assert fitted[0].body[1, :2].tolist() == pytest.approx([300, 200])
    assert fitted[4].body[1, 0] - fitted[0].body[1, 0] == pytest.approx(10)  # 20 px of motion, halved
    assert fitted[0].hands[0, 0, :2].tolist() == pytest.approx(reference.hands[0, 0, :2].tolist())


def test_limb_fit_gives_the_driving_body_the_reference_legs():
    driving = [body_at(100, 100, legs=1.5) for _ in range(3)]
    reference = body_at(100, 100, legs=1.0)
    fit = plan_fit(driving, reference, 0.3, "limbs")
    fitted = apply_fit(driving, fit, 0.3)
    shin = (9, 10)
    assert bone_length(fitted[0].body, shin, 0.3) == pytest.approx(bone_length(reference.body, shin, 0.3), rel=1e-4)
    assert "most changed" in fit.describe()


def test_a_reference_without_shoulders_cannot_be_fitted():
    reference = body_at(0, 0)
    reference.body[2, 2] = reference.body[1, 2] = 0
    with pytest.raises(ValueError, match="no shoulders"):
        plan_fit([body_at(0, 0)], reference, 0.3, "scale")


def test_missing_frames_stay_missing():
    driving = [body_at(0, 0), None, body_at(5, 0)]
    fit = plan_fit(driving, body_at(50, 50), 0.3, "scale")
    assert apply_fit(driving, fit, 0.3)[1] is None and np.isfinite(fit.scale)
