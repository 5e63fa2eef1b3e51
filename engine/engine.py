"""The Engine: one object that owns the pipeline, its caches and a lock. The UI never touches tensors.

    engine = Engine(ModelSpec.from_preset("tiny"))
    request = engine.default_request(control_video="pose.mp4", reference="me.png", prompt="...")
    preview = engine.inspect(request)     # exactly what the model will receive
    result = engine.generate(request, on_step=print, out_dir="out/")
"""

from __future__ import annotations

import dataclasses
import logging
import resource
import threading
import time
from pathlib import Path

import numpy as np

from engine import media
from engine.conditioning import (Conditions, Inspection, build_conditions, condition_key, condition_notes,
                                 preview_frames, preview_indices)
from engine.loading import load_error, load_pipeline
from engine.lru import LRU
from engine.lora import LoraAdapters
from engine.profiles import model_profiles, profile_changes
from engine.records import package_versions, write_json
from engine.request import GenerationRequest, GenerationResult
from engine import sizing
from engine.sizing import Estimate, give_back_memory, is_large, size_limit_errors, video_memory_mb
from engine.families import family_of, model_spec
from engine.spec import ModelSpec
from engine.windows import LongVideo, Window, latent_holder, make_in_windows, plan_windows, segment_plan

logger = logging.getLogger(__name__)

# GenerationRequest.sampler -> the diffusers scheduler that runs it.
SCHEDULER_CLASSES = {"unipc": "UniPCMultistepScheduler", "euler": "FlowMatchEulerDiscreteScheduler"}



class GenerationCancelled(RuntimeError):
    """Raised when should_stop() returns True between denoising steps. A long video stopped after some
    windows were finished keeps them: `saved_video` is where (when the call had an out_dir)."""

    def __init__(self, step: int, total: int, detail: str = "", saved_video: str | None = None):
        super().__init__(f"cancelled after {step} of {total} steps{detail}")
        self.step, self.total, self.saved_video = step, total, saved_video


class Engine:
    def __init__(self, spec: ModelSpec, device: str | None = None):
        self.spec = spec
        self.family = family_of(spec)  # what this kind of model adds: banner, sample, how it reads prompts
        self._device = device
        self._pipe = None
        self._tokenizer = None
        self._lock = threading.RLock()
        self._prompt_cache = LRU(32)
        self._condition_cache = LRU(8)
        self._pass_seconds: dict[tuple, float] = {}  # (height, width, window frames) -> measured s per pass
        # Compiled blocks keep one LoRA slot and hotswap files into it, so nothing recompiles.
        self._loras = LoraAdapters(spec.name, hotswap=spec.compile_blocks)

    @classmethod
    def from_name(cls, name: str = "auto", device: str | None = None, **spec_changes) -> "Engine":
        spec = model_spec(name)
        return cls(spec.with_overrides(**spec_changes) if spec_changes else spec, device=device)

    @classmethod
    def with_pipeline(cls, spec: ModelSpec, pipe, device: str) -> "Engine":
        """An engine around a pipeline built in memory (random weights of a real architecture, for bench),
        placed on `device` with the spec's memory plan as a loaded one would be."""
        from engine.loading import place_pipeline

        engine = cls(spec, device=device)
        engine._pipe = place_pipeline(pipe, spec, device)
        engine._tokenizer = pipe.tokenizer
        return engine

    # ---- model state -------------------------------------------------------------------------------

    @property
    def device(self) -> str:
        if self._device is None:
            import torch

            self._device = "cuda" if torch.cuda.is_available() else "cpu"
        return self._device

    def banner(self) -> str:
        from engine.gpu_fit import zerogpu_note

        return " ".join(text for text in (self.family.banner(self.spec, self.device), zerogpu_note()) if text)

    def model_source(self) -> str:
        """Where the weights are; first, refuse a model this machine cannot run, before anything is downloaded
        (loading the pipeline and the tokenizer both start here)."""
        self.check_runnable()
        return self.family.model_source(self.spec)

    def check_runnable(self):
        """Raise one line when this machine cannot run this model: a family that needs CUDA on a CPU, or a model
        over a ZeroGPU Space's slice (engine/gpu_fit.py). Nothing loads."""
        from engine.gpu_fit import zerogpu_refusal

        refusal = zerogpu_refusal(self.spec)
        if refusal:
            raise RuntimeError(refusal)
        self.family.check_device(self.spec, self.device)

    def load(self):
        """Load the pipeline once; later calls return it."""
        with self._lock:
            if self._pipe is None:
                self._pipe = load_pipeline(self.spec, self.model_source(), self.device)
                self._tokenizer = self._pipe.tokenizer
            return self._pipe

    def warm_up(self):
        """One 1-step generation of this engine's sample, nothing written: pays a first run's one-off costs
        (kernel set-up, allocations) and fills the conditioning cache before anyone waits on it."""
        started = time.perf_counter()
        self.generate(self.default_request(**self.sample_inputs(), num_inference_steps=1))
        logger.info("warmed up with a 1-step sample in %.1f s", time.perf_counter() - started)

    def clear(self):
        """Free the model and every cache (the next call loads again)."""
        with self._lock:
            self._pipe = None
            self._prompt_cache.clear()
            self._condition_cache.clear()
            self._loras.clear()
            if self.device == "cuda":
                import torch

                torch.cuda.empty_cache()

    def clear_caches(self):
        """Drop cached prompt embeddings and conditioning, keep the model (benchmarks use this)."""
        with self._lock:
            self._prompt_cache.clear()
            self._condition_cache.clear()
            if self._pipe is not None:
                self._pipe.lab_condition_store.clear()

    # ---- requests ----------------------------------------------------------------------------------

    def sample_inputs(self) -> dict:
        """The one-click sample for this engine's family (control video, reference, prompt)."""
        return self.family.sample_inputs()

    def other_sample_references(self) -> list[str]:
        """More references for the sample's dance, each a one-click sample of its own (the family's, if any)."""
        return self.family.other_sample_references()

    def sample_lora(self) -> Path | None:
        """The LoRA the blog's presets fall back on when none is chosen (the family's, if it has one)."""
        return self.family.sample_lora()

    @property
    def profiles(self) -> dict:
        """This model's sampling profiles by name, 'default' first (engine/profiles.py)."""
        return model_profiles(self.spec)

    def default_request(self, profile: str | None = None, **fields) -> GenerationRequest:
        """A request with this model's defaults (size, frames, steps), then the profile's sampling settings,
        then the given fields."""
        changes = profile_changes(self.profiles, profile) if profile else {}
        return GenerationRequest(**{**self.spec.defaults, **changes, **fields})

    def tokenizer(self):
        if self._tokenizer is None:
            if self._pipe is not None:
                self._tokenizer = self._pipe.tokenizer
            else:  # inspecting should not need the 11 GB text encoder: load the tokenizer alone
                from transformers import AutoTokenizer

                source = self.model_source()
                try:
                    self._tokenizer = AutoTokenizer.from_pretrained(source, subfolder="tokenizer")
                except (OSError, ValueError) as err:
                    raise load_error(source, err) from None
        return self._tokenizer

    def count_tokens(self, text: str) -> int:
        """Tokens the text encoder sees for this text (after Wan's prompt cleaning), end token included."""
        from diffusers.pipelines.wan.pipeline_wan_vace import prompt_clean

        return len(self.tokenizer()(prompt_clean(self.prompt_as_read(text)), add_special_tokens=True).input_ids)

    # ---- conditioning ------------------------------------------------------------------------------

    def prepare_conditions(self, request: GenerationRequest) -> Conditions:
        """Read, resample and fit the control video and reference; cached by file content and geometry."""
        key = condition_key(request)
        with self._lock:
            cached = self._condition_cache.get(key)
        if cached is not None:
            return cached
        conditions = build_conditions(request, key)
        if not is_large(request):  # a large video is read again when asked again, not held between requests
            with self._lock:
                self._condition_cache.put(key, conditions)
        return conditions

    def inspect(self, request: GenerationRequest) -> Inspection:
        self.check_size(request)
        try:
            return self._inspect(request)
        finally:
            if is_large(request):
                give_back_memory()

    def _inspect(self, request: GenerationRequest) -> Inspection:
        conditions = self.prepare_conditions(request)
        indices = preview_indices(request.num_frames)
        return Inspection(
            reference=conditions.reference,
            reference_box=conditions.reference_box,
            control_samples=preview_frames(conditions, indices),
            sample_indices=indices,
            num_frames=request.num_frames,
            fps=request.fps,
            height=request.height,
            width=request.width,
            source_fps=conditions.source_fps,
            source_frames=conditions.source_frames,
            source_size=conditions.source_size,
            padded_frames=conditions.padded_frames,
            prompt_tokens=self.count_tokens(request.prompt),
            negative_tokens=self.count_tokens(request.negative_prompt),
            max_sequence_length=self.spec.max_sequence_length,
            uses_cfg=request.uses_cfg,
            notes=condition_notes(request, conditions) + self.family.input_notes(request, conditions)
            + self._reference_token_notes(conditions) + self.prompt_notes(
                {"prompt": request.prompt, **({"negative prompt": request.negative_prompt} if request.uses_cfg else {})}),
        )

    def _reference_token_notes(self, conditions) -> list[str]:
        encoder = self._reference_encoder()
        if encoder is None or conditions.reference is None:
            return []
        return [f"The reference also enters as {encoder.config.num_tokens} tokens beside the prompt's, through the "
                "model's reference encoder (engine/reference_tokens.py)."]

    def prompt_notes(self, texts: dict[str, str]) -> list[str]:
        """A note for each named prompt ({"prompt": ...}) this model cannot read well, said before it runs."""
        return self.family.prompt_notes(texts)

    # ---- generation --------------------------------------------------------------------------------

    @property
    def native_window(self) -> int:
        """Frames the model makes at a time: its preset's frame count (81 for Wan, 17 for the toy)."""
        return int(self.spec.defaults.get("num_frames", 81))

    def window_plan(self, request: GenerationRequest) -> list[Window]:
        """The windows a request is made in (one, unless num_frames exceeds the window)."""
        window = request.window_frames or self.native_window
        if self.family.segments_itself:
            return segment_plan(request.num_frames, window, request.window_overlap)
        if request.num_frames <= window:
            return [Window(0, request.num_frames, 0, request.num_frames)]
        return plan_windows(request.num_frames, window, request.window_overlap, request.window_discard)

    def noise_levels(self, request: GenerationRequest) -> list[float]:
        """The noise level (sigma, 1: pure noise) each denoising step of `request` starts from, as its sampler,
        flow shift and steps (or sigmas) schedule them: what the pipeline's guided_at sees."""
        import copy

        # A copy: the pipeline's own scheduler keeps its state for whatever runs on it.
        scheduler = copy.deepcopy(self._scheduler_for(self.load(), request))
        if request.sigmas is not None:
            scheduler.set_timesteps(sigmas=list(request.sigmas))
        else:
            scheduler.set_timesteps(request.num_inference_steps)
        return [float(t) / scheduler.config.num_train_timesteps for t in scheduler.timesteps]

    def passes_per_step(self, request: GenerationRequest) -> float:
        """Transformer passes a denoising step of `request` makes on average: 2 where guided, 1 where not
        (guidance 1, or the steps below its guidance_stop)."""
        if not request.uses_cfg:
            return 1.0
        if not request.guidance_stop:
            return 2.0
        from engine.pipeline import guided_at

        sigmas = self.noise_levels(request)
        return 1.0 + sum(guided_at(sigma, request.guidance_stop) for sigma in sigmas) / len(sigmas)

    # ---- sizes -------------------------------------------------------------------------------------

    def check_size(self, request: GenerationRequest):
        """Refuse, in one line, a request with a field this model does not take, one past the model's size
        limits, or one whose video cannot fit in the memory free now."""
        errors = self.family.refusals(request) + size_limit_errors(request, self.spec.max_frames, self.spec.max_side)
        if errors:
            raise ValueError("; ".join(errors))
        estimate = self.estimate(request, with_time=False)
        if not estimate.fits:
            raise ValueError(f"this video needs about {estimate.memory_mb / 1024:.1f} GB and "
                             f"{estimate.free_mb / 1024:.1f} GB is free: use fewer frames or a smaller size")

    def measured_pass_seconds(self, height: int, width: int, num_frames: int) -> float | None:
        """Seconds one model pass took when this engine last generated at this size (a window's frames), or None."""
        return self._pass_seconds.get((height, width, num_frames))

    def estimate(self, request: GenerationRequest, with_time: bool = True):
        """What `request` will cost (engine.sizing.Estimate): windows, steps, memory for its video and, once a
        step was measured at this size, its time."""
        plan = self.window_plan(request)
        passes = self.passes_per_step(request) if with_time else 2.0
        steps = request.num_inference_steps if request.sigmas is None else len(request.sigmas)
        measured = self._pass_seconds.get((request.height, request.width, plan[0].length)) if with_time else None
        return Estimate(windows=len(plan), steps=steps, passes=passes, memory_mb=video_memory_mb(request),
                        free_mb=sizing.free_memory_mb(),  # looked up at call time: what is free now
                        seconds=len(plan) * steps * passes * measured if measured is not None else None)

    def generate(self, request: GenerationRequest, on_step=None, should_stop=None, out_dir=None,
                 on_window=None) -> GenerationResult:
        """Generate one video. on_step(step, total) reports progress; should_stop() cancels between steps;
        on_window(i, n) says which window of a long video is running.

        With out_dir, video.mp4 (at request.fps) and manifest.json are written there.
        """
        plan = self.window_plan(request)  # a bad window setting fails before any model work
        self.check_size(request)
        try:
            result = self._generate(request, plan, on_step, should_stop, on_window, out_dir)
        finally:
            if is_large(request):
                if self._pipe is not None:  # the latents of a large video are not kept either
                    self._pipe.lab_condition_store.clear()
                give_back_memory()
        if out_dir is not None:
            self.save(result, request, out_dir)
        return result

    def _generate(self, request, plan, on_step, should_stop, on_window, out_dir) -> GenerationResult:
        with self._lock:
            pipe = self.load()  # not timed: loading happens once, not per request
            started = time.perf_counter()
            self._check_conditioning_scale(pipe, request)
            conditions = self.prepare_conditions(request)
            prepared_at = time.perf_counter()
            prompt_embeds, negative_embeds, prompt_seconds, prompt_hit = self._encode_prompts(request)
            prompt_embeds = self.with_reference_tokens(prompt_embeds, conditions.reference)
            lora_sha = self._loras.activate(pipe, request.lora, request.lora_scale)
            self._apply_scheduler(pipe, request)
            if len(plan) == 1 or self.family.segments_itself:  # one call (its pipeline may run segments)
                frames, stage_times = self._run_pipeline(pipe, request, conditions, prompt_embeds, negative_embeds,
                                                         on_step, should_stop, loops=len(plan),
                                                         segment=plan[0].length)
            else:
                frames, stage_times = self._run_windows(pipe, request, conditions, prompt_embeds, negative_embeds,
                                                        plan, on_step, should_stop, on_window, out_dir)
            if "s_per_step" in stage_times:  # what the page's time estimate for this size reads
                self._pass_seconds[(request.height, request.width, plan[0].length)] = (
                    stage_times["s_per_step"] / self.passes_per_step(request))
            peak_mb, memory_kind = self._peak_memory_mb()
            result = GenerationResult(
                frames=frames,
                fps=request.fps,
                seed=request.seed,
                model=self.spec.name,
                timings={
                    "condition_prepare": prepared_at - started,
                    "prompt_encode": prompt_seconds,
                    **stage_times,
                    "total": time.perf_counter() - started,
                },
                peak_memory_mb=peak_mb,
                memory_kind=memory_kind,
                cache_hits={"prompt": prompt_hit, "condition": pipe.lab_condition_store.last_hit},
                lora_sha256=lora_sha,
            )
        return result

    def save(self, result: GenerationResult, request: GenerationRequest, out_dir) -> Path:
        """Write video.mp4 and manifest.json; returns the video path."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        video = media.write_mp4(result.frames, out_dir / "video.mp4", request.fps)
        result.video_path = str(video)
        write_json(self.manifest(request, result), out_dir / "manifest.json")
        return video

    def manifest(self, request: GenerationRequest, result: GenerationResult) -> dict:
        return {
            "request": request.to_dict(),
            "model": {"name": self.spec.name, "family": self.spec.family, "source": self.spec.source,
                      "device": self.device,
                      # How it ran: these change speed and memory, and compiled kernels round differently.
                      "speed": {name: getattr(self.spec, name) for name in
                                ("attention_backend", "compile_blocks", "cpu_offload", "group_offload", "vae_tiling")}},
            "lora": {"file": request.lora, "sha256": result.lora_sha256, "scale": request.lora_scale}
            if request.lora else None,
            "output": {"video": "video.mp4", "num_frames": result.num_frames, "fps": result.fps,
                       "height": result.size[0], "width": result.size[1]},
            "windows": [dataclasses.asdict(w) for w in plan] if len(plan := self.window_plan(request)) > 1 else None,
            "timings_s": result.timings,
            "peak_memory_mb": result.peak_memory_mb,
            "memory_kind": result.memory_kind,
            "cache_hits": result.cache_hits,
            "packages": package_versions(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _check_conditioning_scale(self, pipe, request: GenerationRequest):
        layers = len(pipe.transformer.config.get("vace_layers") or [])
        if layers and isinstance(request.conditioning_scale, list) and len(request.conditioning_scale) != layers:
            raise ValueError(
                f"conditioning_scale has {len(request.conditioning_scale)} values but this model has {layers} "
                "VACE layers; give one value or one per layer"
            )

    def _encode_prompts(self, request: GenerationRequest):
        started = time.perf_counter()
        texts = [request.prompt] + ([request.negative_prompt] if request.uses_cfg else [])
        hits = [text in self._prompt_cache for text in texts]
        embeds = [self.prompt_embedding(text) for text in texts]
        negative = embeds[1] if request.uses_cfg else None
        return embeds[0], negative, time.perf_counter() - started, all(hits)

    def _reference_encoder(self):
        """The loaded pipeline's reference encoder (engine/reference_tokens.py), or None."""
        return getattr(self.load(), "lab_reference_encoder", None)

    @property
    def reads_reference_tokens(self) -> bool:
        """Whether the model has a reference encoder (engine/reference_tokens.py)."""
        return self._reference_encoder() is not None

    def with_reference_tokens(self, prompt_embeds, reference):
        """The prompt's embeddings, with the reference's tokens beside them when the model has a reference
        encoder (engine/reference_tokens.py) and there is a reference (a PIL image, letterboxed to the frame).
        Generation gives them to the positive prompt only; training, to the clip's prompt."""
        encoder = self._reference_encoder()
        if encoder is None or reference is None:
            return prompt_embeds
        import torch

        from engine.reference_tokens import reference_pixels, with_reference_tokens

        with torch.no_grad():
            tokens = encoder(reference_pixels(reference, encoder).to(prompt_embeds.device))
        return with_reference_tokens(prompt_embeds, tokens)

    def prompt_as_read(self, text: str) -> str:
        """The prompt as the model's text encoder reads it (its family may normalise it)."""
        return self.family.read_prompt(text)

    def prompt_embedding(self, text: str):
        """The text encoder's output for `text` at the model's max_sequence_length, cached by text."""
        self.load()
        text = self.prompt_as_read(text)
        cached = self._prompt_cache.get(text)
        if cached is not None:
            return cached
        import torch

        pipe = self._pipe
        with torch.no_grad():
            embeds, _ = pipe.encode_prompt(
                prompt=text, do_classifier_free_guidance=False, max_sequence_length=self.spec.max_sequence_length,
                device=pipe._execution_device,
            )
        self._prompt_cache.put(text, embeds)
        return embeds

    def _apply_scheduler(self, pipe, request: GenerationRequest):
        pipe.scheduler = self._scheduler_for(pipe, request)

    @staticmethod
    def _scheduler_for(pipe, request: GenerationRequest):
        """The request's sampler at its flow shift, built from the model's own scheduler config (the pipeline's
        current one when it already is that)."""
        import diffusers

        base = pipe.__dict__.setdefault("lab_scheduler_config", dict(pipe.scheduler.config))
        cls = getattr(diffusers, SCHEDULER_CLASSES[request.sampler])
        shift_key = "flow_shift" if request.sampler == "unipc" else "shift"
        if type(pipe.scheduler) is cls and pipe.scheduler.config.get(shift_key) == request.flow_shift:
            return pipe.scheduler
        return cls.from_config(base, **{shift_key: request.flow_shift})

    def _run_windows(self, pipe, request, conditions, prompt_embeds, negative_embeds, plan, on_step, should_stop,
                     on_window, out_dir):
        """A long video, window by window (engine/windows.py): each window continues the frames already made."""
        steps = request.num_inference_steps

        def run_window(index, control, mask, kept=None):
            # Only the first window's conditioning repeats from run to run (later ones hold frames just made); its
            # key names its length, since the same inputs in windows of another size encode to other latents.
            part = dataclasses.replace(conditions, control_frames=control,
                                       key=f"{conditions.key}-window0-{plan[0].length}" if index == 0 else None)
            part_request = request.replace(num_frames=plan[index].length, window_frames=None, seed=request.seed + index)
            done = index * steps
            progress = None if on_step is None else (lambda step, _total: on_step(done + step, steps * len(plan)))
            return self._run_pipeline(pipe, part_request, part, prompt_embeds, negative_embeds, progress, should_stop,
                                      mask=mask, kept_frames=kept)

        video = LongVideo.empty(request.num_frames, request.height, request.width)
        try:
            make_in_windows(video, plan, conditions.control_frames, run_window, request, on_window)
        except GenerationCancelled as stop:
            raise self._keep_finished_windows(request, video, plan, stop, out_dir) from None
        return video.frames, video.times

    def _keep_finished_windows(self, request, video: LongVideo, plan, stop, out_dir) -> GenerationCancelled:
        """Stopping a long video keeps the windows already finished (as a shorter video in out_dir)."""
        index, finished = video.finished_windows, video.finished_frames(plan)
        detail = f" in window {index + 1} of {len(plan)}"
        saved = None
        if finished and out_dir is not None:
            out_dir = Path(out_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            saved = str(media.write_mp4(video.frames[:finished], out_dir / "video.mp4", request.fps))
            write_json({"partial": True, "finished_windows": index, "windows": len(plan), "frames": finished,
                        "request": request.to_dict()}, out_dir / "manifest.json")
            detail += f"; the {index} finished window(s) ({finished} frames) are saved in {saved}"
        return GenerationCancelled(stop.step, stop.total, detail, saved)

    def _run_pipeline(self, pipe, request, conditions, prompt_embeds, negative_embeds, on_step, should_stop,
                      mask=None, kept_frames=None, loops: int = 1, segment: int | None = None):
        """One pipeline call; `loops` denoising loops of `segment` frames run in it (a family whose pipeline
        makes segments)."""
        import torch

        from engine.step_cache import apply_step_cache, remove_step_cache

        total = request.num_inference_steps * loops  # steps are counted across the loops
        step_times: list[float] = []
        hold = None if kept_frames is None else latent_holder(pipe, kept_frames, request.seed,
                                                              first=int(conditions.reference is not None))

        def step_end(_pipe, step, _timestep, callback_kwargs):
            if hold is not None:
                callback_kwargs = hold(_pipe, step, callback_kwargs)
            step_times.append(time.perf_counter())
            done = len(step_times)  # the step index restarts in each loop
            if on_step is not None:
                on_step(done, total)
            if should_stop is not None and should_stop() and done < total:
                raise GenerationCancelled(done, total)
            return callback_kwargs

        store = pipe.lab_condition_store
        cache = None
        if request.step_cache is not None:
            cache = apply_step_cache(pipe.transformer, request.step_cache)
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        try:
            output = pipe(
                **self.family.pipeline_inputs(request, conditions, mask, segment),
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative_embeds,
                guidance_scale=request.guidance_scale,
                num_inference_steps=request.num_inference_steps,
                height=request.height,
                width=request.width,
                generator=torch.Generator(device="cpu").manual_seed(request.seed),
                output_type="np",
                callback_on_step_end=step_end,
                max_sequence_length=self.spec.max_sequence_length,
            ).frames[0]
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise RuntimeError(
                f"out of GPU memory at {request.width}x{request.height}x{request.num_frames}: lower the size or "
                "the frame count, or turn on cpu_offload / vae_tiling in the model preset"
            ) from None
        finally:
            if cache is not None:
                remove_step_cache(pipe.transformer)
        finished = time.perf_counter()
        frames = _to_uint8(output)
        denoise = step_times[-1] - store.finished_at
        return frames, {
            "condition_encode": store.last_seconds if not store.last_hit else 0.0,
            "denoise": denoise,
            "s_per_step": denoise / total,
            "decode": finished - step_times[-1],
            "pipeline_call": finished - started,
            "step_cache_skipped": cache.skipped_fraction if cache is not None else 0.0,
        }

    def _peak_memory_mb(self) -> tuple[float, str]:
        if self.device == "cuda":
            import torch

            return torch.cuda.max_memory_allocated() / 2**20, "cuda_max_allocated"
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process_peak_rss"


def _to_uint8(frames: np.ndarray) -> np.ndarray:
    if not np.isfinite(frames).all():
        raise RuntimeError(
            "the model produced NaN or infinite values: try float32/bfloat16 instead of float16, a lower "
            "guidance_scale, or a different LoRA strength"
        )
    return (np.clip(frames, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
