"""Long videos in sliding windows: the plan, and what happens to frames between windows.

Wan-VACE makes one window of frames at a time (81 for Wan, 17 for the toy). A longer video is made window
by window. Each window after the first starts with the last `overlap` frames the previous one made, kept
as they are (mask 0: the model sees them and does not change them), followed by its own slice of the pose
video (mask 1). The same reference goes to every window. The kept frames are then dropped from the new
window, so the output has exactly the asked number of frames. This is the design Wan2GP uses; PoseGen
(../shared/seeds) stitches segments the same way with a shared anchor. That is request.window_context
"control", VACE's extension task. With "latents" the control is the pose everywhere and the kept frames are
held through their latents instead (latent_holder), for a model never trained on extension (the toy).

Between windows two optional steps act against drift: a little noise on the kept frames (so the next
window does not copy their blur) and colour matching of the new frames to the frames they continue (Lab
mean and spread), which counters the slow colour and saturation drift reported for chained windows. A third,
from PoseGen, crossfades the overlap from the earlier window's frames into the new window's own version of
them, so a change of look enters over several frames rather than at one seam.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Window:
    """One window, in output frame positions: it covers [start, start + length) and contributes
    [start + keep_from, start + keep_to) of the final video."""

    start: int
    length: int
    keep_from: int
    keep_to: int

    @property
    def new_frames(self) -> int:
        return self.keep_to - self.keep_from


def segment_plan(num_frames: int, segment: int, carried: int) -> list[Window]:
    """The segments a pipeline that segments by itself (WanAnimatePipeline) makes `num_frames` in: each
    `segment` frames long (never longer than the video), each after the first starting with the last `carried`
    frames of the one before. The pipeline pads the pose to whole segments and trims the output to the video."""
    segment = min(segment, num_frames)
    if num_frames <= segment:
        return [Window(0, num_frames, 0, num_frames)]
    if not 0 < carried < segment - carried:  # the pipeline counts its segments as if so
        raise ValueError(f"window_overlap must be at least 1 and under half the segment ({segment} frames), "
                         f"got {carried}")
    step = segment - carried
    windows, start = [], 0
    while True:
        keep_from = 0 if start == 0 else carried
        keep_to = min(segment, num_frames - start)
        windows.append(Window(start, segment, keep_from, keep_to))
        if start + segment >= num_frames:
            return windows
        start += step


@dataclass
class LongVideo:
    """A long video being made: its frames, filled in as each window finishes (so a stopped video keeps the
    finished ones), and the time each stage took, summed over the windows."""

    frames: np.ndarray
    finished_windows: int = 0
    times: dict = field(default_factory=lambda: {"windows": []})

    @classmethod
    def empty(cls, num_frames: int, height: int, width: int) -> "LongVideo":
        return cls(np.zeros((num_frames, height, width, 3), np.uint8))

    def finished_frames(self, plan: list[Window]) -> int:
        if not self.finished_windows:
            return 0
        last = plan[self.finished_windows - 1]
        return last.start + last.keep_to


def make_in_windows(video: LongVideo, plan: list[Window], control: np.ndarray, run_window, request,
                    on_window=None) -> LongVideo:
    """Make `video` window by window. run_window(index, control, mask, kept) runs the model on one window (mask
    None where nothing is kept in the control; kept: the frames to hold through their latents, or None) and
    returns (frames, stage times); each later window is given the frames already made as its context, in the
    control or as latents (request.window_context), and the request's window_noise, window_color_match and
    window_crossfade act between windows."""
    for index, window in enumerate(plan):
        if on_window is not None:
            on_window(index + 1, len(plan))
        made = video.frames if index else None
        if request.window_context == "latents":
            # The pose everywhere, as in the first window; the frames already made go in as latents instead.
            window_frames, mask = window_control(control, None, window)
            kept = made[window.start: window.start + window.keep_from].copy() if made is not None else None
        else:
            window_frames, mask = window_control(control, made, window)
            kept = None
        context = kept if kept is not None else window_frames
        if index and request.window_noise:
            context[: window.keep_from] = add_context_noise(context[: window.keep_from], request.window_noise,
                                                            request.seed + index)
        frames, times = run_window(index, window_frames, None if index == 0 or kept is not None else mask, kept)
        new = frames[window.keep_from: window.keep_to]
        if index and request.window_color_match:
            new = match_colors(new, frames[: window.keep_from], request.window_color_match)
        video.frames[window.start + window.keep_from: window.start + window.keep_to] = new
        if index and request.window_crossfade:
            overlap = slice(window.start, window.start + window.keep_from)
            video.frames[overlap] = crossfade(video.frames[overlap], frames[: window.keep_from], request.window_crossfade)
        video.finished_windows = index + 1
        video.times["windows"].append(times["pipeline_call"])
        for name in ("condition_encode", "denoise", "decode", "pipeline_call"):
            video.times[name] = video.times.get(name, 0.0) + times[name]
    video.times["s_per_step"] = video.times["denoise"] / (request.num_inference_steps * len(plan))
    video.times["step_cache_skipped"] = 0.0
    return video


def latent_holder(pipe, frames: np.ndarray, seed: int, first: int):
    """A step-end hook that holds the first latent frames of the video being denoised at `frames` (uint8
    [k, H, W, 3], k = 4n+1, so they fill whole latent frames of Wan's causal VAE): after each step they are set
    to the frames' own latents noised to the next step's level, so the new frames are denoised around them.
    `first`: latent frames before the video's (the pipeline puts the reference's there)."""
    import torch

    from engine.latents import frames_to_latents

    with torch.no_grad():
        held = frames_to_latents(pipe, frames)
    noise = torch.randn(held.shape, generator=torch.Generator().manual_seed(seed)).to(held.device)

    def hold(pipe, step, callback_kwargs):
        latents = callback_kwargs["latents"]
        sigmas = pipe.scheduler.sigmas
        sigma = float(sigmas[step + 1]) if step + 1 < len(sigmas) else 0.0
        latents[:, :, first:first + held.shape[2]] = ((1 - sigma) * held + sigma * noise).to(latents)
        callback_kwargs["latents"] = latents
        return callback_kwargs

    return hold


def round_up_to_window_length(n: int) -> int:
    """The smallest 4k+1 frame count >= n (what the VAE takes)."""
    return n if n % 4 == 1 else n + (1 - n) % 4


def plan_windows(num_frames: int, window: int, overlap: int, discard: int = 0) -> list[Window]:
    """The windows that make `num_frames` frames; the last one is shortened to what is left."""
    check_window_settings(num_frames, window, overlap, discard)
    windows = [Window(0, window, 0, min(window - discard, num_frames))]
    produced = windows[0].keep_to
    while produced < num_frames:
        remaining = num_frames - produced
        start = produced - overlap
        if overlap + remaining <= window - discard:  # the last window: only as long as it needs to be
            length = round_up_to_window_length(overlap + remaining)
            windows.append(Window(start, length, overlap, overlap + remaining))
        else:
            windows.append(Window(start, window, overlap, window - discard))
        produced += windows[-1].new_frames
    return windows


def check_window_settings(num_frames: int, window: int, overlap: int, discard: int = 0):
    """One line naming the problem with a window / overlap / discard combination."""
    if window < 5 or window % 4 != 1:
        raise ValueError(f"window_frames must be 4n+1 and at least 5, got {window}")
    if overlap < 1 or overlap % 4 != 1:
        below = max(1, (overlap - 1) // 4 * 4 + 1)
        raise ValueError(f"window_overlap must be 4n+1 (1, 5, 9, ...), got {overlap}; nearest valid: {below} or {below + 4}")
    if overlap >= window:
        raise ValueError(f"window_overlap ({overlap}) must be smaller than the window ({window} frames)")
    if discard < 0:
        raise ValueError(f"window_discard must be >= 0, got {discard}")
    if window - overlap - discard < 4:
        raise ValueError(f"each window must add at least 4 new frames: a window of {window} with overlap {overlap} "
                         f"and {discard} discarded adds {window - overlap - discard}")
    if num_frames < 1:
        raise ValueError(f"num_frames must be positive, got {num_frames}")


def window_control(control: np.ndarray, made: np.ndarray | None, window: Window) -> tuple[np.ndarray, list[float]]:
    """The window's control frames and mask (1: generate, 0: keep). The first window is all pose; later
    ones begin with the frames already made. Past the end of the pose video its last frame repeats."""
    indices = np.minimum(np.arange(window.start, window.start + window.length), len(control) - 1)
    frames = control[indices].copy()
    mask = [1.0] * window.length
    if made is not None and window.keep_from:
        frames[: window.keep_from] = made[window.start: window.start + window.keep_from]
        mask[: window.keep_from] = [0.0] * window.keep_from
    return frames, mask


def crossfade(earlier: np.ndarray, later: np.ndarray, frames: int) -> np.ndarray:
    """The overlap as the earlier window made it, its last `frames` blended linearly into the later window's
    version of the same frames (weights 1/(frames+1) ... frames/(frames+1)), so the new window's look comes in
    over several frames instead of at one seam."""
    if frames <= 0:
        return earlier
    blended = earlier.astype(np.float32)
    weights = np.arange(1, frames + 1, dtype=np.float32) / (frames + 1)
    start = len(earlier) - frames
    blended[start:] += weights[:, None, None, None] * (later[start:].astype(np.float32) - blended[start:])
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)


def add_context_noise(frames: np.ndarray, std: float, seed: int) -> np.ndarray:
    """Gaussian noise of `std` (in units of the 0-255 pixel range) on the kept frames."""
    if std <= 0:
        return frames
    rng = np.random.default_rng(seed)
    noisy = frames.astype(np.float32) + rng.normal(0.0, std * 255.0, frames.shape)
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def match_colors(frames: np.ndarray, target: np.ndarray, strength: float) -> np.ndarray:
    """Move the frames' Lab mean and spread toward the target frames', by `strength` (0: unchanged)."""
    if strength <= 0 or len(frames) == 0:
        return frames
    lab = rgb_to_lab(frames)
    goal = rgb_to_lab(target)
    mean, spread = lab.mean(axis=(0, 1, 2)), lab.std(axis=(0, 1, 2)) + 1e-6
    goal_mean, goal_spread = goal.mean(axis=(0, 1, 2)), goal.std(axis=(0, 1, 2))
    matched = (lab - mean) / spread * goal_spread + goal_mean
    blended = lab + strength * (matched - lab)
    return lab_to_rgb(blended)


# sRGB (D65) <-> CIE Lab, the standard formulas.
_RGB_TO_XYZ = np.array([[0.4124564, 0.3575761, 0.1804375],
                        [0.2126729, 0.7151522, 0.0721750],
                        [0.0193339, 0.1191920, 0.9503041]])
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPSILON, _KAPPA = 216 / 24389, 24389 / 27


def rgb_to_lab(frames: np.ndarray) -> np.ndarray:
    rgb = frames.astype(np.float64) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPSILON, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    xyz = np.where(f ** 3 > _EPSILON, f ** 3, (116 * f - 16) / _KAPPA) * _WHITE
    linear = np.clip(xyz @ np.linalg.inv(_RGB_TO_XYZ).T, 0, 1)
    rgb = np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def seam_positions(windows: list[Window]) -> list[int]:
    """Output frame indices where a window's first new frame follows the previous window's last."""
    return [w.start + w.keep_from for w in windows[1:]]
