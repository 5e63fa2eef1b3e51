import numpy as np
import pytest
from PIL import Image

from engine import media
from tests.helpers import numbered_frames, write_video

RED, BLUE = (255, 0, 0), (0, 0, 255)


def tall_person(width=100, height=200) -> Image.Image:
    """A portrait image whose top row is 'head' (red) and bottom row is 'feet' (blue)."""
    image = Image.new("RGB", (width, height), (90, 90, 90))
    image.paste(RED, (0, 0, width, 10))
    image.paste(BLUE, (0, height - 10, width, height))
    return image


def test_letterbox_keeps_head_and_feet_and_pads_with_white():
    canvas, box = media.letterbox(tall_person(), 480, 832)
    pixels = np.asarray(canvas)
    assert canvas.size == (832, 480)
    assert (box.width, box.height) == (240, 480)  # aspect ratio 1:2 kept
    assert box.left == (832 - 240) // 2 and box.top == 0
    centre = box.left + box.width // 2
    assert tuple(pixels[2, centre]) == RED  # the head is still there
    assert tuple(pixels[477, centre]) == BLUE  # and so are the feet
    assert (pixels[:, : box.left] == 255).all() and (pixels[:, box.left + box.width:] == 255).all()


def test_centre_crop_would_have_cut_the_head_off():
    # The blog's bug, shown: a centre crop of the same picture to 832:480 loses head and feet.
    pixels = np.asarray(media.centre_crop(tall_person(), 480, 832))
    assert not (pixels == RED).all(axis=-1).any()
    assert not (pixels == BLUE).all(axis=-1).any()


def test_load_image_applies_exif_rotation(tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees: portrait
    Image.new("RGB", (40, 20), (200, 10, 10)).save(path, exif=exif)
    assert media.load_image(path).size == (20, 40)


def test_load_image_puts_transparency_on_white_and_greyscale_to_rgb(tmp_path):
    rgba = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    rgba.save(tmp_path / "alpha.png")
    image = media.load_image(tmp_path / "alpha.png")
    assert image.mode == "RGB" and np.asarray(image).min() == 255
    Image.new("L", (8, 8), 77).save(tmp_path / "grey.png")
    grey = media.load_image(tmp_path / "grey.png")
    assert grey.mode == "RGB" and tuple(np.asarray(grey)[0, 0]) == (77, 77, 77)


def test_bad_images_get_one_line_reasons(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="broken.png: cannot read the image"):
        media.load_image(tmp_path / "broken.png")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="not an image file"):
        media.load_image(tmp_path / "notes.txt")


@pytest.mark.parametrize("suffix, codec", [(".mp4", "libx264"), (".mov", "libx264"), (".avi", "mpeg4"),
                                           (".webm", "libvpx")])
def test_read_video_formats_keep_frame_count_and_fps(tmp_path, suffix, codec):
    path = write_video(tmp_path / f"clip{suffix}", numbered_frames(17), fps=24, codec=codec)
    clip = media.read_video(path)
    assert len(clip.frames) == 17
    assert clip.fps == pytest.approx(24, abs=0.01)
    assert clip.frames.dtype == np.uint8 and clip.frames.shape[1:] == (64, 96, 3)


def test_read_gif_uses_its_frame_durations(tmp_path):
    frames = [Image.fromarray(f) for f in numbered_frames(6)]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    clip = media.read_video(tmp_path / "clip.gif")
    assert len(clip.frames) == 6 and clip.fps == pytest.approx(10.0)  # GIF stores centiseconds


def test_bad_videos_get_one_line_reasons(tmp_path):
    (tmp_path / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4)
    with pytest.raises(ValueError, match="corrupt.mp4: cannot"):
        media.read_video(tmp_path / "corrupt.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match="empty.mp4"):
        media.read_video(tmp_path / "empty.mp4")
    with pytest.raises(ValueError, match="not a video file"):
        media.read_video(tmp_path / "still.png")


def test_a_real_zero_frame_mp4_is_refused(tmp_path):
    import subprocess

    import imageio_ffmpeg

    path = tmp_path / "zero.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=black:s=64x64:r=16", "-frames:v", "0", "-c:v", "libx264", str(path)], check=True)
    with pytest.raises(ValueError, match="zero.mp4: cannot open the video, no readable video stream"):
        media.read_video(path)


def test_a_header_only_gif_is_refused_in_one_line(tmp_path):
    (tmp_path / "none.gif").write_bytes(b"GIF89a")
    with pytest.raises(ValueError, match="none.gif: cannot read the GIF"):
        media.read_video(tmp_path / "none.gif")


@pytest.mark.parametrize("reader", [media.read_video, media.read_first_frame,
                                    lambda path: media.read_video_window(path, 0, 16, 5)])
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_every_reader_enforces_the_source_size_limit(tmp_path, monkeypatch, reader, suffix):
    path = tmp_path / f"clip{suffix}"
    frames = np.zeros((5, 64, 96, 3), np.uint8)
    if suffix == ".gif":
        Image.fromarray(frames[0]).save(path, save_all=True, append_images=[Image.fromarray(f) for f in frames[1:]])
    else:
        media.write_mp4(frames, path, 16)
    monkeypatch.setattr(media, "MAX_SOURCE_PIXELS", 64 * 64)  # the limit, lowered to this clip's size
    with pytest.raises(ValueError, match="96x64 is larger than this lab reads"):
        reader(path)


def test_every_reader_enforces_the_frame_limit(tmp_path, monkeypatch):
    path = tmp_path / "long.mp4"
    media.write_mp4(np.zeros((9, 32, 32, 3), np.uint8), path, 16)
    monkeypatch.setattr(media, "MAX_VIDEO_FRAMES", 8)
    with pytest.raises(ValueError, match="long.mp4: more than 8 frames"):
        media.read_video(path)


@pytest.mark.parametrize("source_fps, target_fps, count, expected", [
    (16, 16, 5, [0, 1, 2, 3, 4]),
    (32, 16, 5, [0, 2, 4, 6, 8]),
    (30, 16, 5, [0, 1, 3, 5, 7]),          # by timestamp: frame i at i/16 s
    (59.94, 16, 3, [0, 3, 7]),
])
def test_resample_indices_by_timestamp(source_fps, target_fps, count, expected):
    indices, padded = media.resample_indices(1000, source_fps, target_fps, count)
    assert indices == expected and padded == 0


def test_resample_pads_by_holding_the_last_frame():
    indices, padded = media.resample_indices(3, 16, 16, 5)
    assert indices == [0, 1, 2, 2, 2] and padded == 2


def test_fit_frame_modes():
    frame = np.full((100, 200, 3), 200, np.uint8)  # 2:1 into a square
    padded = media.fit_frame(frame, 64, 64, "pad")
    assert padded.shape == (64, 64, 3) and padded[0, 32].max() == 0 and padded[32, 32].min() == 200
    cropped = media.fit_frame(frame, 64, 64, "crop")
    assert cropped.shape == (64, 64, 3) and cropped.min() == 200
    stretched = media.fit_frame(frame, 64, 64, "stretch")
    assert stretched.shape == (64, 64, 3) and stretched.min() == 200


def test_write_mp4_has_exact_fps_and_frame_count(tmp_path):
    frames = np.stack(numbered_frames(17, 64, 112))
    path = media.write_mp4(frames, tmp_path / "out.mp4", fps=16)
    clip = media.read_video(path)
    assert len(clip.frames) == 17 and clip.fps == 16.0


def test_read_first_frame_matches_the_full_decode(tmp_path):
    path = write_video(tmp_path / "clip.mp4", numbered_frames(9), fps=16)
    np.testing.assert_array_equal(media.read_first_frame(path), media.read_video(path).frames[0])
    frames = [Image.fromarray(f) for f in numbered_frames(3)]
    frames[0].save(tmp_path / "clip.gif", save_all=True, append_images=frames[1:], duration=100)
    assert media.read_first_frame(tmp_path / "clip.gif").shape == (64, 96, 3)
    (tmp_path / "broken.mp4").write_bytes(b"nope")
    with pytest.raises(ValueError, match="broken.mp4: cannot open the video"):
        media.read_first_frame(tmp_path / "broken.mp4")


@pytest.mark.parametrize("suffix,codec", [(".mp4", "libx264"), (".mov", "libx264"), (".webm", "libvpx"),
                                          (".avi", "mjpeg"), (".gif", None)])
def test_read_video_window_picks_frames_by_timestamp_from_a_start(tmp_path, suffix, codec):
    frames = numbered_frames(32)  # brightness 8 * index
    path = tmp_path / f"clip{suffix}"
    if codec:
        write_video(path, frames, fps=32, codec=codec)
    else:
        from PIL import Image

        images = [Image.fromarray(frame) for frame in frames]
        images[0].save(path, save_all=True, append_images=images[1:], duration=1000 // 32 + 1, loop=0)
    window = media.read_video_window(path, start=0.25, fps=16, count=5)
    assert len(window.frames) == 5 and window.padded == 0
    indices = [round(float(frame.mean()) / 8) for frame in window.frames]
    if suffix != ".gif":  # GIF stores centiseconds, so its frame rate is only approximately 32
        assert indices == [8, 10, 12, 14, 16]
    assert indices == sorted(indices) and indices[0] >= 7


def test_read_video_window_holds_the_last_frame_and_counts_it(tmp_path):
    path = write_video(tmp_path / "short.mp4", numbered_frames(8), fps=16)
    window = media.read_video_window(path, start=0, fps=16, count=13)
    assert len(window.frames) == 13 and window.padded == 5
    assert np.array_equal(window.frames[-1], window.frames[7])


def test_read_video_window_prepares_each_frame_and_refuses_a_late_start(tmp_path):
    path = write_video(tmp_path / "clip.mp4", numbered_frames(16, height=64, width=96), fps=16)
    window = media.read_video_window(path, 0, 16, 5, prepare=lambda f: media.fit_frame(f, 32, 32, "crop"))
    assert window.frames[0].shape == (32, 32, 3) and window.source_size == (64, 96)
    with pytest.raises(ValueError, match="past the end"):
        media.read_video_window(path, start=5.0, fps=16, count=5)


@pytest.mark.parametrize("mode", ["pad", "crop", "stretch"])
def test_fit_geometry_says_where_fit_frame_puts_a_pixel(mode):
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[30:33, 100:103] = 255  # a bright dot centred on (101, 31)
    fitted = media.fit_frame(frame, 96, 96, mode)
    scale, offset = media.fit_geometry(90, 160, 96, 96, mode)
    x, y = np.array([101.5, 31.5]) * scale + offset
    ys, xs = np.nonzero(fitted.max(axis=2) > 100)
    assert abs(xs.mean() + 0.5 - x) < 1.5 and abs(ys.mean() + 0.5 - y) < 1.5
