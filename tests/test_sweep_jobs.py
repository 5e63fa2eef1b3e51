"""services/sweep_jobs.py: what the Sweep tab shows while a sweep runs."""

import numpy as np
from PIL import Image

from engine import media
from services.sweep_jobs import cell_still


def test_a_finished_cell_shows_as_a_still_of_its_middle_frame(tmp_path):
    frames = np.zeros((9, 32, 48, 3), dtype=np.uint8)
    frames[4] = 200  # the middle frame is the bright one
    video = media.write_mp4(frames, tmp_path / "video.mp4", 8)
    still = cell_still(video)
    assert still.endswith("still.jpg")
    assert np.asarray(Image.open(still)).mean() > 150
    assert cell_still(video) == still  # made once


def test_a_cell_whose_video_cannot_be_read_shows_the_video_itself(tmp_path):
    broken = tmp_path / "video.mp4"
    broken.write_bytes(b"not a video")
    assert cell_still(broken) == str(broken)
