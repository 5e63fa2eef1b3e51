import csv

import pytest

from engine.train.metadata_csv import ClipRow, read_metadata_csv, write_diffsynth_csv, write_metadata_csv


def test_round_trip_keeps_awkward_prompts(tmp_path):
    rows = [ClipRow(video="a.mp4", pose_video="pose/a.mp4", reference_image="reference/a.png",
                    prompt='A man, "quoted", with commas;\nand a new line — and ünïcode 舞蹈'),
            ClipRow(video="b.mp4", prompt="plain")]
    write_metadata_csv(rows, tmp_path / "metadata.csv")
    assert read_metadata_csv(tmp_path / "metadata.csv") == rows


def test_diffsynth_layout_uses_its_column_names(tmp_path):
    write_diffsynth_csv([ClipRow(video="a.mp4", pose_video="p.mp4", reference_image="r.png", prompt="x")],
                        tmp_path / "d.csv")
    with open(tmp_path / "d.csv", newline="") as handle:
        record = next(csv.DictReader(handle))
    assert record == {"video": "a.mp4", "vace_video": "p.mp4", "vace_reference_image": "r.png", "prompt": "x"}


def test_minimal_csv_and_bad_csvs(tmp_path):
    (tmp_path / "min.csv").write_text("video,prompt\nclip.mp4,a dancer\n")
    assert read_metadata_csv(tmp_path / "min.csv") == [ClipRow(video="clip.mp4", prompt="a dancer")]
    (tmp_path / "nocol.csv").write_text("file,text\nclip.mp4,a dancer\n")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['prompt', 'video'\]"):
        read_metadata_csv(tmp_path / "nocol.csv")
    (tmp_path / "empty_video.csv").write_text("video,prompt\n,a dancer\n")
    with pytest.raises(ValueError, match="line 2: empty video path"):
        read_metadata_csv(tmp_path / "empty_video.csv")
