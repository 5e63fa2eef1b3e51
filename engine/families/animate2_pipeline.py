"""LabAnimate2Pipeline: diffusers' modular Wan-Animate-2 pipeline behind the call the engine makes of every family.

Wan-Animate-2 ships in diffusers as a modular pipeline (WanAnimate2ModularPipeline, built from WanAnimate2Blocks
or WanAnimate2DistilledBlocks), not a DiffusionPipeline: it takes its inputs by name, samples with a guider
component instead of a guidance_scale argument, and has no step callback. This class runs diffusers' own blocks
unchanged and adapts only the edges:
- the prompt embeddings come from the engine (cached by text, like every family's), so the blocks run without
  their text-encoder step, and encode_prompt here does what that step does;
- guidance_scale becomes the guider's (the distilled model's is 1: it runs the conditional pass alone);
- callback_on_step_end is called after each scheduler step, which is where the engine counts steps, reports
  progress and stops a run;
- the output is returned as `.frames`, like a DiffusionPipeline's.
Loading goes through ModularPipeline.from_pretrained and load_components, diffusers' documented path for the
published checkpoints, and works the same on a folder this lab saved (the tiny random model).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

# The reference-extraction pass's prompt, as diffusers' text-encoder step defaults it (the checkpoint was trained
# with this Chinese phrase: "a reference video of the person's motion").
PROMPT_REF = "人物动作的参考视频"
COMPONENTS = ("text_encoder", "tokenizer", "image_encoder", "vae", "transformer", "scheduler")


def _runner_component(name: str):
    """A read-only attribute that is the modular pipeline's component of that name."""
    return property(lambda self: getattr(self.runner, name))


class LabAnimate2Pipeline:
    """The lab's handle on a Wan-Animate-2 modular pipeline (the base or the distilled blocks)."""

    distilled = False

    def __init__(self, text_encoder, tokenizer, image_encoder, vae, transformer, scheduler):
        blocks = self.blocks()
        blocks.sub_blocks.pop("text_encoder")  # the engine passes the prompt's embeddings
        self.runner = blocks.init_pipeline()
        self.runner.update_components(image_encoder=image_encoder, vae=vae, transformer=transformer,
                                      scheduler=scheduler)
        self.text_encoder, self.tokenizer = text_encoder, tokenizer
        self._prompt_ref_embeds = {}

    @classmethod
    def blocks(cls):
        """diffusers' blocks for this checkpoint: the base or the distilled ones."""
        from diffusers.modular_pipelines import WanAnimate2Blocks, WanAnimate2DistilledBlocks

        return WanAnimate2DistilledBlocks() if cls.distilled else WanAnimate2Blocks()

    # ---- loading and placement --------------------------------------------------------------------------

    @classmethod
    def from_pretrained(cls, source: str, dtype=None):
        from diffusers import ModularPipeline

        full = ModularPipeline.from_pretrained(source)
        full.load_components(names=list(COMPONENTS), dtype=dtype)
        return cls(**{name: getattr(full, name) for name in COMPONENTS})

    def save_pretrained(self, folder):
        """Diffusers' modular layout (modular_model_index.json and a folder per component), with no absolute
        path recorded in it, so the folder loads wherever it is moved."""
        full = self.blocks().init_pipeline()
        full.update_components(**self.components)
        full.save_pretrained(str(folder))
        index_path = Path(folder) / "modular_model_index.json"
        index = json.loads(index_path.read_text())
        for entry in index.values():
            if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[2], dict):
                entry[2]["pretrained_model_name_or_path"] = None  # None: this folder
        index_path.write_text(json.dumps(index, indent=2))
        # The engine recognises a built pipeline folder by its model_index.json, as for every family.
        (Path(folder) / "model_index.json").write_text(json.dumps(
            {"_class_name": type(full).__name__, **{name: index[name][:2] for name in COMPONENTS}}, indent=2))

    @property
    def components(self) -> dict:
        return {name: getattr(self, name) for name in COMPONENTS}

    image_encoder = _runner_component("image_encoder")
    vae = _runner_component("vae")
    transformer = _runner_component("transformer")

    @property
    def scheduler(self):
        return self.runner.scheduler

    @scheduler.setter
    def scheduler(self, scheduler):
        if scheduler is not self.runner.scheduler:
            self.runner.update_components(scheduler=scheduler)

    @property
    def _execution_device(self):
        return self.runner._execution_device

    def to(self, device):
        self.runner.to(device)
        self.text_encoder.to(device)
        return self

    def set_progress_bar_config(self, **kwargs):
        self.runner.set_progress_bar_config(**kwargs)

    def enable_model_cpu_offload(self):
        raise RuntimeError("cpu_offload is not available for Animate-2's modular pipeline: use group_offload")

    # ---- LoRA ---------------------------------------------------------------------------------------------
    # On the transformer itself, through diffusers' PeftAdapterMixin: the pipeline-level Wan LoRA loader that the
    # modular pipeline class carries reads `transformer.config.image_dim`, which WanAnimate2Transformer3DModel's
    # config does not have (diffusers 0.42.1), so it fails before loading anything.

    def load_lora_weights(self, state_dict: dict, adapter_name: str | None = None, hotswap: bool = False):
        self.transformer.load_lora_adapter(state_dict, adapter_name=adapter_name, prefix="transformer",
                                           hotswap=hotswap)

    def set_adapters(self, adapter_names, adapter_weights=None):
        self.transformer.set_adapters(adapter_names, weights=adapter_weights)

    def get_list_adapters(self) -> dict:
        return {"transformer": list(getattr(self.transformer, "peft_config", {}))}

    def delete_adapters(self, adapter_names):
        self.transformer.delete_adapters(adapter_names)

    def disable_lora(self):
        self.transformer.disable_lora()

    def enable_lora(self):
        self.transformer.enable_lora()

    def enable_lora_hotswap(self, target_rank: int):
        self.transformer.enable_lora_hotswap(target_rank=target_rank)

    # ---- prompts and the call -----------------------------------------------------------------------------

    def encode_prompt(self, prompt: str, do_classifier_free_guidance: bool = False, max_sequence_length: int = 512,
                      device=None, **_):
        """The prompt's T5 embeddings as Wan-Animate-2's text-encoder step makes them; (embeds, None)."""
        from diffusers.modular_pipelines.wan_animate_2.encoders import get_t5_prompt_embeds

        device = device or self._execution_device
        return get_t5_prompt_embeds(self.text_encoder, self.tokenizer, prompt, max_sequence_length, device), None

    def prompt_ref_embeds(self, max_sequence_length: int):
        if max_sequence_length not in self._prompt_ref_embeds:
            self._prompt_ref_embeds[max_sequence_length] = self.encode_prompt(PROMPT_REF, max_sequence_length=
                                                                              max_sequence_length)[0]
        return self._prompt_ref_embeds[max_sequence_length]

    def __call__(self, *, image, driving_video, segment_frame_length: int, prev_segment_conditioning_frames: int,
                 fps: int, prompt_embeds, negative_prompt_embeds=None, guidance_scale: float = 1.0,
                 num_inference_steps: int = 40, height: int, width: int, generator=None, output_type: str = "np",
                 callback_on_step_end=None, max_sequence_length: int = 512):
        """One Animate-2 run over the whole driving video, in segments of its own."""
        import time

        from diffusers.guiders import ClassifierFreeGuidance

        started = time.perf_counter()
        if self.runner.guider is None or self.runner.guider.guidance_scale != guidance_scale:
            self.runner.update_components(guider=ClassifierFreeGuidance(guidance_scale=guidance_scale))
        store = self.__dict__.get("lab_condition_store")  # the engine's stage timing (engine/pipeline.py)

        def conditioned():
            if store is not None:
                store.mark_encoded(started)

        with _step_hook(self.runner.scheduler, self, callback_on_step_end, conditioned):
            videos = self.runner(
                image=image, driving_video=driving_video, fps=fps, segment_frame_length=segment_frame_length,
                prev_segment_conditioning_frames=prev_segment_conditioning_frames,
                prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_prompt_embeds,
                prompt_ref_embeds=self.prompt_ref_embeds(max_sequence_length),
                num_inference_steps=num_inference_steps, height=height, width=width, generator=generator,
                output_type=output_type, output="videos",
            )
        return SimpleNamespace(frames=videos)


class LabAnimate2DistilledPipeline(LabAnimate2Pipeline):
    """The distilled checkpoint's blocks: few steps, the conditional pass alone."""

    distilled = True


class _step_hook:
    """While a run lasts, call `callback(pipe, step, timestep, {})` after each of the scheduler's steps, and
    `on_conditioned()` when the first segment sets its timesteps (its inputs are encoded by then: the blocks
    reset the scheduler just before the segment's reference pass). The scheduler's own methods run unchanged
    and are restored afterwards."""

    def __init__(self, scheduler, pipe, callback, on_conditioned):
        self.scheduler, self.pipe, self.callback, self.on_conditioned = scheduler, pipe, callback, on_conditioned
        self.done, self.segments = 0, 0

    def __enter__(self):
        stock_step, stock_set_timesteps = self.scheduler.step, self.scheduler.set_timesteps

        def set_timesteps(*args, **kwargs):
            if self.segments == 0:
                self.on_conditioned()
            self.segments += 1
            return stock_set_timesteps(*args, **kwargs)

        def step(model_output, timestep, *args, **kwargs):
            result = stock_step(model_output, timestep, *args, **kwargs)
            if self.callback is not None:
                self.callback(self.pipe, self.done, timestep, {})
            self.done += 1
            return result

        # Instance attributes: they shadow the class's methods for this run only.
        self.scheduler.step, self.scheduler.set_timesteps = step, set_timesteps
        return self

    def __exit__(self, *exc):
        del self.scheduler.step, self.scheduler.set_timesteps
        return False
