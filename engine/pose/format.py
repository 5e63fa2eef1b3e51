"""One whole-body pose format for every backend, and the remaps into it.

A Person is what DWPose produces and what Wan-VACE's annotator draws: OpenPose-18 body, two 21-point
hands (left, right) and a 68-point face (the dlib/iBUG layout). Each point is (x, y, confidence) in
pixels of the prepared frame; a point the backend did not find has confidence 0.

Joint orders are public conventions: OpenPose-18 (COCO joints plus a neck, right side first), COCO-17,
COCO-WholeBody-133 (body 0-16, feet 17-22, face 23-90, left hand 91-111, right hand 112-132),
MediaPipe Pose-33 and the MediaPipe face mesh.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BODY_JOINTS = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)
NUM_BODY, NUM_HAND, NUM_FACE = 18, 21, 68
PARTS = ("body", "hands", "face")

# COCO-17 index of each OpenPose-18 joint; the neck (-1) is the midpoint of the shoulders.
COCO17_TO_OPENPOSE = (0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
COCO17_JOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder", "left_elbow",
    "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle",
    "right_ankle",
)
# MediaPipe Pose-33 index of each OpenPose-18 joint (eyes are its 5/2, ears 8/7); neck as above.
MEDIAPIPE_TO_OPENPOSE = (0, -1, 12, 14, 16, 11, 13, 15, 24, 26, 28, 23, 25, 27, 5, 2, 8, 7)
WHOLEBODY_FACE = slice(23, 91)
WHOLEBODY_LEFT_HAND = slice(91, 112)
WHOLEBODY_RIGHT_HAND = slice(112, 133)

# Face-mesh vertex nearest to each of the 68 dlib points: jaw from the subject's right ear to the left,
# brows, nose bridge and nostrils, eyes (clockwise from the outer corner), outer then inner lips.
MEDIAPIPE_FACE_TO_68 = (
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 397, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
    78, 81, 13, 311, 308, 402, 14, 178,
)


def _zeros(*shape) -> np.ndarray:
    return np.zeros(shape + (3,), dtype=np.float32)


@dataclass
class Person:
    """One person in one frame."""

    body: np.ndarray = field(default_factory=lambda: _zeros(NUM_BODY))
    """[18, 3] OpenPose-18 joints: x, y, confidence."""
    hands: np.ndarray = field(default_factory=lambda: _zeros(2, NUM_HAND))
    """[2, 21, 3] left hand, then right hand."""
    face: np.ndarray = field(default_factory=lambda: _zeros(NUM_FACE))
    """[68, 3] face landmarks."""

    def confident_body(self, threshold: float) -> np.ndarray:
        return self.body[self.body[:, 2] >= threshold, :2]

    def box_area(self, threshold: float = 0.3) -> float:
        """Area of the box around the confident body joints: how "large" a person is."""
        points = self.confident_body(threshold)
        if len(points) < 2:
            return 0.0
        size = points.max(0) - points.min(0)
        return float(size[0] * size[1])

    def centre_x(self, threshold: float = 0.3) -> float:
        points = self.confident_body(threshold)
        return float(points[:, 0].mean()) if len(points) else float("inf")

    def transformed(self, scale: float, offset: np.ndarray) -> "Person":
        """Every point scaled about the origin and shifted; confidences unchanged."""
        def move(points):
            moved = points.copy()
            moved[..., :2] = points[..., :2] * scale + offset
            return moved

        return Person(move(self.body), move(self.hands), move(self.face))

    def to_json(self) -> dict:
        return {part: np.round(getattr(self, part), 2).tolist() for part in PARTS}

    @classmethod
    def from_json(cls, data: dict) -> "Person":
        return cls(*(np.asarray(data[part], dtype=np.float32) for part in PARTS))


def _neck(left_shoulder: np.ndarray, right_shoulder: np.ndarray) -> np.ndarray:
    """Midpoint of the shoulders, as confident as the less confident shoulder."""
    xy = (left_shoulder[:2] + right_shoulder[:2]) / 2
    return np.array([xy[0], xy[1], min(left_shoulder[2], right_shoulder[2])], dtype=np.float32)


def body_from_indices(points: np.ndarray, mapping: tuple[int, ...], left_shoulder: int, right_shoulder: int) -> np.ndarray:
    """OpenPose-18 body from another layout's [K, 3] points, given which source index feeds each joint."""
    body = _zeros(NUM_BODY)
    for joint, source in enumerate(mapping):
        body[joint] = _neck(points[left_shoulder], points[right_shoulder]) if source < 0 else points[source]
    return body


def from_coco17(points: np.ndarray) -> Person:
    """A COCO-17 [17, 3] skeleton (AIST++'s keypoints2d): body only, no hands or face."""
    points = np.asarray(points, dtype=np.float32)
    if points.shape != (17, 3):
        raise ValueError(f"COCO-17 keypoints must be 17 x (x, y, confidence), got shape {points.shape}")
    return Person(body=body_from_indices(points, COCO17_TO_OPENPOSE, left_shoulder=5, right_shoulder=6))


def from_coco_wholebody(xy: np.ndarray, scores: np.ndarray) -> Person:
    """DWPose / RTMW output for one person: [133, 2] positions and [133] scores."""
    points = np.concatenate([np.asarray(xy, np.float32), np.asarray(scores, np.float32)[:, None]], axis=1)
    return Person(
        body=body_from_indices(points[:17], COCO17_TO_OPENPOSE, left_shoulder=5, right_shoulder=6),
        hands=np.stack([points[WHOLEBODY_LEFT_HAND], points[WHOLEBODY_RIGHT_HAND]]),
        face=points[WHOLEBODY_FACE].copy(),
    )


def landmarks_to_points(landmarks, width: int, height: int, with_visibility: bool) -> np.ndarray:
    """MediaPipe's normalised landmarks as [K, 3] pixels; confidence is its visibility where it has one."""
    rows = []
    for landmark in landmarks.landmark:
        confidence = landmark.visibility if with_visibility else 1.0
        rows.append((landmark.x * width, landmark.y * height, confidence))
    return np.asarray(rows, dtype=np.float32)


def from_mediapipe_holistic(result, width: int, height: int) -> Person | None:
    """One MediaPipe Holistic result; None when it found no body."""
    if result.pose_landmarks is None:
        return None
    pose = landmarks_to_points(result.pose_landmarks, width, height, with_visibility=True)
    person = Person(body=body_from_indices(pose, MEDIAPIPE_TO_OPENPOSE, left_shoulder=11, right_shoulder=12))
    # Holistic's left/right hands are the subject's, like COCO-WholeBody's.
    for slot, hand in enumerate((result.left_hand_landmarks, result.right_hand_landmarks)):
        if hand is not None:
            person.hands[slot] = landmarks_to_points(hand, width, height, with_visibility=False)
    if result.face_landmarks is not None:
        mesh = landmarks_to_points(result.face_landmarks, width, height, with_visibility=False)
        person.face = mesh[list(MEDIAPIPE_FACE_TO_68)]
    return person


def clip_to_frame(person: Person, width: int, height: int) -> Person:
    """Points that fell outside the frame lose their confidence (they cannot be drawn)."""
    for points in (person.body, person.hands, person.face):
        outside = (points[..., 0] < 0) | (points[..., 0] >= width) | (points[..., 1] < 0) | (points[..., 1] >= height)
        points[outside, 2] = 0.0
    return person
