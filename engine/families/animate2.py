"""The Animate-2 family: Wan-Animate-2 through diffusers' modular pipeline, beside VACE and Animate.

Animate-2 animates a reference image with the motion of a raw driving video: no pose step and no face crops. Each
segment first runs the driving clip through the transformer once, caching its keys and values in every layer,
then denoises the new video attending to that cache (in-context attention). So the control video here is the
driving clip itself. Its size fields mean an area: the video takes the reference's aspect ratio at about
height x width pixels, and the output is cropped back to the reference's frame. Like Animate it makes long videos
itself, in segments (`window_frames`, 81) that carry `window_overlap` frames over (1).

Its in-context attention runs through PyTorch's flex attention with a block mask. On a GPU diffusers compiles it;
uncompiled (on a CPU) flex attention builds the whole attention matrix, which the tiny random model can afford
and the 14B at video sizes cannot, so the 14B presets are refused without CUDA, in one line, before any download.

    family = family_named("wan-animate-2")
"""

from __future__ import annotations

from engine.families.animate import ANIMATE_PROMPT
from engine.families.base import VACE_ONLY_FIELDS, ModelFamily

class Animate2Family(ModelFamily):
    name = "wan-animate-2"
    segments_itself = True
    reads_driving_video = True
    label = "Animate-2 models"
    needs_reference = True
    not_taken = {
        **VACE_ONLY_FIELDS,
        "conditioning_scale": (1.0, "control strength is VACE's; Animate-2 reads the driving clip in context"),
        # Its denoising loop hands the scheduler a random generator, which only flow-match Euler's step takes.
        "sampler": ("euler", "its segment loop samples with flow-match Euler"),
    }
    distilled = False
    needs_cuda = True
    """Refused without CUDA: flex attention uncompiled builds the whole attention matrix."""

    def pipeline_class(self):
        from engine.families.animate2_pipeline import LabAnimate2DistilledPipeline, LabAnimate2Pipeline

        return LabAnimate2DistilledPipeline if self.distilled else LabAnimate2Pipeline

    def pipeline_inputs(self, request, conditions, mask=None, segment=None) -> dict:
        from PIL import Image

        return dict(
            image=conditions.reference,
            driving_video=[Image.fromarray(frame) for frame in conditions.control_frames],
            fps=request.fps,
            segment_frame_length=segment or request.num_frames,
            prev_segment_conditioning_frames=request.window_overlap,
        )

    def refusals(self, request) -> list[str]:
        lines = super().refusals(request)
        if self.distilled and request.guidance_scale != 1.0:
            lines.append("guidance_scale is 1 for the distilled Animate-2 (it was distilled to sample without "
                         "guidance): leave it at 1")
        return lines

    def published_transformer(self, spec, device: str = "meta"):
        """diffusers' class defaults are the published 14B config."""
        if self.small:
            return None
        import torch
        from diffusers import WanAnimate2Transformer3DModel

        with torch.device(device):
            return WanAnimate2Transformer3DModel()

    def check_device(self, spec, device: str):
        if self.needs_cuda and device != "cuda":
            raise RuntimeError(f"{spec.name} needs a CUDA GPU: Animate-2's in-context attention runs through flex "
                               "attention, which only a GPU compiles; on a CPU it would build the whole attention "
                               "matrix. --model tiny-animate-2 runs the same pipeline here.")

    def input_notes(self, request, conditions) -> list[str]:
        return ["Animate-2 reads the control video as the raw driving clip (no pose step): the motion, and the "
                "first frame's look for its reference pass. The size is an area: the video takes the reference's "
                "aspect ratio at about height x width pixels."]

    def sample_inputs(self) -> dict:
        from engine.paths import ASSETS_DIR

        return {"control_video": str(ASSETS_DIR / "person.mp4"), "reference": str(ASSETS_DIR / "reference.png"),
                "prompt": ANIMATE_PROMPT}

    def banner(self, spec, device: str) -> str:
        kind = "distilled, 10 steps without guidance" if self.distilled else "40 steps, guidance 3"
        return (f"Engine: **{spec.name}** ({spec.source}) on {device.upper()}. Wan-Animate-2 ({kind}): the "
                "reference image moves as the person in the driving video does; no pose step needed.")


class Animate2DistilledFamily(Animate2Family):
    name = "wan-animate-2-distilled"
    distilled = True


FAMILY = Animate2Family()
