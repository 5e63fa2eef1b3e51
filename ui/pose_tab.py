"""Pose tab: driving video -> DWPose-style skeleton video at the model's fps, frames and size, plus the
first frame as a reference; diagnostics of the extraction; then straight into Generate or Sweep."""

from __future__ import annotations

import inspect

import logging

import gradio as gr

from engine.pose.aist import try_parse_aist_name
from engine.paths import ASSETS_DIR
from engine.pose.extract import PoseCancelled, PoseRequest, extract_pose
from engine.pose.backends import default_backend
from ui.common import (with_named_inputs, download_stem, gpu_job, named_copy, new_cancel_flag, new_output_dir,
                       request_stop, user_errors)

logger = logging.getLogger(__name__)

PERSON_CHOICES = ["largest", "all", "0", "1", "2", "3"]


def build_pose_request(video, start, fps, num_frames, width, height, fit, reference_frame, backend, person,
                       body, hands, face, threshold, smoothing, fit_mode, fit_photo, keypoints, keypoints_fps,
                       keypoints_size, camera, face_crops=False, replace_inputs=False) -> PoseRequest:
    """Widget values -> a validated PoseRequest (ValueError names the bad value)."""
    if not video and not keypoints:
        raise ValueError("upload a driving video first (or keypoints to import)")
    if fit_mode != "off" and not fit_photo:
        raise ValueError("add a photo of the person to fit the skeleton to, or set the fit to off")
    request = PoseRequest(
        video=video or None, start=float(start or 0), fps=int(fps), num_frames=int(num_frames), width=int(width),
        height=int(height), fit=fit, reference_frame=int(reference_frame), backend=backend, person=str(person),
        body=bool(body), hands=bool(hands), face=bool(face), threshold=float(threshold), smoothing=float(smoothing),
        fit_to_reference=fit_mode, reference_image=fit_photo if fit_mode != "off" else None,
        keypoints=keypoints or None, keypoints_fps=float(keypoints_fps) if keypoints_fps else None,
        keypoints_size=keypoints_size or None, camera=int(camera) if camera else None, face_crops=bool(face_crops),
        replace_inputs=bool(replace_inputs),
    )
    return request


def aist_table(video) -> str:
    clip = try_parse_aist_name(video) if video else None
    if clip is None:
        return ""
    rows = "\n".join(f"| {name} | {value} |" for name, value in clip.table())
    return f"**AIST++ clip `{clip.name}`**\n\n| field | value |\n|---|---|\n{rows}"


def render_diagnostics(result) -> str:
    lines = [f"**{result.backend}**: {result.timings['detect_frames_per_s']:.1f} frames/s detection, "
             f"{result.timings['render_ms_per_frame']:.1f} ms/frame drawing"]
    lines += result.notes + result.diagnostics.summary_lines()
    if result.raw_diagnostics:
        lines.append(f"Smoothing: jitter {result.raw_diagnostics.jitter_px:.2f} -> "
                     f"{result.diagnostics.jitter_px:.2f} px/frame.")
    return "\n".join(f"- {line}" for line in lines)


def detection_figure(result):
    import plotly.graph_objects as go

    rates = result.diagnostics.body_detection_rate
    figure = go.Figure(go.Bar(x=list(rates), y=[100 * rate for rate in rates.values()], marker_color="#4c78a8"))
    figure.update_layout(title="Detection rate per joint over the clip", yaxis_title="% of frames",
                         yaxis_range=[0, 100], height=300, margin=dict(l=40, r=10, t=40, b=90))
    return figure


def build_pose_tab(engine, links):
    gr.Markdown(
        "Turn any driving video into the skeleton video Wan-VACE expects: DWPose / OpenPose limbs and colours "
        "on black, at the model's frame rate, frame count and size. The first frame comes out as a reference.")
    if engine.family.reads_driving_video:
        gr.Markdown("**This model needs no pose step.** Animate-2 reads the raw driving clip: give the clip itself to "
                    "Generate as its control. A skeleton made here is for VACE or Animate, say beside Animate-2 in a "
                    "sweep's model axis (`--driving` gives Animate-2 the clip there).", elem_id="pose-not-needed")
    cancel_flag = new_cancel_flag(links)
    outputs_state = gr.State({})
    # The model's own size and window: a skeleton drawn at another size is scaled on the way in and reaches the
    # model in other widths and shades (the toy's part colours: 0.52 drawn at 224x128, 0.43 drawn at 832x480;
    # research/toy_pose_sources.py).
    model = engine.default_request(**engine.sample_inputs())
    window_seconds = model.num_frames / model.fps
    with gr.Row():
        with gr.Column():
            video = gr.Video(label="Driving video (mp4, mov, webm, avi, gif)", sources=["upload"], height=240,
                             elem_id="pose-video")
            aist = gr.Markdown()
            with gr.Row():
                start = gr.Number(0, label="Start (s)", minimum=0, info="where in the video the clip begins")
                fps = gr.Number(model.fps, label="fps", precision=0, info=f"the model's: {model.fps}")
                num_frames = gr.Number(model.num_frames, label="Frames", precision=0,
                                       info=f"4n+1; the model makes {model.num_frames} at a time "
                                            f"({window_seconds:.1f} s); up to 241, which Generate makes in sliding "
                                            "windows")
            with gr.Row():
                width = gr.Number(model.width, label="Width", precision=0, info="multiple of 16; the model's")
                height = gr.Number(model.height, label="Height", precision=0, info="multiple of 16; the model's")
                reference_frame = gr.Number(0, label="Reference frame", precision=0,
                                            info="which frame becomes first_frame.png")
            fit = gr.Radio(["pad", "crop"], value="pad", label="Fit to the model's size",
                           info="pad keeps the whole picture with black bars; crop fills the frame and cuts the sides")
            with gr.Row():
                backend = gr.Dropdown(["auto", "dwpose", "mediapipe"], value="auto", label="Backend",
                                      info=f"auto uses {default_backend()} here: DWPose where its models are on disk, "
                                           "else MediaPipe (offline)")
                person = gr.Dropdown(PERSON_CHOICES, value="largest", label="Person", allow_custom_value=True,
                                     info="whom to draw: the largest, everyone, or an index from the left")
            # An Animate model's skeletons are body and hands, its face comes as crops (Wan2.2's preprocessing).
            animate = engine.family.takes_face_video
            with gr.Row():
                body = gr.Checkbox(True, label="Body", info="OpenPose-18 limbs")
                hands = gr.Checkbox(animate, label="Hands", info="VACE's own annotator draws body + face; "
                                                                  "Animate's, body + hands")
                face = gr.Checkbox(not animate, label="Face", info="68 face points")
                face_crops = gr.Checkbox(animate, label="Face crops", elem_id="pose-face-crops",
                                         info="also face.mp4, the face cropped from each frame (512x512), which "
                                              "Animate models read for expression")
                replace_inputs = gr.Checkbox(False, label="Replace-mode inputs", elem_id="pose-replace-inputs",
                                             visible=engine.family.takes_replace_inputs,
                                             info="also background.mp4 (the clip without the person) and mask.mp4 "
                                                  "(where the person is): Animate's replace mode puts the "
                                                  "character into this clip's scene")
            with gr.Row():
                threshold = gr.Slider(0, 1, 0.3, step=0.05, label="Confidence threshold",
                                      info="points below it are not drawn")
                smoothing = gr.Slider(0, 5, 0, step=0.5, label="Temporal smoothing",
                                      info="Gaussian sigma in frames; 0 is off. Compare before/after below")
            with gr.Accordion("Fit the skeleton to the person you will animate", open=False):
                fit_photo = gr.Image(label="Their photo", type="filepath", sources=["upload"], height=200)
                fit_mode = gr.Radio(["off", "scale", "limbs"], value="off", label="Fit",
                                    info="scale: match size and position; limbs: also each bone's length")
            with gr.Accordion("Import keypoints instead (AIST++ COCO-17, body only)", open=False):
                keypoints = gr.File(label="Keypoints (.pkl, .npy, .npz, .json)", type="filepath",
                                    file_types=[".pkl", ".npy", ".npz", ".json"])
                with gr.Row():
                    keypoints_fps = gr.Number(None, label="Their fps", info="AIST++: 60; empty: from the file or video")
                    keypoints_size = gr.Textbox("", label="Their frame size WxH",
                                                info="AIST++: 1920x1080; empty: from the file or video")
                    camera = gr.Number(None, label="Camera 1-9", precision=0,
                                       info="for AIST++ files holding all nine views; empty: the name's cNN")
            with gr.Row():
                extract_button = gr.Button("Extract pose", variant="primary", elem_id="pose-extract")
                stop_button = gr.Button("Stop")
        with gr.Column():
            with gr.Row():
                pose_video = gr.Video(label="Pose video (what the model gets)", height=240, autoplay=True, loop=True)
                overlay_video = gr.Video(label="Overlay on the source", height=240, autoplay=True, loop=True)
            with gr.Row():
                first_frame = gr.Image(label="First frame (reference)", height=200, interactive=False)
                fit_preview = gr.Image(label="Reference | driving | fitted", height=200, interactive=False)
            diagnostics = gr.Markdown(label="Diagnostics", elem_id="pose-diagnostics")
            detection_plot = gr.Plot(label="Detection rate")
            before_after = gr.Video(label="Smoothing: before | after", height=200, autoplay=True, loop=True)
            files = gr.File(label="pose.mp4, overlay.mp4, first_frame.png, keypoints.json, manifest.json "
                                  "(and the Animate videos asked for)", file_count="multiple")
            with gr.Row():
                to_generate = gr.Button("Use in Generate")
                to_sweep = gr.Button("Use in Sweep", elem_id="pose-to-sweep")

    widgets = [video, start, fps, num_frames, width, height, fit, reference_frame, backend, person, body, hands,
               face, threshold, smoothing, fit_mode, fit_photo, keypoints, keypoints_fps, keypoints_size, camera,
               face_crops, replace_inputs]
    result_outputs = [pose_video, overlay_video, first_frame, fit_preview, diagnostics, detection_plot,
                      before_after, files, outputs_state]

    @user_errors
    @gpu_job("pose")
    def on_extract(*values, progress=gr.Progress()):
        *widget_values, cancel = values
        cancel["stop"] = False
        request = build_pose_request(*widget_values)
        out_dir = new_output_dir("pose")
        progress(0, desc="reading the video")
        try:
            result = extract_pose(request, out_dir, on_progress=lambda fraction, text: progress(fraction, desc=text),
                                  should_stop=lambda: cancel["stop"])
        except PoseCancelled as err:
            gr.Info(f"Stopped: {err}.")
            return [None] * (len(result_outputs) - 1) + [{}]
        stem = f"{download_stem(request.video or request.keypoints, 'clip')}-{request.fps}fps-{request.num_frames}f"
        downloads = [named_copy(result.pose_video, f"{stem}-pose.mp4"),
                     named_copy(result.overlay_video, f"{stem}-overlay.mp4"),
                     named_copy(result.first_frame, f"{stem}-first-frame.png"),
                     named_copy(result.keypoints, f"{stem}-keypoints.json"),
                     named_copy(result.manifest, f"{stem}-pose-manifest.json")]
        for name, extra in (("face", result.face_video), ("background", result.background_video),
                            ("mask", result.mask_video)):
            if extra:
                downloads.append(named_copy(extra, f"{stem}-{name}.mp4"))
        sent = {"control": str(result.pose_video), "reference": str(result.reference_for_generation),
                "num_frames": request.num_frames, "face": str(result.face_video) if result.face_video else None,
                "background": str(result.background_video) if result.background_video else None,
                "mask": str(result.mask_video) if result.mask_video else None}
        return (str(result.pose_video), str(result.overlay_video), str(result.first_frame),
                str(result.fit_preview) if result.fit_preview else None, render_diagnostics(result),
                detection_figure(result), str(result.before_after_video) if result.before_after_video else None,
                downloads, sent)

    def sent_to(tab_id):
        def send(sent):
            if not sent:
                raise gr.Error("extract a pose video first", print_exception=False)
            return sent["reference"], sent["control"], gr.Tabs(selected=tab_id)
        return send

    def send_to_generate(sent, prompt):
        """Generate gets the pose video's frame count too: the frames the student asked for, in sliding windows
        when they are more than the model's window (otherwise Generate would use only its first window). Its
        prompt is kept, or, when empty, filled with the sample's, which the student can then edit."""
        return (*sent_to("generate")(sent), sent.get("num_frames", model.num_frames),
                prompt if (prompt or "").strip() else engine.sample_inputs()["prompt"],
                sent.get("face") if engine.family.takes_face_video else None,
                *((sent.get("background"), sent.get("mask")) if engine.family.takes_replace_inputs else (None, None)))

    video.change(aist_table, video, aist, queue=False, api_visibility="private")
    with_named_inputs(on_extract, list(inspect.signature(build_pose_request).parameters), widgets, extra=("cancel",),
                      progress=True)
    extract_button.click(on_extract, widgets + [cancel_flag], result_outputs, api_name="pose",
                         concurrency_id="pose", concurrency_limit=2, show_progress_on=pose_video)
    stop_button.click(request_stop, cancel_flag, cancel_flag, queue=False, api_visibility="private")
    to_generate.click(send_to_generate, [outputs_state, links["generate"]["prompt"]],
                      [links["generate"]["reference"], links["generate"]["control"], links["tabs"],
                       links["generate"]["num_frames"], links["generate"]["prompt"], links["generate"]["face_video"],
                       links["generate"]["background_video"], links["generate"]["mask_video"]],
                      api_visibility="private")

    def connect_sweep():  # the Sweep tab is built after this one
        to_sweep.click(sent_to("sweep"), outputs_state,
                       [links["sweep"]["reference"], links["sweep"]["control"], links["tabs"]],
                       api_visibility="private")

    links.setdefault("after_build", []).append(connect_sweep)
    sample = gr.Examples(
        examples=[[str(ASSETS_DIR / "person.mp4"), 0, model.fps, 33, model.width, model.height]],
        inputs=[video, start, fps, num_frames, width, height],
        label="Sample: one click extracts the pose of a real person (the public-domain portrait of Grace Hopper) "
              "moving across the frame",
    )
    sample.load_input_event.then(on_extract, widgets + [cancel_flag], result_outputs, api_visibility="private",
                                 concurrency_id="pose", concurrency_limit=2)
    return {"video": video}
