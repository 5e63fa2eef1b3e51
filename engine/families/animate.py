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

from engine.families.base import VACE_ONLY_FIELDS, ModelFamily

ANIMATE_PROMPT = "A person dances, following the pose exactly; the character of the reference image, consistent."


class AnimateFamily(ModelFamily):
    name = "wan-animate"
    takes_face_video = True
    takes_replace_inputs = True
    segments_itself = True
    label = "Animate models"
    needs_reference = True
    not_taken = {**VACE_ONLY_FIELDS, "conditioning_scale": (
        1.0, "control strength is VACE's; Animate reads the pose through its own patch embedding")}

    def pipeline_class(self):
        from engine.families.animate_pipeline import LabAnimatePipeline

        return LabAnimatePipeline

    def published_transformer(self, spec, device: str = "meta"):
        """diffusers' class defaults are the published 14B config, with the original's use_img_emb: the
        reference's CLIP features get their own key/value projections in every cross-attention."""
        if self.small:
            return None
        import torch
        from diffusers import WanAnimateTransformer3DModel

        with torch.device(device):
            return WanAnimateTransformer3DModel(added_kv_proj_dim=5120)

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

    def input_notes(self, request, conditions) -> list[str]:
        notes = []
        if conditions.background_frames is not None:
            notes.append("Replace mode: the character is drawn into the background video where the mask is white.")
        if conditions.face_frames is None:
            notes.append("No face video: Animate gets a blank face, as its unconditional pass does, so expression is "
                         "its own guess (`python -m experiments pose CLIP --for animate` makes face crops).")
        else:
            side = conditions.face_frames.shape[1]
            notes.append(f"Face video: {len(conditions.face_frames)} crops of {side}x{side}; the model resizes them "
                         "to its face encoder's size.")
        return notes

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
