"""World clips as a dataset on disk, and the narrow dataset the blog in a box trains its LoRAs on."""

from dataclasses import replace

from engine.toy import world
from engine.toy.dataset import NARROW_LOOK, RECORD_NAME, ensure_dataset, write_dataset
from engine.train.metadata_csv import read_metadata_csv, write_metadata_csv


def test_the_dataset_captions_each_clip_with_its_world_prompt(tmp_path):
    rows = read_metadata_csv(write_dataset(tmp_path, 2, num_frames=5))
    assert len(rows) == 2
    for row in rows:
        seed = int(row.video.split("/")[0].removeprefix("clip-"))
        assert row.prompt == world.make_sample(seed, num_frames=5).prompt


def test_the_narrow_dataset_captions_the_dancer_and_leaves_the_studio_unnamed(tmp_path):
    # The blog's captions described the dancer; the studio they left out is what its LoRA learned as a default.
    rows = read_metadata_csv(write_dataset(tmp_path, 3, num_frames=5, narrow=True))
    for row in rows:
        assert f"a {NARROW_LOOK.top} top and {NARROW_LOOK.bottom_colour} {NARROW_LOOK.bottom}" in row.prompt
        assert "background" not in row.prompt and NARROW_LOOK.background not in row.prompt.split()
        assert any(verb in row.prompt for verb in world.VERBS.values())


def test_a_current_dataset_is_kept_and_one_from_an_older_lab_is_written_again(tmp_path):
    csv = ensure_dataset(tmp_path, 2, num_frames=5, narrow=True)
    written = csv.stat().st_mtime_ns
    assert ensure_dataset(tmp_path, 2, num_frames=5, narrow=True).stat().st_mtime_ns == written
    # As an older lab left it: captions naming the studio, and no record of what made them.
    write_metadata_csv([replace(row, prompt=f"{row.prompt} on a grey background") for row in read_metadata_csv(csv)],
                       csv)
    (tmp_path / RECORD_NAME).unlink()
    rows = read_metadata_csv(ensure_dataset(tmp_path, 2, num_frames=5, narrow=True))
    assert all("background" not in row.prompt for row in rows)
    assert len(read_metadata_csv(ensure_dataset(tmp_path, 3, num_frames=5, narrow=True))) == 3  # other settings
