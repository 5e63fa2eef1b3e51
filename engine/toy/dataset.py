"""World clips as a training dataset on disk (metadata.csv with video, prompt, pose_video, reference_image),
the same layout the Prompts tab's batch writes, so `python -m experiments train` and the Train tab read it.

`narrow=True` makes the blog's situation in a box: every clip in one costume on one background (AIST++ is
one studio, and the blog's dancer wore one outfit), captioned as the blog's clips were: the dancer and the
dance, not the studio (world.dancer_prompt). A LoRA trained on it learns that studio as the default, and a
prompt that names another background drifts toward it as the LoRA's strength grows. With captions that named
the grey floor, the leg-4 toy already drew it from the words, so the LoRA had nothing to learn: studio drift
0.16 / 0.15 / 0.14 / 0.22 at strength 0 / 0.5 / 1 / 1.5, against 0.16 / 0.16 / 0.30 / 0.66 with these (both
at learning rate 1e-3; the README has the shipped LoRAs' numbers).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine.toy import world
from engine.toy.world import training_seeds
from engine.train.metadata_csv import ClipRow, write_metadata_csv

logger = logging.getLogger(__name__)

RECORD_NAME = "toy_dataset.json"
CAPTIONS_VERSION = 2  # 2: the narrow dataset's captions leave the studio out (world.dancer_prompt)

# The narrow dataset's one look: the blog's dancer wore black on a light studio floor.
NARROW_LOOK = world.Look(skin="tan", hair="black", top="black", bottom_colour="blue", bottom="trousers",
                         shoes="white", long_sleeves=False, background="grey", pattern="plain")


# How the narrow dataset is captioned: "dancer" names the clothes and the dance (the blog's captions), "action"
# the dance alone. Either leaves the studio out; "action" leaves the costume to the reference too.
NARROW_CAPTIONS = {"dancer": lambda sample: world.dancer_prompt(sample.look, sample.motion),
                   "action": lambda sample: world.action_prompt(sample.motion)}


def write_dataset(out_dir: str | Path, clips: int, seed: int = 0, num_frames: int = world.NUM_FRAMES,
                  narrow: bool = False, captions: str = "dancer") -> Path:
    """Write `clips` world clips (training seeds only), their metadata.csv and a record of what made them;
    returns the csv's path. A narrow dataset is captioned as NARROW_CAPTIONS[captions] says."""
    out_dir = Path(out_dir)
    rows = []
    for seed_value in training_seeds(clips, seed):
        sample = world.make_sample(seed_value, num_frames=num_frames, look=NARROW_LOOK if narrow else None)
        folder = out_dir / f"clip-{seed_value:06d}"
        world.write_sample(sample, folder)
        prompt = NARROW_CAPTIONS[captions](sample) if narrow else sample.prompt
        rows.append(ClipRow(video=f"{folder.name}/video.mp4", prompt=prompt,
                            pose_video=f"{folder.name}/pose.mp4", reference_image=f"{folder.name}/reference.png"))
    csv = write_metadata_csv(rows, out_dir / "metadata.csv")
    (out_dir / RECORD_NAME).write_text(json.dumps(dataset_record(clips, seed, num_frames, narrow, captions)))
    return csv


def dataset_record(clips: int, seed: int, num_frames: int, narrow: bool, captions: str = "dancer") -> dict:
    record = {"world_version": world.WORLD_VERSION, "captions_version": CAPTIONS_VERSION, "clips": clips,
              "seed": seed, "num_frames": num_frames, "narrow": narrow}
    if narrow and captions != "dancer":  # the record of a dancer-captioned folder stays as older labs wrote it
        record["captions"] = captions
    return record


def ensure_dataset(out_dir: str | Path, clips: int, seed: int = 0, num_frames: int = world.NUM_FRAMES,
                   narrow: bool = False, captions: str = "dancer") -> Path:
    """The dataset in out_dir, written unless this code already wrote it with these settings. A folder left by
    an older lab (other captions, another world) is written again: its LoRAs would run another experiment."""
    out_dir = Path(out_dir)
    csv, record = out_dir / "metadata.csv", out_dir / RECORD_NAME
    try:
        current = csv.is_file() and json.loads(record.read_text()) == dataset_record(clips, seed, num_frames, narrow,
                                                                                       captions)
    except (OSError, ValueError):
        current = False
    if current:
        return csv
    if csv.is_file():
        logger.info("writing %s again: it was made by an older lab or with other settings", out_dir)
    return write_dataset(out_dir, clips, seed=seed, num_frames=num_frames, narrow=narrow, captions=captions)
