"""The tiny families: the real diffusers classes of each family with random weights, built in code (engine/tiny.py).
Their videos are noise; they exist so the lab, its inputs and its settings run and are tested on a CPU."""

from __future__ import annotations

from engine.families.base import ModelFamily


class TinyModel:
    """What every tiny family shares: its banner and its folder, built once in the workspace. Mixed in before the
    family it is a tiny copy of."""

    small = True
    tiny_kind = "vace"
    """engine/tiny.py's TINY_KINDS: which pipeline to build."""
    pipeline_name = "WanVACEPipeline"
    real_model = "wan-vace-1.3b"
    """The preset that makes real videos with the same pipeline on a GPU."""

    def banner(self, spec, device: str) -> str:
        return (f"Engine: **{self.name}** on {device.upper()}. Random weights: the output is noise. It runs "
                f"diffusers' {self.pipeline_name} end to end, so the whole lab, its inputs and its settings can be "
                f"learned here; `--model {self.real_model}` on a CUDA GPU makes real videos.")

    def model_source(self, spec) -> str:
        from engine.tiny import ensure_tiny_pipeline

        return str(ensure_tiny_pipeline(self.tiny_kind))


class TinyFamily(TinyModel, ModelFamily):
    name = "tiny"


FAMILY = TinyFamily()
