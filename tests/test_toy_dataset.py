"""World clips as a dataset on disk, and the narrow dataset the blog in a box trains its LoRAs on."""

from engine.toy import world
from engine.toy.dataset import NARROW_LOOK, write_dataset
from engine.train.metadata_csv import read_metadata_csv


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
