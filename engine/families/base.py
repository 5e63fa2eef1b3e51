"""ModelFamily: what a kind of model adds to the generic engine. The defaults are Wan2.1-VACE's."""

from __future__ import annotations

from pathlib import Path

SAMPLE_PROMPT = (
    "A young man in a black t-shirt, dark jeans and beige sneakers dances smoothly, following the skeleton "
    "pose exactly, in a clean, minimalist indoor studio with soft lighting. Photorealistic, consistent character."
)

# Request fields only the lab's VACE pipeline and its windows use, with the value that means "not used" and why:
# a family whose pipeline has no such thing names them in its `not_taken`, and they are refused when set.
VACE_ONLY_FIELDS = {
    "guidance_stop": (0.0, "guidance stop is the lab's VACE pipeline's"),
    "sigmas": (None, "explicit sigmas are the lab's VACE pipeline's; use the sampler's own schedule"),
    "step_cache": (None, "the step cache is VACE-aware only"),
    "window_noise": (0.0, "this model carries frames over as they are: overlap noise is VACE windows'"),
    "window_color_match": (0.0, "colour matching is VACE windows'"),
    "window_discard": (0, "discarded frames are VACE windows'"),
    "window_crossfade": (0, "crossfade is VACE windows'"),
    "window_context": ("control", "window context is VACE windows'"),
}

# Input videos that only some families read: the field, the family flag that says it reads it, and the refusal
# for the others.
FAMILY_INPUTS = {
    "face_video": ("takes_face_video",
                   "a face video is for Animate models; VACE models read the face from the pose: leave it empty"),
    "background_video": ("takes_replace_inputs", "background and mask videos are for Animate's replace mode; this "
                         "model does not take them: leave them empty"),
    "mask_video": ("takes_replace_inputs", None),  # said once, with the background video
    "driving_video": ("reads_driving_video", "a driving video is for Animate-2 models; this model reads the control "
                      "(pose) video: leave it empty"),
}


class ModelFamily:
    """One family's hook. The engine asks it for what differs between kinds of model and branches on none."""

    name = "wan-vace"
    small = False
    """Built in this lab at a size a CPU runs (its tokenizer knows few words; benchmarks use small sizes)."""
    warm_up_on_start = False
    """Make one 1-step video as the app starts, so the first click does not pay a CPU's one-off set-up."""

    takes_face_video = False
    """Whether it reads face crops (request.face_video) beside the pose."""
    takes_replace_inputs = False
    """Whether it takes replace mode's background and mask videos (request.background_video, mask_video)."""
    reads_driving_video = False
    """Whether it reads a raw driving clip (request.driving_video) in place of the control video."""
    label = "VACE models"
    """How the refusals name the family's models."""
    needs_reference = False
    """Refuse a request without a reference image (the model animates one)."""
    not_taken: dict = {}
    """Request fields this family has no use for: {field: (the value that means unused, why)}; refused when set."""
    segments_itself = False
    """Its pipeline makes a video longer than one window in segments of its own, in one call (window_frames a
    segment, window_overlap the frames each carries over), so the engine runs no windows of its own."""

    def pipeline_class(self):
        """The diffusers pipeline class this family loads (the lab's subclass of it)."""
        from engine.pipeline import LabVACEPipeline

        return LabVACEPipeline

    def pipeline_inputs(self, request, conditions, mask=None, segment=None) -> dict:
        """The family's own arguments to its pipeline's call: the conditioning. The engine adds what every
        family shares (prompt embeddings, guidance, steps, size, seed, progress). `mask` marks a window's frames
        to make (1) and to keep (0) when a long video continues in the control; `segment` is the segment length
        of a family whose pipeline segments itself."""
        from PIL import Image

        return dict(
            video=[Image.fromarray(frame) for frame in conditions.control_frames],
            reference_images=[conditions.reference] if conditions.reference is not None else None,
            conditioning_scale=request.conditioning_scale,
            num_frames=request.num_frames,
            condition_key=conditions.key,
            sigmas=request.sigmas,
            guidance_stop=request.guidance_stop,
            mask=None if mask is None else [Image.new("RGB", (request.width, request.height),
                                                      (255,) * 3 if m else (0, 0, 0)) for m in mask],
        )

    def refusals(self, request) -> list[str]:
        """One line for each request field this family does not take that is set: never silently ignored."""
        lines = [why for name, (flag, why) in FAMILY_INPUTS.items()
                 if why and getattr(request, name) is not None and not getattr(self, flag)]
        if self.needs_reference and request.reference is None:
            lines.append(f"{self.label} animate a reference image: give one")
        for name, (unused, why) in self.not_taken.items():
            value = getattr(request, name)
            if not (value is None or value == unused or (unused is None and not value)):  # 0 is off too
                shown = "empty" if unused is None else unused
                lines.append(f"{name} is not taken by {self.label} ({why}): leave it at {shown}")
        return lines

    def without_untaken_inputs(self, fields: dict) -> dict:
        """Request fields less the input videos this family does not read (a model axis gives each model only
        the inputs it takes)."""
        return {name: value for name, value in fields.items()
                if name not in FAMILY_INPUTS or getattr(self, FAMILY_INPUTS[name][0])}

    def published_transformer(self, spec, device: str = "meta"):
        """The spec's published transformer built on `device`: on the meta device no storage is behind its
        parameters (engine/gpu_fit.py counts them); elsewhere its weights are random (bench builds the real
        architectures so). None where the spec does not give its architecture (a local folder) or the model is one
        of the small ones."""
        if self.small or not spec.transformer_config:
            return None
        import torch
        from diffusers import WanVACETransformer3DModel

        with torch.device(device):
            return WanVACETransformer3DModel(**spec.transformer_config)

    def check_device(self, spec, device: str):
        """Raise one line when this family's model cannot run on `device`, before anything loads."""

    def input_notes(self, request, conditions) -> list[str]:
        """Notes on how this family reads the inputs, for Inspect."""
        return []

    def banner(self, spec, device: str) -> str:
        """One paragraph for the top of the page: what this engine is and what its videos can show."""
        return f"Engine: **{spec.name}** ({spec.source}) on {device.upper()}."

    def model_source(self, spec) -> str:
        """Where from_pretrained loads the pipeline: a hub id or a folder."""
        return spec.source

    def sample_inputs(self) -> dict:
        """The one-click sample: control video, reference and prompt (request fields, nothing else)."""
        from engine.paths import ASSETS_DIR

        return {"control_video": str(ASSETS_DIR / "pose.mp4"), "reference": str(ASSETS_DIR / "reference.png"),
                "prompt": SAMPLE_PROMPT}

    def other_sample_references(self) -> list[str]:
        """More references for the sample's dance (the same figure dressed otherwise, say): each is a second
        one-click sample that shows what the reference decides."""
        return []

    def sample_lora(self) -> Path | None:
        """The LoRA the blog's presets fall back on when none is chosen."""
        return None

    def read_prompt(self, text: str) -> str:
        """The prompt as the text encoder reads it."""
        return text

    def prompt_notes(self, texts: dict[str, str]) -> list[str]:
        """Notes on named prompts ({"prompt": ...}) this family cannot read well, said before it runs."""
        return []

    metric_info: dict = {}
    """Descriptions (engine.metrics.MetricInfo) of the metrics score() adds to a sweep's cells."""

    def score(self, frames, request) -> dict:
        """Metrics this family can measure on a generated video beyond every model's (a sweep adds them to its
        cells): the toy scores its own clips against the puppet world's ground truth."""
        return {}

    def spec_for_folder(self, path: Path):
        """A ModelSpec for a pipeline folder this family recognises (its own training runs), else None."""
        return None
