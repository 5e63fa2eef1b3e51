"""Per-video metrics that need nothing downloaded.

- temporal_consistency: 1 - mean absolute change between consecutive frames (1.0 = a still video).
- motion: mean optical-flow magnitude in pixels per frame, at the video's own resolution
  (dense Lucas-Kanade on a blurred, downscaled grey copy; 0 for a still video).
- reference_similarity: colour-histogram intersection between the reference (as placed) and each frame,
  averaged: how much of the reference's palette (clothes, skin, background) survives, 1.0 = identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MetricInfo:
    """How one per-video metric is named and read, the same everywhere: a sweep's plot menu and table, History's
    What differs. Declared once, beside the code that measures it."""

    label: str
    """The one human name: "consistency", "figure F1"."""
    help: str
    """One line: what it measures and which way is good."""
    better: str = "higher"
    """higher, lower, or neither (motion and runtime describe, they do not judge)."""
    headline: bool = False
    """Says whether the video is right (the figure there and right, the pose followed): plotted first."""


VIDEO_METRICS = {
    "reference_similarity": MetricInfo("similarity to the reference", "how much of the placed reference's colour "
                                       "palette each frame shows, 0-1"),
    "temporal_consistency": MetricInfo("consistency", "1 - the mean change between frames (1: a still picture)",
                                       better="neither"),
    "motion": MetricInfo("motion (px/frame)", "mean optical-flow magnitude", better="neither"),
}
RUN_METRICS = {
    "seconds": MetricInfo("seconds", "the cell's generation time", better="lower"),
    "s_per_step": MetricInfo("s / step", "denoising seconds per step", better="lower"),
    "peak_memory_mb": MetricInfo("peak MB", "peak GPU memory, or the process's on a CPU", better="lower"),
}

ANALYSIS_SIDE = 96  # frames are analysed at about this size: enough for motion, fast on a CPU
HIST_BINS = 8


def _grey(frames: np.ndarray) -> np.ndarray:
    return frames[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _downscale(grey: np.ndarray) -> tuple[np.ndarray, int]:
    """Average-pool by an integer factor so the longer side is about ANALYSIS_SIDE."""
    factor = max(1, max(grey.shape[1:]) // ANALYSIS_SIDE)
    t, h, w = grey.shape
    h, w = h // factor * factor, w // factor * factor
    pooled = grey[:, :h, :w].reshape(t, h // factor, factor, w // factor, factor).mean(axis=(2, 4))
    return pooled, factor


def temporal_consistency(frames: np.ndarray) -> float:
    if len(frames) < 2:
        return 1.0
    grey, _ = _downscale(_grey(frames))
    return float(1.0 - np.abs(np.diff(grey, axis=0)).mean() / 255.0)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    """Sum over a (2r+1)^2 window, via cumulative sums (edges padded)."""
    padded = np.pad(image, radius + 1, mode="edge")
    c = padded.cumsum(0).cumsum(1)
    k = 2 * radius + 1
    return c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]


def _blur(image: np.ndarray) -> np.ndarray:
    return _box(image, 1) / 9.0


def optical_flow(previous: np.ndarray, current: np.ndarray, radius: int = 3) -> np.ndarray:
    """Dense Lucas-Kanade flow [H, W, 2] between two grey images; good for small displacements."""
    a, b = _blur(previous), _blur(current)
    iy, ix = np.gradient((a + b) / 2.0)
    it = b - a
    sxx, syy, sxy = _box(ix * ix, radius), _box(iy * iy, radius), _box(ix * iy, radius)
    sxt, syt = _box(ix * it, radius), _box(iy * it, radius)
    det = sxx * syy - sxy * sxy
    valid = det > 1e-3 * (sxx + syy + 1e-9) ** 2 + 1e-6  # flat or edge-only windows have no reliable flow
    safe = np.where(valid, det, 1.0)
    u = np.where(valid, (-syy * sxt + sxy * syt) / safe, 0.0)
    v = np.where(valid, (sxy * sxt - sxx * syt) / safe, 0.0)
    return np.stack([u, v], axis=-1)


def motion(frames: np.ndarray) -> float:
    """Mean flow magnitude in pixels per frame of the original video."""
    if len(frames) < 2:
        return 0.0
    grey, factor = _downscale(_grey(frames))
    magnitudes = [np.linalg.norm(optical_flow(grey[i], grey[i + 1]), axis=-1).mean() for i in range(len(grey) - 1)]
    return float(np.mean(magnitudes) * factor)


def _histogram(image: np.ndarray) -> np.ndarray:
    bins = (image[..., :3].astype(np.int32) * HIST_BINS) // 256
    index = (bins[..., 0] * HIST_BINS + bins[..., 1]) * HIST_BINS + bins[..., 2]
    counts = np.bincount(index.ravel(), minlength=HIST_BINS ** 3).astype(np.float64)
    return counts / counts.sum()


def reference_similarity(frames: np.ndarray, reference: np.ndarray) -> float:
    """Histogram intersection of the placed reference with each frame, averaged (0..1)."""
    ref = _histogram(reference)
    return float(np.mean([np.minimum(ref, _histogram(frame)).sum() for frame in frames]))


def video_metrics(frames: np.ndarray, reference: np.ndarray | None = None) -> dict:
    result = {"temporal_consistency": temporal_consistency(frames), "motion": motion(frames)}
    if reference is not None:
        result["reference_similarity"] = reference_similarity(frames, reference)
    return result
