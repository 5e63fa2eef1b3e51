"""Labelled comparison grids of videos: one animated grid (GIF / MP4) and a PNG contact sheet.

Rows are the Y values, columns the X values; headers read like the blog's ("CFG 5", "LoRA strength 0.7") and a
legend lists what stayed fixed. All cells play in step: a shorter cell holds its last frame. A failed
cell is a grey tile with its error, so the grid still shows what did work.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)
FAILED_FILL = (200, 200, 200)
FAILED_INK = (170, 0, 0)
NOT_RUN_INK = (110, 110, 110)
GAP = 4


@dataclass
class Tile:
    """One cell of a grid: its frames, or the reason it has none."""

    frames: np.ndarray | None = None
    error: str | None = None
    not_run: bool = False
    """A cell a stopped sweep never reached: grey and labelled so, not drawn as a failure."""


@dataclass
class GridLayout:
    """Where everything sits, in pixels; computed once and shared by every frame."""

    rows: list[str]
    cols: list[str]
    tile_h: int
    tile_w: int
    header_h: int
    label_w: int
    legend_lines: list[str]
    font_size: int

    @property
    def width(self) -> int:
        return _even(self.label_w + len(self.cols) * (self.tile_w + GAP) + GAP)

    @property
    def legend_h(self) -> int:
        return (len(self.legend_lines) * (self.font_size + 4) + 8) if self.legend_lines else 0

    @property
    def height(self) -> int:
        return _even(self.header_h + len(self.rows) * (self.tile_h + GAP) + GAP + self.legend_h)

    def tile_origin(self, row: int, col: int) -> tuple[int, int]:
        return self.label_w + GAP + col * (self.tile_w + GAP), self.header_h + GAP + row * (self.tile_h + GAP)


def _even(n: int) -> int:
    return n + (n % 2)  # H.264 wants even sizes


def font(size: int):
    return ImageFont.load_default(size=size)


def plan_layout(tiles: dict, rows: list[str], cols: list[str], legend: str = "", scale: float = 1.0) -> GridLayout:
    sizes = [t.frames.shape[1:3] for t in tiles.values() if t.frames is not None]
    tile_h, tile_w = (max(s[0] for s in sizes), max(s[1] for s in sizes)) if sizes else (128, 224)
    tile_h, tile_w = max(16, int(tile_h * scale)), max(16, int(tile_w * scale))
    font_size = max(12, min(28, tile_h // 9))
    measure = font(font_size)
    label_w = (max(measure.getbbox(text)[2] for text in rows) + 2 * GAP + 8) if any(rows) else 0
    width_chars = max(20, int((label_w + len(cols) * tile_w) / (font_size * 0.55)))
    legend_lines = textwrap.wrap(legend, width_chars) if legend else []
    header_h = font_size + 12 if any(cols) else 0
    return GridLayout(rows, cols, tile_h, tile_w, header_h, label_w, legend_lines, font_size)


def grid_background(layout: GridLayout) -> Image.Image:
    """Headers, legend and failed tiles: everything that does not change from frame to frame."""
    canvas = Image.new("RGB", (layout.width, layout.height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    text_font = font(layout.font_size)
    for col, text in enumerate(layout.cols):
        x, _ = layout.tile_origin(0, col)
        width = text_font.getbbox(text)[2]
        draw.text((x + (layout.tile_w - width) // 2, 6), text, fill=INK, font=text_font)
    for row, text in enumerate(layout.rows):
        _, y = layout.tile_origin(row, 0)
        draw.text((GAP + 4, y + layout.tile_h // 2 - layout.font_size // 2), text, fill=INK, font=text_font)
    y = layout.height - layout.legend_h + 4
    for line in layout.legend_lines:
        draw.text((GAP + 4, y), line, fill=(90, 90, 90), font=text_font)
        y += layout.font_size + 4
    return canvas


def draw_failed(canvas: Image.Image, layout: GridLayout, row: int, col: int, text: str, ink=FAILED_INK):
    x, y = layout.tile_origin(row, col)
    draw = ImageDraw.Draw(canvas)
    draw.rectangle([x, y, x + layout.tile_w - 1, y + layout.tile_h - 1], fill=FAILED_FILL, outline=ink, width=3)
    small = font(max(10, layout.font_size - 4))
    lines = textwrap.wrap(text, max(10, int(layout.tile_w / (small.size * 0.55))))
    for i, line in enumerate(lines[: max(1, layout.tile_h // (small.size + 3) - 1)]):
        draw.text((x + 6, y + 6 + i * (small.size + 3)), line, fill=ink, font=small)


def compose_frames(tiles: dict, rows: list[str], cols: list[str], legend: str = "", scale: float = 1.0,
                   frame_step: int = 1) -> np.ndarray:
    """The animated grid as uint8 frames [T, H, W, 3]. tiles maps (row, col) -> Tile."""
    layout = plan_layout(tiles, rows, cols, legend, scale)
    background = grid_background(layout)
    for (row, col), tile in tiles.items():
        if tile.frames is None:
            if tile.not_run:
                draw_failed(background, layout, row, col, "not run yet", ink=NOT_RUN_INK)
            else:
                draw_failed(background, layout, row, col, f"failed: {tile.error or 'no output'}")
    length = max((len(t.frames) for t in tiles.values() if t.frames is not None), default=1)
    resized = {pos: _resize_frames(t.frames, layout) for pos, t in tiles.items() if t.frames is not None}
    frames = []
    for index in range(0, length, max(1, frame_step)):
        canvas = background.copy()
        for (row, col), clip in resized.items():
            canvas.paste(clip[min(index, len(clip) - 1)], layout.tile_origin(row, col))
        frames.append(np.asarray(canvas))
    return np.stack(frames)


def _resize_frames(frames: np.ndarray, layout: GridLayout) -> list[Image.Image]:
    return [_fit(Image.fromarray(frame), layout.tile_w, layout.tile_h) for frame in frames]


def _fit(image: Image.Image, width: int, height: int) -> Image.Image:
    if image.size == (width, height):
        return image
    scale = min(width / image.width, height / image.height)
    resized = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))), Image.BILINEAR)
    tile = Image.new("RGB", (width, height), BACKGROUND)
    tile.paste(resized, ((width - resized.width) // 2, (height - resized.height) // 2))
    return tile


def contact_sheet(tiles: dict, rows: list[str], cols: list[str], legend: str = "", frames_per_cell: int = 4,
                  scale: float = 1.0) -> Image.Image:
    """A still: one row per cell (labelled with its column and row values), frames_per_cell evenly spaced
    frames across. One row per cell keeps a one-row sweep legible: side by side, its frames made a thin strip."""
    length = max((len(t.frames) for t in tiles.values() if t.frames is not None), default=1)
    picks = frame_picks(length, frames_per_cell)
    labels, sheet_tiles = [], {}
    for (row, col), tile in sorted(tiles.items()):
        index = len(labels)
        labels.append(" · ".join(text for text in (cols[col], rows[row]) if text))
        if tile.frames is None:
            sheet_tiles[(index, 0)] = tile
            continue
        count = len(tile.frames)
        for column, pick in enumerate(frame_picks(count, frames_per_cell)):
            sheet_tiles[(index, column)] = Tile(frames=tile.frames[pick][None])
    headers = [f"frame {pick}" for pick in picks]
    return Image.fromarray(compose_frames(sheet_tiles, labels, headers, legend, scale)[0])


def frame_picks(count: int, wanted: int) -> list[int]:
    """Up to `wanted` evenly spaced frame indices from 0 to count - 1, first and last included."""
    return sorted({round(i * (count - 1) / max(1, wanted - 1)) for i in range(min(wanted, count))})


def gif_durations(count: int, fps: float) -> list[int]:
    """Per-frame durations in ms that keep the clip's real speed.

    GIF stores centiseconds, so 16 fps (62.5 ms) cannot be one value: a flat 60 ms would play at 16.7 fps.
    Rounding each frame's start time to 10 ms instead gives 60, 60, 70, 60, ... which averages exactly 62.5.
    """
    starts = [int(round(i * 100 / fps)) * 10 for i in range(count + 1)]
    return [max(20, b - a) for a, b in zip(starts, starts[1:])]


def save_gif(frames: np.ndarray, path: str | Path, fps: float) -> int:
    """Write an endlessly looping GIF at the clip's real speed; returns its size in bytes."""
    path = Path(path)
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=gif_durations(len(images), fps), loop=0,
                   optimize=False, disposal=1)
    return path.stat().st_size
