"""World clips as a training dataset on disk (metadata.csv with video, prompt, pose_video, reference_image),
the same layout the Prompts tab's batch writes, so `python -m experiments train` and the Train tab read it.

`narrow=True` makes the blog's situation in a box: every clip in one costume on one background (AIST++ is
one studio, and the blog's dancer wore one outfit), so a LoRA trained on it learns that look, and a
reference in another costume drifts toward it as the LoRA's strength grows.
"""

from __future__ import annotations

from pathlib import Path

from engine.toy import world
from engine.toy.training import training_seeds
from engine.train.metadata_csv import ClipRow, write_metadata_csv

# The narrow dataset's one look: the blog's dancer wore black on a light studio floor.
NARROW_LOOK = world.Look(skin="tan", hair="black", top="black", bottom_colour="blue", bottom="trousers",
                         shoes="white", long_sleeves=False, background="grey", pattern="plain")


def write_dataset(out_dir: str | Path, clips: int, seed: int = 0, num_frames: int = world.NUM_FRAMES,
                  narrow: bool = False) -> Path:
    """Write `clips` world clips (training seeds only) and their metadata.csv; returns the csv's path."""
    out_dir = Path(out_dir)
    rows = []
    for seed_value in training_seeds(clips, seed):
        sample = world.make_sample(seed_value, num_frames=num_frames, look=NARROW_LOOK if narrow else None)
        folder = out_dir / f"clip-{seed_value:06d}"
        world.write_sample(sample, folder)
        rows.append(ClipRow(video=f"{folder.name}/video.mp4", prompt=sample.prompt,
                            pose_video=f"{folder.name}/pose.mp4", reference_image=f"{folder.name}/reference.png"))
    return write_metadata_csv(rows, out_dir / "metadata.csv")
