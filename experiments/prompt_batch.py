"""Batch prompts for a folder of clips: write metadata.csv for our trainer and DiffSynth-Studio's.

For each clip: the reference is the first frame (written to reference/<clip>.png unless one exists),
the pose video is pose/<clip>.mp4 or <clip>_pose.mp4 when present, and the prompt comes from, in order
of what is available: caption of the first frame (Florence-2) + AIST metadata -> rewriter (Qwen), or the
chosen template filled from the description, the caption and the metadata.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from engine import media
from engine.pose.aist import try_parse_aist_name
from engine.train.metadata_csv import ClipRow, write_diffsynth_csv, write_metadata_csv
from engine.prompts.variants import ReferenceDescription, load_templates, template_values

logger = logging.getLogger(__name__)

POSE_SUFFIX = "_pose"


@dataclass
class BatchOptions:
    """How batch prompts are made."""

    template: str = "Caption + Metadata"
    """Template filled per clip when no rewriter is used."""
    description: ReferenceDescription | None = None
    """Attributes shared by every clip (e.g. the dancer's clothes), optional."""
    captioner: object | None = None
    """A Captioner, or None to skip captions."""
    rewriter: object | None = None
    """A Rewriter, or None to fill the template instead."""


def find_clips(folder: Path) -> list[Path]:
    """Videos directly in the folder, not pose videos."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in media.VIDEO_SUFFIXES and not p.stem.endswith(POSE_SUFFIX))


def pose_video_for(clip: Path) -> str:
    for candidate in (clip.parent / "pose" / f"{clip.stem}.mp4", clip.with_name(f"{clip.stem}{POSE_SUFFIX}.mp4")):
        if candidate.is_file():
            return str(candidate.relative_to(clip.parent))
    return ""


def reference_for(clip: Path) -> tuple[str, Image.Image]:
    """The clip's reference image (existing, or its first frame written out) and the picture itself."""
    target = clip.parent / "reference" / f"{clip.stem}.png"
    if target.is_file():
        return str(target.relative_to(clip.parent)), media.load_image(target)
    first = Image.fromarray(media.read_first_frame(clip))
    target.parent.mkdir(exist_ok=True)
    first.save(target)
    return str(target.relative_to(clip.parent)), first


def prompt_for(clip: Path, first_frame: Image.Image, options: BatchOptions) -> str:
    aist = try_parse_aist_name(clip.name)
    metadata = aist.words() if aist else {}
    caption = options.captioner.caption(first_frame) if options.captioner else ""
    if options.rewriter:
        return options.rewriter.rewrite(caption, metadata)
    template = load_templates()[options.template]
    values = template_values(options.description or ReferenceDescription(), {**metadata, "caption": caption})
    return template.render(values)


def build_batch(folder: str | Path, options: BatchOptions, on_clip=None) -> tuple[Path, Path, list[ClipRow]]:
    """Write metadata.csv and metadata_diffsynth.csv into the folder; returns their paths and the rows."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"not a folder: {folder}")
    templates = load_templates()
    if not options.rewriter and options.template not in templates:
        raise ValueError(f"unknown template {options.template!r}; available: {', '.join(templates)}")
    clips = find_clips(folder)
    if not clips:
        raise ValueError(f"no video clips in {folder} (looked for {', '.join(sorted(media.VIDEO_SUFFIXES))})")
    rows, skipped = [], []
    for index, clip in enumerate(clips):
        try:
            reference, first_frame = reference_for(clip)
        except ValueError as err:  # one unreadable clip should not lose the others
            skipped.append(f"{clip.name}: {err}")
            continue
        rows.append(ClipRow(video=clip.name, pose_video=pose_video_for(clip), reference_image=reference,
                            prompt=prompt_for(clip, first_frame, options)))
        if on_clip:
            on_clip(index + 1, len(clips), clip.name)
    for reason in skipped:
        logger.warning("skipped %s", reason)
    if not rows:
        raise ValueError(f"none of the {len(clips)} clips could be read: {skipped[0]}")
    ours = write_metadata_csv(rows, folder / "metadata.csv")
    theirs = write_diffsynth_csv(rows, folder / "metadata_diffsynth.csv")
    return ours, theirs, rows
