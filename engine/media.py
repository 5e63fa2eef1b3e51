"""Reading and writing images and videos, and fitting them to the model's frame.

Fitting is where the blog lost weeks: its reference photo was centre-cropped to 832:480, cutting off
head and feet. Here the reference is always letterboxed onto white (the geometry diffusers' VACE
pipeline uses), and the control video is resampled by timestamp so fps and frame count are exact.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff"}
VIDEO_SUFFIXES = {".mp4", ".mov", ".webm", ".avi", ".mkv", ".gif", ".m4v"}
MAX_VIDEO_FRAMES = 5000  # about 3.5 minutes at 24 fps: more than any clip the model can use
MAX_SOURCE_PIXELS = 4096 * 2304  # 4K-ish; larger frames cost seconds each to decode and fit


@dataclass
class Box:
    """Where a fitted image sits inside the frame, in pixels."""

    left: int
    top: int
    width: int
    height: int


@dataclass
class VideoClip:
    frames: np.ndarray
    """uint8 [N, H, W, 3]."""
    fps: float


def load_image(path: str | Path) -> Image.Image:
    """Open an image as RGB, honouring EXIF rotation; transparency becomes white, greyscale becomes RGB."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{path.name}: not an image file (expected one of {', '.join(sorted(IMAGE_SUFFIXES))})")
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError) as err:
        raise ValueError(f"{path.name}: cannot read the image ({err})") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    if image.width < 2 or image.height < 2:
        raise ValueError(f"{path.name}: image is too small ({image.width}x{image.height})")
    return image.convert("RGB")


def letterbox(image: Image.Image, height: int, width: int, fill=(255, 255, 255)) -> tuple[Image.Image, Box]:
    """Scale the whole image into height x width and centre it on a plain canvas; nothing is cut off."""
    scale = min(height / image.height, width / image.width)
    new_h, new_w = max(1, int(image.height * scale)), max(1, int(image.width * scale))
    resized = image.resize((new_w, new_h), Image.BILINEAR)
    canvas = Image.new("RGB", (width, height), fill)
    box = Box(left=(width - new_w) // 2, top=(height - new_h) // 2, width=new_w, height=new_h)
    canvas.paste(resized, (box.left, box.top))
    return canvas, box


def centre_crop(image: Image.Image, height: int, width: int) -> Image.Image:
    scale = max(height / image.height, width / image.width)
    new_h, new_w = max(height, round(image.height * scale)), max(width, round(image.width * scale))
    resized = image.resize((new_w, new_h), Image.BILINEAR)
    left, top = (new_w - width) // 2, (new_h - height) // 2
    return resized.crop((left, top, left + width, top + height))


def fit_frame(frame: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    """Fit one control frame: pad keeps proportions with black bars (a pose video's background)."""
    image = Image.fromarray(frame)
    if image.size == (width, height):
        return frame
    if mode == "pad":
        fitted, _ = letterbox(image, height, width, fill=(0, 0, 0))
    elif mode == "crop":
        fitted = centre_crop(image, height, width)
    elif mode == "stretch":
        fitted = image.resize((width, height), Image.BILINEAR)
    else:
        raise ValueError(f"unknown fit mode {mode!r}")
    return np.asarray(fitted)


def fit_geometry(source_height: int, source_width: int, height: int, width: int, mode: str):
    """Where fit_frame puts a source pixel: (scale_xy, offset_xy) with target = source * scale + offset."""
    if mode == "pad":
        scale = min(height / source_height, width / source_width)
        new_h, new_w = max(1, int(source_height * scale)), max(1, int(source_width * scale))
        left, top = (width - new_w) // 2, (height - new_h) // 2
    elif mode == "crop":
        scale = max(height / source_height, width / source_width)
        new_h, new_w = max(height, round(source_height * scale)), max(width, round(source_width * scale))
        left, top = -((new_w - width) // 2), -((new_h - height) // 2)
    elif mode == "stretch":
        new_h, new_w, left, top = height, width, 0, 0
    else:
        raise ValueError(f"unknown fit mode {mode!r}")
    return np.array([new_w / source_width, new_h / source_height]), np.array([left, top], dtype=np.float64)


@dataclass
class VideoStream:
    """An open video: its frames come one at a time (uint8 RGB), so a long clip costs no memory."""

    frames: object
    """An iterator of frames; it stops at MAX_VIDEO_FRAMES with a ValueError and closes the file at the end."""
    fps: float
    size: tuple[int, int]
    """(height, width), or (0, 0) when the container does not say."""
    duration: float | None


def open_video(path: str | Path, start: float = 0.0) -> VideoStream:
    """The one way the lab opens a video: it checks the file type, the frame rate and the size limit,
    seeks to `start` seconds, and streams frames (a damaged tail keeps what decoded, with a warning)."""
    path = Path(path)
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"{path.name}: not a video file (expected one of {', '.join(sorted(VIDEO_SUFFIXES))})")
    if start < 0:
        raise ValueError(f"start must be 0 or more seconds, got {start}")
    if path.suffix.lower() == ".gif":
        return _open_gif(path, start)
    return _open_with_ffmpeg(path, start)


def read_video(path: str | Path) -> VideoClip:
    """Decode a whole video to uint8 RGB frames with its frame rate."""
    stream = open_video(path)
    frames = list(stream.frames)
    if not frames:
        raise ValueError(f"{Path(path).name}: the video has zero frames")
    return VideoClip(np.stack(frames), stream.fps)


def read_first_frame(path: str | Path) -> np.ndarray:
    """The first frame of a video, without decoding the rest."""
    stream = open_video(path)
    try:
        return next(iter(stream.frames)).copy()
    except StopIteration:
        raise ValueError(f"{Path(path).name}: the video has zero frames") from None
    finally:
        stream.frames.close()


def _limited(path: Path, frames, close):
    """Frames as RGB uint8, at most MAX_VIDEO_FRAMES, closing the source however the caller stops."""
    count = 0
    try:
        for frame in frames:
            count += 1
            if count > MAX_VIDEO_FRAMES:
                raise ValueError(f"{path.name}: more than {MAX_VIDEO_FRAMES} frames; trim it first")
            yield np.asarray(frame)[..., :3]
    finally:
        close()


def _open_gif(path: Path, start: float) -> VideoStream:
    try:
        gif = Image.open(path)
        count = getattr(gif, "n_frames", 1)
        durations = []
        for index in range(min(count, MAX_VIDEO_FRAMES + 1)):
            gif.seek(index)
            durations.append(gif.info.get("duration", 100) or 100)
        size = (gif.height, gif.width)
    except (UnidentifiedImageError, OSError, EOFError) as err:
        raise ValueError(f"{path.name}: cannot read the GIF ({err})") from None
    if size[0] * size[1] > MAX_SOURCE_PIXELS:
        gif.close()
        raise ValueError(f"{path.name}: {size[1]}x{size[0]} is larger than this lab reads (at most 4096x2304)")
    fps = 1000.0 / float(np.mean(durations))
    first = int(np.floor(start * fps + 1e-6))

    def frames():
        for index in range(first, count):
            gif.seek(index)
            yield np.asarray(gif.convert("RGB"))

    return VideoStream(_limited(path, frames(), gif.close), fps, size, count / fps)


def _open_with_ffmpeg(path: Path, start: float) -> VideoStream:
    import imageio.v2 as imageio

    try:
        # -ss before the input seeks by keyframe and then decodes exactly to the timestamp.
        reader = imageio.get_reader(str(path), "ffmpeg", input_params=["-ss", f"{start:.3f}"] if start else None)
        meta = reader.get_meta_data()
    except Exception as err:  # imageio raises several types for unreadable containers
        raise ValueError(f"{path.name}: cannot open the video, no readable video stream ({_one_line(err)})") from None
    fps = float(meta.get("fps") or 0)
    if not fps or not np.isfinite(fps):
        reader.close()
        raise ValueError(f"{path.name}: the video has no frame rate")
    width, height = meta.get("size") or (0, 0)
    if width * height > MAX_SOURCE_PIXELS:
        reader.close()
        raise ValueError(f"{path.name}: {width}x{height} is larger than this lab reads (at most 4096x2304); "
                         "downscale it first")
    duration = meta.get("duration")
    duration = float(duration) if duration and np.isfinite(duration) else None

    def frames():
        decoded = 0
        try:
            for frame in reader:
                decoded += 1
                yield frame
        except Exception as err:  # noqa: BLE001 - a damaged tail: keep what decoded
            if not decoded:
                raise ValueError(f"{path.name}: cannot decode the video ({_one_line(err)})") from None
            logger.warning("%s: stopped decoding after %d frames: %s", path.name, decoded, _one_line(err))

    return VideoStream(_limited(path, frames(), reader.close), fps, (height, width), duration)


@dataclass
class VideoWindow:
    """Frames picked from a video at exact timestamps: start, start + 1/fps, ... (count of them)."""

    frames: list
    """The picked frames, each already passed through the caller's `prepare`."""
    source_fps: float
    source_size: tuple[int, int]
    """(height, width) of the source."""
    source_duration: float | None
    padded: int
    """How many frames past the end of the video repeat its last frame."""


def read_video_window(path: str | Path, start: float, fps: float, count: int, prepare=lambda frame: frame,
                      on_frame=None) -> VideoWindow:
    """Decode only what `count` frames at `fps` from `start` seconds need, preparing each as it comes.

    Long or large videos cost no memory beyond the picked frames; ffmpeg seeks straight to `start`.
    """
    path = Path(path)
    stream = open_video(path, start)
    source, source_fps, duration = stream.frames, stream.fps, stream.duration
    if duration is not None and start >= duration:
        source.close()
        raise ValueError(f"{path.name}: start {start:g} s is past the end of the video ({duration:.2f} s)")
    wanted, _ = resample_indices(10**9, source_fps, fps, count)
    frames, size, last_index, current = [], None, -1, None
    for index, frame in enumerate(source):
        if index > wanted[-1]:
            source.close()
            break
        size = size or frame.shape[:2]
        while len(frames) < count and wanted[len(frames)] == index:
            current = current if last_index == index else prepare(np.asarray(frame)[..., :3])
            last_index = index
            frames.append(current)
            if on_frame:
                on_frame(len(frames), count)
    if not frames:
        raise ValueError(f"{path.name}: no frames at or after {start:g} s")
    padded = count - len(frames)
    frames.extend([frames[-1]] * padded)
    return VideoWindow(frames, source_fps, tuple(size), duration, padded)


def _one_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def resample_indices(num_source: int, source_fps: float, target_fps: float, count: int) -> tuple[list[int], int]:
    """Source frame shown at each target timestamp i/target_fps; past the end, the last frame is held.

    Returns the indices and how many target frames had to be padded that way.
    """
    indices, padded = [], 0
    for i in range(count):
        # The small epsilon keeps exact multiples (e.g. 32 fps -> 16 fps) from rounding down a frame.
        index = int(np.floor(i * source_fps / target_fps + 1e-6))
        if index >= num_source:
            index, padded = num_source - 1, padded + 1
        indices.append(index)
    return indices, padded


def write_mp4(frames: np.ndarray, path: str | Path, fps: int) -> Path:
    """H.264 MP4 at exactly `fps` frames per second; width and height must be even."""
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = imageio.get_writer(
        str(path), format="ffmpeg", fps=fps, codec="libx264", quality=8, pixelformat="yuv420p",
        macro_block_size=1, ffmpeg_log_level="error",
    )
    try:
        for frame in frames:
            writer.append_data(frame)
    finally:
        writer.close()
    return path
