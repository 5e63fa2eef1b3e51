"""The toy family: the small WanVACE this lab trains on its puppet world (engine/toy/model.py), shipped in
assets/toy, and the training runs `python -m experiments toy train` makes."""

from __future__ import annotations

from pathlib import Path

from engine.families.base import ModelFamily
from engine.paths import ASSETS_DIR

TOY_DIR = ASSETS_DIR / "toy"
TOY_SAMPLE_DIR = ASSETS_DIR / "toy-sample"  # a held-out puppet-world clip: the toy model's one-click sample
# The blog-in-a-box LoRA (`python -m experiments toy blog`): what the blog's presets use with the toy model
# when no LoRA is chosen.
TOY_BLOG_LORA = ASSETS_DIR / "toy-blog" / "main-blocks-r32.safetensors"
RUN_RECORD = "toy_run.json"  # in every pipeline folder `toy train` writes


def is_shipped() -> bool:
    return (TOY_DIR / "model_index.json").is_file()


class ToyFamily(ModelFamily):
    name = "toy"
    small = True
    warm_up_on_start = True

    def banner(self, spec, device: str) -> str:
        return (f"Engine: **toy** on {device.upper()}: a small WanVACE trained in this lab on a puppet world "
                "(flat-coloured figures on plain, striped or checked floors, 224x128, 17 frames). It draws the "
                "prompt's floor and a blurred figure on the skeleton, dressed as the reference shows: a reference "
                "encoder turns the picture into tokens the transformer reads beside the prompt's. Name only the "
                "action and the floor; clothes words that disagree with the reference mix the two. It knows "
                "nothing else: real photos give puppets. Its model card (assets/toy/README.md) has its scores. Use "
                "a CUDA GPU (`--model wan-vace-1.3b`) for real videos.")

    def model_source(self, spec) -> str:
        if spec.source != "toy":
            return spec.source
        if not is_shipped():
            raise RuntimeError(f"the toy model's weights are not in {TOY_DIR}: `python -m experiments toy train` "
                               "makes them")
        return str(TOY_DIR)

    def is_shipped(self) -> bool:
        return is_shipped()

    def sample_inputs(self) -> dict:
        if not (TOY_SAMPLE_DIR / "pose.mp4").is_file():
            return super().sample_inputs()
        return {"control_video": str(TOY_SAMPLE_DIR / "pose.mp4"), "reference": str(TOY_SAMPLE_DIR / "reference.png"),
                "prompt": (TOY_SAMPLE_DIR / "prompt.txt").read_text().strip()}

    def other_sample_references(self) -> list[str]:
        second = TOY_SAMPLE_DIR / "reference-2.png"
        return [str(second)] if second.is_file() and (TOY_SAMPLE_DIR / "pose.mp4").is_file() else []

    def sample_lora(self) -> Path | None:
        return TOY_BLOG_LORA if TOY_BLOG_LORA.is_file() else None

    def read_prompt(self, text: str) -> str:
        from engine.toy.model import words_as_read

        return words_as_read(text)

    def prompt_notes(self, texts: dict[str, str]) -> list[str]:
        from engine.toy.model import unknown_word_notes

        return unknown_word_notes(texts)

    @property
    def metric_info(self) -> dict:
        from engine.toy.scoring import TOY_METRICS

        return TOY_METRICS

    def score(self, frames, request) -> dict:
        from engine.toy.scoring import toy_metrics

        return toy_metrics(frames, request) or {}

    def spec_for_folder(self, path: Path):
        """A pipeline `toy train` made: the toy's size, steps and prompt length, not Wan's 480x832 defaults."""
        if not (path / RUN_RECORD).is_file() or not (path / "model_index.json").is_file():
            return None
        from engine.spec import ModelSpec

        return ModelSpec.from_preset("toy").with_overrides(name=f"toy-run {path.name}", source=str(path),
                                                          description=f"toy run at {path}")


FAMILY = ToyFamily()
