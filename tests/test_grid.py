import numpy as np
from PIL import Image

from services import grid


def solid_clip(colour, frames=5, height=32, width=48):
    return np.tile(np.array(colour, np.uint8), (frames, height, width, 1))


def tiles_2x3():
    colours = {(r, c): (40 * c + 10, 80 * r + 10, 200) for r in range(2) for c in range(3)}
    tiles = {pos: grid.Tile(frames=solid_clip(col)) for pos, col in colours.items()}
    return tiles, colours


def test_layout_puts_each_tile_under_its_header_and_beside_its_row_label():
    tiles, colours = tiles_2x3()
    rows, cols = ["Pretrained", "LoRA"], ["CFG 3", "CFG 5", "CFG 7.5"]
    frames = grid.compose_frames(tiles, rows, cols, legend="seed 1, 50 steps")
    layout = grid.plan_layout(tiles, rows, cols, "seed 1, 50 steps")
    assert frames.shape == (5, layout.height, layout.width, 3)
    assert (layout.tile_h, layout.tile_w) == (32, 48)
    for (row, col), colour in colours.items():
        x, y = layout.tile_origin(row, col)
        assert tuple(frames[0, y + 16, x + 24]) == colour
    # Headers sit above the first row, row labels left of the first column, legend below the last row.
    first_x, first_y = layout.tile_origin(0, 0)
    assert frames[0, : first_y - grid.GAP, first_x:].min() < 128  # some header ink
    assert frames[0, first_y:, : first_x - grid.GAP].min() < 128  # some row-label ink
    assert layout.legend_h > 0 and frames[0, -layout.legend_h:].min() < 200
    assert layout.width % 2 == 0 and layout.height % 2 == 0


def test_cells_play_in_step_and_short_cells_hold_their_last_frame():
    ramp = np.stack([np.full((32, 48, 3), 20 * i, np.uint8) for i in range(9)])
    short = ramp[:4]
    tiles = {(0, 0): grid.Tile(frames=ramp), (0, 1): grid.Tile(frames=short)}
    frames = grid.compose_frames(tiles, [""], ["a", "b"])
    layout = grid.plan_layout(tiles, [""], ["a", "b"])
    (x0, y0), (x1, y1) = layout.tile_origin(0, 0), layout.tile_origin(0, 1)
    assert len(frames) == 9
    assert [int(frames[i, y0 + 5, x0 + 5, 0]) for i in range(9)] == [20 * i for i in range(9)]
    assert [int(frames[i, y1 + 5, x1 + 5, 0]) for i in range(9)] == [0, 20, 40, 60, 60, 60, 60, 60, 60]
    assert len(grid.compose_frames(tiles, [""], ["a", "b"], frame_step=2)) == 5


def test_failed_cell_is_a_marked_grey_tile():
    tiles, _ = tiles_2x3()
    tiles[(1, 2)] = grid.Tile(error="out of GPU memory")
    frames = grid.compose_frames(tiles, ["r0", "r1"], ["a", "b", "c"])
    layout = grid.plan_layout(tiles, ["r0", "r1"], ["a", "b", "c"])
    x, y = layout.tile_origin(1, 2)
    tile = frames[0, y: y + layout.tile_h, x: x + layout.tile_w]
    assert tuple(tile[layout.tile_h - 10, layout.tile_w // 2]) == grid.FAILED_FILL
    assert (tile == grid.FAILED_INK).all(axis=-1).any()  # red border / text


def test_scale_shrinks_tiles():
    tiles, _ = tiles_2x3()
    layout = grid.plan_layout(tiles, ["a", "b"], ["1", "2", "3"], scale=0.5)
    assert (layout.tile_h, layout.tile_w) == (16, 24)


def test_contact_sheet_gives_each_cell_a_row_of_k_frames():
    ramp = np.stack([np.full((32, 48, 3), 20 * i, np.uint8) for i in range(9)])
    tiles = {(0, c): grid.Tile(frames=ramp) for c in range(3)}
    sheet = np.asarray(grid.contact_sheet(tiles, [""], ["a", "b", "c"], frames_per_cell=3))
    labels = ["a", "b", "c"]
    one_frame = {(r, c): grid.Tile(frames=ramp[:1]) for r in range(3) for c in range(3)}
    layout = grid.plan_layout(one_frame, labels, ["frame 0", "frame 4", "frame 8"])
    assert sheet.shape[:2] == (layout.height, layout.width)  # three rows, not one strip of nine
    for row in range(3):
        values = [int(sheet[layout.tile_origin(row, k)[1] + 5, layout.tile_origin(row, k)[0] + 5, 0]) for k in range(3)]
        assert values == [0, 80, 160]  # frames 0, 4, 8


def test_gif_has_every_frame_and_loops(tmp_path):
    ramp = np.stack([np.full((32, 48, 3), 40 * i, np.uint8) for i in range(5)])
    tiles = {(r, c): grid.Tile(frames=ramp) for r in range(2) for c in range(3)}
    frames = grid.compose_frames(tiles, ["a", "b"], ["1", "2", "3"])
    size = grid.save_gif(frames, tmp_path / "grid.gif", fps=16)
    with Image.open(tmp_path / "grid.gif") as gif:
        assert gif.n_frames == 5 and gif.info["loop"] == 0
    assert size == (tmp_path / "grid.gif").stat().st_size > 0


def test_gif_durations_keep_16_fps_exactly_despite_centiseconds():
    durations = grid.gif_durations(16, fps=16)
    assert sum(durations) == 1000 and set(durations) == {60, 70}
    assert sum(grid.gif_durations(81, fps=16)) == 5060  # 81 frames at 16 fps: 5.0625 s, to the nearest 10 ms
    assert grid.gif_durations(3, fps=10) == [100, 100, 100]


def test_a_cell_a_stopped_sweep_never_reached_is_grey_not_a_red_failure():
    from services.grid import FAILED_INK, NOT_RUN_INK, Tile, compose_frames

    frames = compose_frames({(0, 0): Tile(not_run=True), (0, 1): Tile(error="boom")}, ["r"], ["a", "b"])
    pixels = {tuple(p) for p in frames[0].reshape(-1, 3)}
    assert NOT_RUN_INK in pixels and FAILED_INK in pixels
    left_half = frames[0][:, : frames.shape[2] // 2].reshape(-1, 3)
    assert not any(tuple(p) == FAILED_INK for p in left_half)
