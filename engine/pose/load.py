"""Import COCO-17 2D keypoints (AIST++'s `keypoints2d`) and remap them to the lab's pose format.

Accepted files:
- `.npy` / `.npz`: an array [T, 17, 2|3] (one person) or [T, P, 17, 2|3]; in an npz, the key
  `keypoints2d` (else the only array). AIST++ arrays [9 cameras, T, 17, 3] need `camera`.
- `.json`: a list of frames, each [17, 2|3] or [P, 17, 2|3], or an object with `keypoints2d` and
  optional `fps`, `width`, `height`.
- `.pkl`: AIST++'s pickles (a dict with `keypoints2d`, `det_scores`, `timestamps`). They are read with a
  restricted unpickler that only rebuilds numpy arrays and plain containers, never arbitrary objects.

This is body only: the result says plainly that hands and face are missing.
"""

from __future__ import annotations

import io
import json
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.pose.format import Person, from_coco17

SUFFIXES = (".npy", ".npz", ".json", ".pkl")
AIST_FPS = 60.0
AIST_SIZE = (1920, 1080)  # width, height of AIST++ videos, the pixel space of its keypoints
MISSING_PARTS_NOTE = "Imported COCO-17 keypoints are body only: the pose video has no hands and no face."


@dataclass
class ImportedKeypoints:
    people: list[list[Person]]
    """Per frame, everyone in it (OpenPose-18 body, empty hands and face)."""
    fps: float | None
    size: tuple[int, int] | None
    """(width, height) of the frames the keypoints were measured on, when the file says so."""


class _ArraysOnly(pickle.Unpickler):
    """Unpickles numpy arrays, dicts, lists and numbers; anything else is refused."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("collections", "OrderedDict"),
    }

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise ValueError(f"refusing to unpickle {module}.{name}: only numpy arrays are accepted")


def load_keypoints(path: str | Path, camera: int | None = None) -> ImportedKeypoints:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path.name}: keypoints must be one of {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise ValueError(f"{path.name}: no such keypoints file")
    fps, size = None, None
    try:
        if suffix == ".npy":
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                key = "keypoints2d" if "keypoints2d" in archive.files else archive.files[0]
                array = archive[key]
        elif suffix == ".json":
            array, fps, size = _from_json(json.loads(path.read_text()))
        else:
            data = _ArraysOnly(io.BytesIO(path.read_bytes())).load()
            array = data["keypoints2d"] if isinstance(data, dict) else data
            fps, size = AIST_FPS, AIST_SIZE
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name}: cannot read keypoints (not JSON: {err})") from None
    except ValueError as err:
        raise ValueError(f"{path.name}: {err}") from None
    except (OSError, KeyError, EOFError, pickle.UnpicklingError, IndexError, TypeError) as err:
        raise ValueError(f"{path.name}: cannot read keypoints ({type(err).__name__}: {err})") from None
    array = _select_camera(np.asarray(array, dtype=np.float32), camera, path.name)
    return ImportedKeypoints(people=_to_people(array, path.name), fps=fps, size=size)


def _from_json(data):
    if isinstance(data, dict):
        if "keypoints2d" not in data:
            raise ValueError("a JSON object needs a 'keypoints2d' field")
        size = (int(data["width"]), int(data["height"])) if "width" in data and "height" in data else None
        return data["keypoints2d"], (float(data["fps"]) if data.get("fps") else None), size
    return data, None, None


def _select_camera(array: np.ndarray, camera: int | None, name: str) -> np.ndarray:
    """AIST++ stores all nine views: [9, T, 17, 3]. Pick one (cameras are numbered from 1, like c01)."""
    if array.ndim == 4 and array.shape[0] == 9 and array.shape[2] == 17:
        if camera is None:
            raise ValueError(f"{name}: holds 9 camera views; say which camera (1-9, c01 = 1)")
        if not 1 <= camera <= 9:
            raise ValueError(f"{name}: camera must be 1-9, got {camera}")
        return array[camera - 1]
    return array


def _to_people(array: np.ndarray, name: str) -> list[list[Person]]:
    if array.ndim == 3:
        array = array[:, None]
    if array.ndim != 4 or array.shape[2] != 17 or array.shape[3] not in (2, 3):
        raise ValueError(f"{name}: expected keypoints shaped [frames, 17, 2|3] or [frames, people, 17, 2|3], "
                         f"got {list(array.shape)}")
    if len(array) == 0:
        raise ValueError(f"{name}: holds zero frames")
    if array.shape[3] == 2:
        array = np.concatenate([array, np.ones(array.shape[:3] + (1,), np.float32)], axis=3)
    # AIST++ marks frames it could not triangulate with NaN; they count as not found.
    missing = ~np.isfinite(array).all(axis=3)
    array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
    array[missing, 2] = 0.0
    frames = []
    for frame in array:
        frames.append([from_coco17(points) for points in frame if points[:, 2].max() > 0])
    return frames
