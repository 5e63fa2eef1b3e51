"""Pose extraction backends behind one interface: `detect(frame) -> list[Person]`.

- dwpose: DWPose's ONNX models (a YOLOX person detector and the RTMPose-style whole-body model) run by
  rtmlib on onnxruntime, with the CUDA execution provider when there is one. Whole body, several people.
- mediapipe: MediaPipe Holistic, whose models ship inside the mediapipe 0.10.21 wheel, so it works
  offline. Whole body, one person (it tracks the most prominent one).

Both are imported only when used. Imported COCO-17 keypoints (AIST++) live in engine/pose/load.py.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.paths import workspace_dir
from engine.pose.format import Person, from_coco_wholebody, from_mediapipe_holistic

logger = logging.getLogger(__name__)

BACKENDS = ("dwpose", "mediapipe")
DWPOSE_REPO = "yzd-v/DWPose"
DWPOSE_DETECTOR, DWPOSE_ESTIMATOR = "yolox_l.onnx", "dw-ll_ucoco_384.onnx"


@dataclass
class DWPoseModels:
    """Where DWPose's two ONNX files are, and the input sizes (width, height) they were exported for."""

    detector: Path
    estimator: Path
    detector_input: tuple[int, int] = (640, 640)
    estimator_input: tuple[int, int] = (288, 384)


def dwpose_folder() -> Path:
    """Local DWPose models: $VACE_LAB_DWPOSE_DIR, else <workspace>/models/dwpose."""
    return Path(os.environ.get("VACE_LAB_DWPOSE_DIR") or workspace_dir("models") / "dwpose")


def local_dwpose_models() -> DWPoseModels | None:
    folder = dwpose_folder()
    detector, estimator = folder / DWPOSE_DETECTOR, folder / DWPOSE_ESTIMATOR
    return DWPoseModels(detector, estimator) if detector.is_file() and estimator.is_file() else None


def find_dwpose_models() -> DWPoseModels:
    """Local files first; otherwise the hub, unless offline. Says where to put them when neither works."""
    models = local_dwpose_models()
    if models is not None:
        return models
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        raise ValueError(f"DWPose models not found: put {DWPOSE_DETECTOR} and {DWPOSE_ESTIMATOR} in {dwpose_folder()} "
                         f"(from the hub repo {DWPOSE_REPO}), or use the mediapipe backend")
    from huggingface_hub import hf_hub_download

    try:
        detector = hf_hub_download(DWPOSE_REPO, DWPOSE_DETECTOR)
        estimator = hf_hub_download(DWPOSE_REPO, DWPOSE_ESTIMATOR)
    except Exception as err:  # noqa: BLE001 - network and hub errors come in many types
        raise ValueError(f"cannot download DWPose from {DWPOSE_REPO} ({type(err).__name__}); put the two ONNX files "
                         f"in {dwpose_folder()} or use the mediapipe backend") from None
    return DWPoseModels(Path(detector), Path(estimator))


def default_backend() -> str:
    """DWPose where its models are on disk, else MediaPipe (works offline, the embedded default)."""
    return "dwpose" if local_dwpose_models() is not None else "mediapipe"


def resolve_backend(name: str) -> str:
    name = (name or "auto").strip().lower()
    if name == "auto":
        return default_backend()
    if name not in BACKENDS:
        raise ValueError(f"unknown pose backend {name!r}; choose auto, {', '.join(BACKENDS)}")
    return name


class MediaPipeBackend:
    """MediaPipe Holistic in video mode (it tracks between frames). One person per frame at most."""

    name = "mediapipe"
    parts = ("body", "hands", "face")
    max_people = 1

    def __init__(self):
        try:
            from mediapipe.python.solutions import holistic
        except ImportError as err:
            raise ValueError(f"the mediapipe backend needs mediapipe==0.10.21 ({err})") from None
        # model_complexity=1 is the model the wheel ships; 0 and 2 would be downloaded.
        self._model = holistic.Holistic(static_image_mode=False, model_complexity=1, smooth_landmarks=True,
                                        refine_face_landmarks=False)

    def detect(self, frame: np.ndarray) -> list[Person]:
        height, width = frame.shape[:2]
        person = from_mediapipe_holistic(self._model.process(np.ascontiguousarray(frame)), width, height)
        return [] if person is None else [person]

    def close(self):
        self._model.close()


class DWPoseBackend:
    """DWPose through rtmlib: detect people, then estimate 133 whole-body keypoints for each."""

    name = "dwpose"
    parts = ("body", "hands", "face")
    max_people = None

    def __init__(self, models: DWPoseModels | None = None):
        models = models or find_dwpose_models()
        try:
            import onnxruntime
            from rtmlib import RTMPose, YOLOX
        except ImportError as err:
            raise ValueError(f"the dwpose backend needs rtmlib and onnxruntime ({err})") from None
        device = "cuda" if "CUDAExecutionProvider" in onnxruntime.get_available_providers() else "cpu"
        # rtmlib takes (height, width) for the detector and (width, height) for the estimator; it also
        # prints a line per model loaded, which would land in the CLI's output.
        with contextlib.redirect_stdout(io.StringIO()):
            self._detector = YOLOX(str(models.detector), model_input_size=models.detector_input[::-1], device=device)
            self._estimator = RTMPose(str(models.estimator), model_input_size=models.estimator_input, device=device)
        self.device = device
        logger.info("DWPose on %s: %s, %s", device, models.detector.name, models.estimator.name)

    def detect(self, frame: np.ndarray) -> list[Person]:
        bgr = np.ascontiguousarray(frame[..., ::-1])  # rtmlib follows OpenCV: BGR
        boxes = self._detector(bgr)
        if len(boxes) == 0:
            return []
        keypoints, scores = self._estimator(bgr, bboxes=list(boxes))
        return [from_coco_wholebody(xy, score) for xy, score in zip(keypoints, scores)]

    def close(self):
        pass


def open_backend(name: str, dwpose_models: DWPoseModels | None = None):
    name = resolve_backend(name)
    if name == "dwpose":
        return DWPoseBackend(dwpose_models)
    return MediaPipeBackend()
