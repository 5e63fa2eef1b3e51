"""ModelFamily: what a kind of model adds to the generic engine. The defaults are Wan2.1-VACE's."""

from __future__ import annotations

from pathlib import Path

SAMPLE_PROMPT = (
    "A young man in a black t-shirt, dark jeans and beige sneakers dances smoothly, following the skeleton "
    "pose exactly, in a clean, minimalist indoor studio with soft lighting. Photorealistic, consistent character."
)


class ModelFamily:
    """One family's hook. The engine asks it for what differs between kinds of model and branches on none."""

    name = "wan-vace"
    small = False
    """Built in this lab at a size a CPU runs (its tokenizer knows few words; benchmarks use small sizes)."""
    warm_up_on_start = False
    """Make one 1-step video as the app starts, so the first click does not pay a CPU's one-off set-up."""

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
