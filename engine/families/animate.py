"""The Animate family: Wan2.2-Animate through diffusers' WanAnimatePipeline, beside VACE in the same engine.

Animate reads other inputs than VACE: the reference image (its CLIP features and its latent go in as the
video's first frame), a pose video drawn in its own skeleton style, and face crops of the driving clip for
expression (blank when none is given: the model's own unconditional face). It makes a long video itself, in
segments that each carry over the last frames of the one before, so the lab's window fields mean exactly that
here: `window_frames` a segment (77 for the 14B), `window_overlap` the frames carried over (1 or 5). Fields
it has no use for (VACE's control strength, the lab's window blending, guidance stop, explicit sigmas, the
step cache) are refused in one line, never ignored.

    family = family_named("wan-animate")
"""

from __future__ import annotations

from engine.families.base import ModelFamily

ANIMATE_PROMPT = "A person dances, following the pose exactly; the character of the reference image, consistent."

# Request fields Animate has no use for, with the value that means "not used" and why.
_NOT_TAKEN = {
    "conditioning_scale": (1.0, "control strength is VACE's; Animate reads the pose through its own patch embedding"),
    "guidance_stop": (0.0, "guidance stop is the lab's VACE pipeline's"),
    "sigmas": (None, "explicit sigmas are the lab's VACE pipeline's; use the sampler's own schedule"),
    "step_cache": (None, "the step cache is VACE-aware only"),
    "window_noise": (0.0, "Animate carries frames over as they are: overlap noise is VACE windows'"),
    "window_color_match": (0.0, "colour matching is VACE windows'"),
    "window_discard": (0, "discarded frames are VACE windows'"),
    "window_crossfade": (0, "crossfade is VACE windows'"),
    "window_context": ("control", "window context is VACE windows'"),
}


class AnimateFamily(ModelFamily):
    name = "wan-animate"
    takes_face_video = True
    takes_replace_inputs = True
    segments_itself = True

    def pipeline_class(self):
        from engine.families.animate_pipeline import LabAnimatePipeline

        return LabAnimatePipeline

    def pipeline_inputs(self, request, conditions, mask=None, segment=None) -> dict:
        from PIL import Image

        replace = conditions.background_frames is not None
        return dict(
            image=conditions.reference,
            pose_video=[Image.fromarray(frame) for frame in conditions.control_frames],
            face_video=face_images(conditions),
            # replace: the character drawn into the driving clip's own scene where the mask is white
            mode="replace" if replace else "animate",
            background_video=[Image.fromarray(f) for f in conditions.background_frames] if replace else None,
            mask_video=[Image.fromarray(f) for f in conditions.mask_frames] if replace else None,
            segment_frame_length=segment or request.num_frames,
            prev_segment_conditioning_frames=request.window_overlap,
        )

    def refusals(self, request) -> list[str]:
        lines = super().refusals(request)
        if request.reference is None:
            lines.append("Animate models animate a reference image: give one")
        for name, (unused, why) in _NOT_TAKEN.items():
            value = getattr(request, name)
            if not (value is None or value == unused or (unused is None and not value)):  # 0 is off too
                lines.append(f"{name} is not taken by Animate models ({why}): leave it at {unused if unused is not None else 'empty'}")
        return lines

    def input_notes(self, request, conditions) -> list[str]:
        notes = []
        if conditions.background_frames is not None:
            notes.append("Replace mode: the character is drawn into the background video where the mask is white.")
        if conditions.face_frames is None:
            return notes + ["No face video: Animate gets a blank face, as its unconditional pass does, so expression is "
                    "its own guess (`python -m experiments pose CLIP --for animate` makes face crops)."]
        side = conditions.face_frames.shape[1]
        return notes + [f"Face video: {len(conditions.face_frames)} crops of {side}x{side}; the model resizes them to its "
                "face encoder's size."]

    def sample_inputs(self) -> dict:
        from engine.paths import ASSETS_DIR

        return {"control_video": str(ASSETS_DIR / "pose.mp4"), "reference": str(ASSETS_DIR / "reference.png"),
                "prompt": ANIMATE_PROMPT}

    def banner(self, spec, device: str) -> str:
        return (f"Engine: **{spec.name}** ({spec.source}) on {device.upper()}. Wan2.2-Animate: the reference "
                "image moves as the pose video does, with the face video's expression.")


def face_images(conditions) -> list:
    """The face crops as PIL images, or black ones (pixels of -1 once normalised, the pipeline's blank face)."""
    from PIL import Image

    if conditions.face_frames is not None:
        return [Image.fromarray(frame) for frame in conditions.face_frames]
    return [Image.new("RGB", (64, 64))] * len(conditions.control_frames)


FAMILY = AnimateFamily()
