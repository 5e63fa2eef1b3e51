import csv

from engine.prompts.captioning import Captioner, Rewriter
from engine.train.metadata_csv import read_metadata_csv
from engine.prompts.variants import ReferenceDescription
from experiments.prompt_batch import BatchOptions, build_batch
from tests.helpers import numbered_frames, write_video


def clip_folder(tmp_path):
    write_video(tmp_path / "gBR_sBM_c01_d04_mBR0_ch01.mp4", numbered_frames(5), fps=16)
    write_video(tmp_path / "gHO_sGR_c03_d19_d20_d21_mHO1_ch07.mp4", numbered_frames(5), fps=16)
    write_video(tmp_path / "my_own_clip.mp4", numbered_frames(5), fps=16)
    (tmp_path / "pose").mkdir()
    write_video(tmp_path / "pose" / "my_own_clip.mp4", numbered_frames(5), fps=16)
    write_video(tmp_path / "gBR_sBM_c01_d04_mBR0_ch01_pose.mp4", numbered_frames(5), fps=16)
    (tmp_path / "broken.mp4").write_bytes(b"not a video")
    return tmp_path


def test_batch_writes_both_layouts_with_metadata_prompts(tmp_path):
    folder = clip_folder(tmp_path)
    description = ReferenceDescription.from_preset("lab-sample")
    ours, theirs, rows = build_batch(folder, BatchOptions(template="Movement-Focused", description=description))
    assert [r.video for r in rows] == ["gBR_sBM_c01_d04_mBR0_ch01.mp4", "gHO_sGR_c03_d19_d20_d21_mHO1_ch07.mp4",
                                       "my_own_clip.mp4"]  # broken.mp4 skipped, the rest kept
    by_video = {r.video: r for r in read_metadata_csv(ours)}
    assert by_video["gBR_sBM_c01_d04_mBR0_ch01.mp4"].pose_video == "gBR_sBM_c01_d04_mBR0_ch01_pose.mp4"
    assert by_video["my_own_clip.mp4"].pose_video == "pose/my_own_clip.mp4"
    assert by_video["gHO_sGR_c03_d19_d20_d21_mHO1_ch07.mp4"].pose_video == ""
    assert "A dancer performing breakdance" in by_video["gBR_sBM_c01_d04_mBR0_ch01.mp4"].prompt
    assert "a group of three dancers performing house dance" in by_video["gHO_sGR_c03_d19_d20_d21_mHO1_ch07.mp4"].prompt.lower()
    assert "black long-sleeved t-shirt" in by_video["my_own_clip.mp4"].prompt
    for row in rows:  # the first frame became the reference
        assert (folder / row.reference_image).is_file()
    with open(theirs, newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["video", "vace_video", "vace_reference_image", "prompt"]


def test_batch_with_tiny_captioner_and_rewriter(tmp_path, tiny_captioner_dir, tiny_rewriter_dir):
    folder = clip_folder(tmp_path)
    options = BatchOptions(captioner=Captioner(str(tiny_captioner_dir), max_new_tokens=6, min_new_tokens=3),
                           rewriter=Rewriter(str(tiny_rewriter_dir), max_new_tokens=20, min_new_tokens=5))
    _, _, rows = build_batch(folder, options)
    assert len(rows) == 3 and all(row.prompt for row in rows)
    assert all(len(row.prompt.split(" ")) <= 120 for row in rows)


def test_batch_errors_name_the_problem(tmp_path):
    import pytest

    with pytest.raises(ValueError, match="no video clips"):
        build_batch(tmp_path, BatchOptions())
    with pytest.raises(ValueError, match="not a folder"):
        build_batch(tmp_path / "nope", BatchOptions())
    write_video(tmp_path / "a.mp4", numbered_frames(3), fps=16)
    with pytest.raises(ValueError, match="unknown template 'Fancy'"):
        build_batch(tmp_path, BatchOptions(template="Fancy"))
