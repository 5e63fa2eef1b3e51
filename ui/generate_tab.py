"""Generate tab: reference + control video + prompt and settings -> what the model receives -> a video."""

from __future__ import annotations

import logging
import time

import gradio as gr

from engine.engine import GenerationCancelled
from engine.lora import training_prompt
from engine.prompts.variants import negative_prompts
from engine.request import CONTROL_FITS, SAMPLERS, WINDOW_CONTEXTS, GenerationRequest, field_info
from ui.common import (NONE, described, with_named_inputs, download_stem, lora_choices, gpu_job, named_copy, new_cancel_flag, new_output_dir,
                       request_stop, user_errors)

logger = logging.getLogger(__name__)



# The API's parameter names, in the order of the widgets: the request's own field names.
WIDGET_FIELDS = ("reference", "control_video", "prompt", "negative_prompt", "guidance_scale", "num_inference_steps",
                 "seed", "lora", "lora_scale", "height", "width", "num_frames", "fps", "flow_shift",
                 "conditioning_scale", "control_fit", "step_cache", "sampler", "sigmas", "window_frames",
                 "window_overlap", "window_noise", "window_color_match", "window_discard", "window_crossfade",
                 "window_context", "guidance_stop", "face_video", "driving_video", "background_video", "mask_video")


def build_request(engine, reference, control, prompt, negative, guidance, steps, seed, lora, lora_scale,
                  height, width, num_frames, fps, flow_shift, conditioning_scale, control_fit,
                  step_cache=0, sampler="unipc", sigmas="", window_frames=None, window_overlap=5, window_noise=0.0,
                  window_color_match=0.0, window_discard=0, window_crossfade=0,
                  window_context=None, guidance_stop=None, face_video=None, driving_video=None,
                  background_video=None, mask_video=None) -> GenerationRequest:
    """Widget values -> a validated request (raises ValueError naming the bad value); what is missing comes from
    the engine's sample (inputs_or_sample)."""
    reference, control, prompt, _ = inputs_or_sample(engine, reference, control, prompt)
    return engine.default_request(
        control_video=control,
        reference=reference or None,
        prompt=prompt or "",
        negative_prompt=negative or "",
        guidance_scale=float(guidance),
        num_inference_steps=int(steps),
        seed=int(seed),
        lora=lora or None,
        lora_scale=float(lora_scale),
        height=int(height),
        width=int(width),
        num_frames=int(num_frames),
        fps=int(fps),
        flow_shift=float(flow_shift),
        conditioning_scale=GenerationRequest.parse_field("conditioning_scale", str(conditioning_scale)),
        control_fit=control_fit,
        step_cache=float(step_cache) if step_cache else None,
        sampler=sampler or "unipc",
        sigmas=GenerationRequest.parse_field("sigmas", str(sigmas)) if str(sigmas or "").strip() else None,
        window_frames=optional_window(window_frames),
        window_overlap=int(window_overlap),
        window_noise=float(window_noise),
        window_color_match=float(window_color_match),
        window_discard=int(window_discard),
        window_crossfade=int(window_crossfade or 0),
        # Not given (an older API call): the model's own default, latents for the toy, control for Wan.
        **({"window_context": window_context} if window_context else {}),
        **({"guidance_stop": float(guidance_stop)} if guidance_stop is not None else {}),
        # Only a model that reads these videos shows their widgets; an API call that sends one to another is refused.
        **{name: value for name, value in (("face_video", face_video), ("driving_video", driving_video),
                                           ("background_video", background_video), ("mask_video", mask_video))
           if value},
    )


def sample_rows(sample_inputs: dict, other_references: list[str]) -> list[list]:
    """The sample as Examples rows (reference, control, prompt): a row more for each other reference."""
    references = [sample_inputs["reference"], *other_references]
    return [[image, sample_inputs["control_video"], sample_inputs["prompt"]] for image in references]


def inputs_or_sample(engine, reference, control, prompt) -> tuple:
    """(reference, control, prompt, notes): the engine's sample stands in for what is missing, as the page's own
    defaults do, with a note for each stand-in the student did not ask for. Nothing at all is the sample; a
    reference alone (an API call, say) drives it with the sample's skeleton; an empty prompt, which would give
    a smear, is the sample's prompt."""
    sample = engine.sample_inputs()
    notes = []
    chosen = bool(control or reference)  # the student gave something of their own
    if not chosen:
        reference = sample["reference"]
    elif not control:
        notes.append("No control video: the sample's skeleton drives your reference.")
    control = control or sample["control_video"]
    if not (prompt or "").strip():
        prompt = sample["prompt"]
        if chosen:
            notes.append(f'No prompt: the sample\'s is used ("{prompt}"). Write one to say what you want.')
    return reference, control, prompt, notes


def limited(name: str, limit) -> str:
    """A size widget's info: the field's description and this model's limit."""
    return f"{field_info(name).help} At most {limit} for this model."


def estimate_text(engine, *values) -> str:
    """The line under Generate: what the settings will cost, or why they will be refused, before anything runs."""
    try:
        request = build_request(engine, *values)
        engine.check_size(request)
        return f"**Plan:** {engine.estimate(request).text()}"
    except ValueError as err:
        return f"**Will be refused:** {err}"


def optional_window(value) -> int | None:
    """The Window box: empty (or 0, which older API calls sent) is the model's own window."""
    return GenerationRequest.parse_field("window_frames", str(value or "")) or None


def profile_widget_values(engine, name: str) -> tuple:
    """What choosing a profile puts in the widgets: steps, guidance, shift, sampler, sigmas, step cache, note."""
    profile = engine.profiles[name]
    request = engine.default_request(profile=name, control_video=engine.sample_inputs()["control_video"])
    sigmas = ", ".join(f"{s:g}" for s in request.sigmas) if request.sigmas else ""
    return (request.num_inference_steps, request.guidance_scale, request.flow_shift, request.sampler, sigmas, 0,
            profile.note)


def lora_prompt_note(lora: str | None):
    """What a chosen LoRA was trained on, and the button that puts it in the prompt: a LoRA shows what it
    learned on prompts like its own (a prompt that already names what it changes hides it)."""
    prompt = training_prompt(lora) if lora and lora != NONE else None
    if prompt is None:
        return "", gr.Button(visible=False)
    return (f"Trained on prompts like: *{prompt}*. Its effect shows most on a prompt like it.",
            gr.Button(visible=True))


def profile_suggestion(engine, lora: str | None) -> str:
    from engine.profiles import suggest_profile

    suggested = suggest_profile(engine.profiles, lora if lora and lora != NONE else None)
    if suggested is None:
        return ""
    return (f"This LoRA looks made for the **{suggested.name}** profile: choose it under *Sampling profile* "
            f"({suggested.note})")


def render_inspection(inspection) -> tuple:
    frames = [(frame, f"frame {index + 1}/{inspection.num_frames}")
              for index, frame in zip(inspection.sample_indices, inspection.control_samples)]
    text = "\n".join(f"- {line}" for line in inspection.summary_lines())
    return inspection.reference, frames, "**What the model receives**\n\n" + text


def render_timings(result) -> str:
    t = result.timings
    hits = ", ".join(f"{name} {'cached' if hit else 'computed'}" for name, hit in result.cache_hits.items())
    memory = "peak GPU memory" if result.memory_kind == "cuda_max_allocated" else "peak process memory"
    return (
        f"**{result.num_frames} frames at {result.fps} fps**, seed {result.seed}, model {result.model}\n\n"
        f"| stage | seconds |\n|---|---|\n"
        f"| prompt encode | {t['prompt_encode']:.3f} |\n| condition encode | {t['condition_encode']:.3f} |\n"
        f"| denoise ({t['s_per_step']:.3f} s/step) | {t['denoise']:.3f} |\n| decode | {t['decode']:.3f} |\n"
        f"| total | {t['total']:.3f} |\n\n{memory}: {result.peak_memory_mb:.0f} MB; {hits}"
        + (f"; step cache skipped {t['step_cache_skipped']:.0%} of transformer calls"
           if t.get("step_cache_skipped") else "")
    )


def build_generate_tab(engine, links: dict):
    cancel_flag = new_cancel_flag(links)
    last_result = gr.State(None)  # this session's last finished video: Stop leaves it on screen
    checked = gr.State(None)  # what the model receives, read before a generation
    sample_inputs = engine.sample_inputs()
    defaults = engine.default_request(control_video=sample_inputs["control_video"])
    # The one-click sample goes first, where a first-time visitor sees it without scrolling; it is filled in
    # below, once the inputs it fills exist.
    sample_slot = gr.Column(elem_id="generate-sample")
    with gr.Row():
        with gr.Column():
            reference = gr.Image(**described("reference", with_info=False), type="filepath", sources=["upload"], height=300,
                                     elem_id="generate-reference")
            control = gr.Video(**described("control_video", with_info=False), sources=["upload"], height=300)
            # Animate models read expression from face crops (the Pose tab makes them); VACE models take none.
            face_video = gr.Video(**described("face_video", with_info=False), sources=["upload"], height=160,
                                  visible=engine.family.takes_face_video, elem_id="generate-face")
            # Animate-2 reads a raw driving clip; shown for it only, in place of the control when given.
            driving_video = gr.Video(**described("driving_video", with_info=False), sources=["upload"], height=160,
                                     visible=engine.family.reads_driving_video, elem_id="generate-driving")
            # Animate's replace mode: both or neither (the Pose tab's CLI twin, `pose --for animate --replace`).
            with gr.Row(visible=engine.family.takes_replace_inputs):
                background_video = gr.Video(**described("background_video", with_info=False), sources=["upload"],
                                            height=160, elem_id="generate-background")
                mask_video = gr.Video(**described("mask_video", with_info=False), sources=["upload"], height=160,
                                      elem_id="generate-mask")
        with gr.Column():
            prompt = gr.Textbox(**described("prompt"), lines=4)
            with gr.Row():
                guidance = gr.Slider(0, 15, value=defaults.guidance_scale, step=0.5, **described("guidance_scale"))
                steps = gr.Slider(1, 100, value=defaults.num_inference_steps, step=1, elem_id="generate-steps",
                                  **described("num_inference_steps"))
            with gr.Row():
                seed = gr.Number(value=defaults.seed, precision=0, minimum=0, **described("seed"))
                lora = gr.Dropdown(choices=lora_choices(), value=NONE, elem_id="generate-lora", **described("lora"))
            # A row of its own: as a third column beside seed and LoRA its description wrapped a word a line.
            lora_scale = gr.Slider(0, 2, value=defaults.lora_scale, step=0.05, **described("lora_scale"))
            with gr.Row():
                lora_note = gr.Markdown(elem_id="generate-lora-note")
                use_lora_prompt = gr.Button("Use its training prompt", visible=False, size="sm",
                                            elem_id="generate-use-lora-prompt")
            with gr.Row():
                profile = gr.Dropdown(list(engine.profiles), value="default", label="Sampling profile",
                                      elem_id="generate-profile",
                                      info="Sampler, steps, guidance and shift set together, e.g. for a "
                                           "step-distilled LoRA. Every value stays editable below.")
                profile_note = gr.Markdown(elem_id="generate-profile-note")
            with gr.Accordion("Negative prompt and advanced settings", open=False):
                negatives = negative_prompts()
                shown_negative = next((name for name, text in negatives.items() if text == defaults.negative_prompt),
                                      "wan-standard-en")
                negative_preset = gr.Dropdown(list(negatives), value=shown_negative, label="Negative prompt preset",
                                              info="Wan's standard negative prompt as its authors ship it (zh) or in English.")
                negative = gr.Textbox(value=defaults.negative_prompt, lines=3, **described("negative_prompt"))
                with gr.Row():
                    height = gr.Number(value=defaults.height, precision=0, elem_id="generate-height", **described("height", info=limited(
                        "height", f"{engine.spec.max_side} px")))
                    width = gr.Number(value=defaults.width, precision=0, elem_id="generate-width", **described("width", info=limited(
                        "width", f"{engine.spec.max_side} px")))
                    num_frames = gr.Number(value=defaults.num_frames, precision=0, elem_id="generate-frames",
                                           **described("num_frames", info=limited("num_frames", engine.spec.max_frames)))
                    fps = gr.Number(value=defaults.fps, precision=0, **described("fps"))
                with gr.Row():
                    flow_shift = gr.Number(value=defaults.flow_shift, **described("flow_shift"))
                    conditioning_scale = gr.Textbox(value="1.0", **described("conditioning_scale"))
                    control_fit = gr.Radio(list(CONTROL_FITS), value=defaults.control_fit, **described("control_fit"))
                    step_cache = gr.Number(value=0, minimum=0, maximum=1, **described("step_cache"))
                with gr.Row():
                    # A text box, empty for the model's own window: a number box shows an empty value as 0.
                    window_frames = gr.Textbox(value="", placeholder=f"empty: the model's own ({engine.native_window})",
                                               elem_id="generate-window", **described("window_frames"))
                    window_overlap = gr.Number(value=defaults.window_overlap, precision=0, **described("window_overlap"))
                    window_discard = gr.Number(value=defaults.window_discard, precision=0, **described("window_discard"))
                with gr.Row():
                    window_crossfade = gr.Number(value=defaults.window_crossfade, precision=0, minimum=0,
                                                 **described("window_crossfade"))
                    window_context = gr.Radio(list(WINDOW_CONTEXTS), value=defaults.window_context,
                                              **described("window_context"))
                # The two sliders share a row: as third columns their descriptions wrapped a word a line.
                with gr.Row():
                    window_noise = gr.Slider(0, 0.2, value=defaults.window_noise, step=0.01, **described("window_noise"))
                    window_color_match = gr.Slider(0, 1, value=defaults.window_color_match, step=0.05,
                                                   **described("window_color_match"))
                with gr.Row():
                    sampler = gr.Radio(list(SAMPLERS), value=defaults.sampler, **described("sampler"))
                    sigmas = gr.Textbox(value="", placeholder="empty: the sampler's own schedule", **described("sigmas"))
                # A row of its own: as a third column beside sampler and sigmas its description wrapped a word a line.
                guidance_stop = gr.Slider(0, 1, value=defaults.guidance_stop, step=0.05, elem_id="generate-guidance-stop",
                                          **described("guidance_stop"))
            with gr.Row():
                inspect_button = gr.Button("Inspect inputs")
                generate_button = gr.Button("Generate", variant="primary", elem_id="generate-run")
                stop_button = gr.Button("Stop", variant="secondary")
            first = engine.estimate(defaults, with_time=False)
            estimate = gr.Markdown(f"**Plan:** {first.text()}", elem_id="generate-estimate")
    with gr.Row():
        with gr.Column():
            with gr.Row():
                placed_reference = gr.Image(label="Reference as placed", height=220,
                                            interactive=False)
                received = gr.Gallery(label="Control frames as sampled", columns=2, height=220, object_fit="contain")
            received_text = gr.Markdown(label="What the model receives")
        with gr.Column():
            video = gr.Video(label="Result", height=300, autoplay=True, loop=True, elem_id="generate-result")
            # The progress bar shows here, not over the video: the last result stays in sight while the next is
            # made, to compare them (min_height leaves the bar room before the first table).
            timings = gr.Markdown(label="Timings and memory", min_height=90, elem_id="generate-timings")
            files = gr.File(label="Video and manifest", file_count="multiple")

    widgets = [reference, control, prompt, negative, guidance, steps, seed, lora, lora_scale,
               height, width, num_frames, fps, flow_shift, conditioning_scale, control_fit, step_cache, sampler,
               sigmas, window_frames, window_overlap, window_noise, window_color_match, window_discard, window_crossfade,
               window_context, guidance_stop, face_video, driving_video, background_video, mask_video]

    @user_errors
    def check_inputs(*values):
        """Read the inputs, or stop with the one-line reason. Before a generation its only output is a State, so
        a bad file gives the toast alone, not a red "Error" badge on every inspection panel."""
        return engine.inspect(build_request(engine, *values))

    @user_errors
    def on_inspect(*values):
        return render_inspection(check_inputs(*values))

    with_named_inputs(on_inspect, list(WIDGET_FIELDS), widgets)

    @user_errors
    @gpu_job("generate")
    def on_generate(*values, progress=gr.Progress()):
        *widget_values, cancel, previous = values
        cancel["stop"] = False
        request = build_request(engine, *widget_values)
        for note in inputs_or_sample(engine, *widget_values[:3])[3]:
            gr.Warning(note)
        out_dir = new_output_dir("generate")
        progress(0, desc="loading model and encoding inputs")

        window = {"text": ""}

        def on_window(index, count):
            window["text"] = f"window {index} of {count}, "

        def on_step(step, total):
            progress((step, total), desc=f"{window['text']}denoising step {step}/{total}", unit="steps")

        try:
            result = engine.generate(request, on_step=on_step, should_stop=lambda: cancel["stop"], out_dir=out_dir,
                                     on_window=on_window)
        except GenerationCancelled as err:
            if err.saved_video:  # a long video keeps its finished windows
                gr.Info(f"Stopped: {err}.")
                shown = (err.saved_video, f"Stopped: {err}.", [err.saved_video])
                return (*shown, shown)
            if previous:  # the last finished video stays on screen
                gr.Info(f"Stopped: {err}. The previous result stays.")
                video_path, text, downloads = previous
                return video_path, f"Stopped: {err}. Shown: the previous result.\n\n{text}", downloads, previous
            gr.Info(f"Stopped: {err}. Nothing was saved.")
            return None, f"Stopped: {err}.", None, previous
        name = (f"vace-{engine.spec.name}-{download_stem(request.control_video, 'pose')}-seed{request.seed}"
                f"-cfg{request.guidance_scale:g}-{request.num_inference_steps}steps-{time.strftime('%Y%m%d-%H%M')}")
        downloads = [named_copy(result.video_path, f"{name}.mp4"),
                     named_copy(out_dir / "manifest.json", f"{name}-manifest.json")]
        shown = (result.video_path, render_timings(result), downloads)
        return (*shown, shown)

    with_named_inputs(on_generate, list(WIDGET_FIELDS), widgets, extra=("cancel", "previous"), progress=True)

    negative_preset.change(lambda name: negatives[name], negative_preset, negative, queue=False,
                           api_visibility="private")

    inspected = [placed_reference, received, received_text]
    # A failed inspection marks its text panel only (the toast says why), not the two image panels too.
    inspect_button.click(on_inspect, widgets, inspected, api_name="inspect", concurrency_id="inspect",
                         concurrency_limit=4, show_progress_on=received_text)
    # Generate shows what the model receives first, then runs the model (one job at a time, queued).
    generate_button.click(check_inputs, widgets, checked, api_visibility="private", concurrency_id="inspect",
                          concurrency_limit=4).success(
        render_inspection, checked, inspected, api_visibility="private", queue=False).success(
        on_generate, widgets + [cancel_flag, last_result], [video, timings, files, last_result], api_name="generate",
        concurrency_id="model", show_progress_on=timings)
    stop_button.click(request_stop, cancel_flag, cancel_flag, api_name="stop", queue=False)
    sizes = [height, width, num_frames, steps, guidance, guidance_stop, window_frames, window_overlap]
    for widget in sizes:
        widget.change(lambda *values: estimate_text(engine, *values), widgets, estimate, queue=False,
                      api_visibility="private", show_progress="hidden")
    lora.focus(lambda: gr.Dropdown(choices=lora_choices()), None, lora, queue=False, api_visibility="private")
    profile.change(user_errors(lambda name: profile_widget_values(engine, name)), profile,
                   [steps, guidance, flow_shift, sampler, sigmas, step_cache, profile_note], queue=False,
                   api_visibility="private")
    lora.change(lambda value: profile_suggestion(engine, value), lora, profile_note, queue=False,
                api_visibility="private")
    lora.change(lora_prompt_note, lora, [lora_note, use_lora_prompt], queue=False, api_visibility="private")
    use_lora_prompt.click(lambda value: training_prompt(value) or gr.skip(), lora, prompt, queue=False,
                          api_visibility="private")

    with sample_slot:
        sample = gr.Examples(
            examples=sample_rows(sample_inputs, engine.other_sample_references()),
            inputs=[reference, control, prompt],
            label=("Samples: one click loads a reference picture and a dancing skeleton, and generates"
                   + ("; the rows differ only in the reference" if engine.other_sample_references() else "")),
        )
    # One click on the sample fills the inputs, shows what the model receives and generates, at the sample's
    # own frame count (the Pose tab may have set another).
    sample.load_input_event.then(lambda: defaults.num_frames, None, num_frames, queue=False,
                                 api_visibility="private").then(
        check_inputs, widgets, checked, api_visibility="private", concurrency_id="inspect",
        concurrency_limit=4).success(
        render_inspection, checked, inspected, api_visibility="private", queue=False).success(
        on_generate, widgets + [cancel_flag, last_result], [video, timings, files, last_result], api_visibility="private",
        concurrency_id="model", show_progress_on=timings)
    return {"prompt": prompt, "reference": reference, "control": control, "num_frames": num_frames,
            "face_video": face_video, "background_video": background_video, "mask_video": mask_video}
