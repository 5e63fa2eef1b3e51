"""The app through Gradio's real queue and HTTP API, with the tiny engine."""

import re
import threading
import time
from pathlib import Path

import pytest

from engine import media


def widget_values(reference, control_video, **changes):
    """The Generate tab's inputs by name (the API's parameter names are the request's fields), small sizes."""
    return dict(reference=reference, control_video=control_video, prompt="a man dancing", negative_prompt="blurry",
                num_inference_steps=3, height=64, width=112, num_frames=9) | changes


def files(reference_png, pose_mp4):
    from gradio_client import handle_file

    return handle_file(str(reference_png)), handle_file(str(pose_mp4))


def test_page_names_the_tiny_engine(app_url):
    import httpx

    config = httpx.get(app_url + "config").text
    assert "Random weights: the output is noise" in config
    # The Window box starts empty and says what empty means (a number box showed 0 there).
    assert "empty: the model's own (17)" in config
    assert "Generate" in config


def test_generate_returns_the_video_timings_and_manifest(client, reference_png, pose_mp4):
    video, timings, outputs = client.predict(**widget_values(*files(reference_png, pose_mp4)), api_name="/generate")
    clip = media.read_video(video)
    assert len(clip.frames) == 9 and clip.fps == 16.0
    assert "9 frames at 16 fps" in timings and "s/step" in timings
    names = sorted(p.rsplit("/", 1)[-1] for p in outputs)  # named for what they are
    assert re.fullmatch(r"vace-tiny-pose-seed1-cfg5-3steps-\d{8}-\d{4}-manifest\.json", names[0]), names
    assert names[1] == names[0].replace("-manifest.json", ".mp4")


def test_inspect_shows_the_placed_reference_and_numbers(client, reference_png, pose_mp4):
    reference, frames, text = client.predict(**widget_values(*files(reference_png, pose_mp4), num_frames=81),
                                             api_name="/inspect")
    assert reference and len(frames) == 4
    assert "81 frames at 16 fps" in text and "nothing is cropped" in text and "repeat its final frame" in text


def test_bad_input_is_one_line_and_the_app_keeps_serving(client, reference_png, pose_mp4, tmp_path):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="num_frames must be 4n\\+1, got 80; nearest valid: 77 or 81"):
        client.predict(**widget_values(*files(reference_png, pose_mp4), num_frames=80), api_name="/generate")
    with pytest.raises(AppError, match="height must be a multiple of 16"):
        client.predict(**widget_values(*files(reference_png, pose_mp4), height=100), api_name="/generate")
    with pytest.raises(AppError, match="num_frames must be at most 241 for this model, got 100001"):
        client.predict(**widget_values(*files(reference_png, pose_mp4), num_frames=100001), api_name="/inspect")
    with pytest.raises(AppError, match="num_frames must be at most 241 for this model, got 100001"):
        client.predict(**widget_values(*files(reference_png, pose_mp4), num_frames=100001), api_name="/generate")
    with pytest.raises(AppError, match="window_frames must be an integer, got 'nine'"):
        client.predict(**widget_values(*files(reference_png, pose_mp4), window_frames="nine"), api_name="/inspect")
    from gradio_client import handle_file

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"definitely not a png")
    with pytest.raises(AppError, match="cannot read the image"):
        client.predict(**widget_values(handle_file(str(broken)), files(reference_png, pose_mp4)[1]),
                       api_name="/inspect")
    video, _, _ = client.predict(**widget_values(*files(reference_png, pose_mp4)), api_name="/generate")
    assert video.endswith(".mp4")


def test_the_api_names_every_parameter_and_runs_with_no_arguments(client):
    parameters = client.view_api(print_info=False, return_format="dict")["named_endpoints"]["/generate"]["parameters"]
    names = [p["parameter_name"] for p in parameters]
    assert names[:4] == ["reference", "control_video", "prompt", "negative_prompt"] and "param_0" not in names
    assert {"guidance_scale", "num_inference_steps", "seed", "lora_scale"} <= set(names)
    assert all(p["parameter_has_default"] for p in parameters)
    video, timings, _ = client.predict(num_inference_steps=2, api_name="/generate")  # the sample, defaults
    assert video.endswith(".mp4") and "frames at 16 fps" in timings
    assert "/on_load" not in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_the_api_takes_a_reference_alone_as_the_page_does(client, reference_png):
    """The page always has a control (the sample's skeleton); an API call naming only a reference gets it too."""
    from gradio_client import handle_file

    video, timings, _ = client.predict(reference=handle_file(str(reference_png)), num_inference_steps=2,
                                       api_name="/generate")
    assert video.endswith(".mp4") and "frames at 16 fps" in timings


def test_stop_cancels_a_running_generation_and_keeps_the_previous_result(app_url, reference_png, pose_mp4):
    from gradio_client import Client

    session = Client(app_url, verbose=False)  # a fresh page: nothing generated yet
    inputs = widget_values(*files(reference_png, pose_mp4), num_frames=33, height=128, width=224)

    def stopped_run():
        job = session.submit(**{**inputs, "num_inference_steps": 100}, api_name="/generate")
        deadline = time.time() + 60
        while time.time() < deadline and not (job.status().progress_data or []):
            time.sleep(0.2)  # wait until denoising has started
        session.predict(api_name="/stop")
        return job.result(timeout=120)

    video, message, outputs = stopped_run()
    assert video is None and outputs is None
    assert message.startswith("Stopped: cancelled after") and "of 100 steps" in message
    finished, _, _ = session.predict(**{**inputs, "num_inference_steps": 2}, api_name="/generate")
    video, message, outputs = stopped_run()
    assert Path(video).read_bytes() == Path(finished).read_bytes()  # still on screen
    assert "Shown: the previous result" in message and outputs


def test_two_sessions_each_get_their_own_results(app_url, reference_png, pose_mp4):
    from gradio_client import Client

    results = {}

    def run(seed):
        session = Client(app_url, verbose=False)
        results[seed] = session.predict(**widget_values(*files(reference_png, pose_mp4), seed=seed),
                                        api_name="/generate")

    threads = [threading.Thread(target=run, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert "seed 1" in results[1][1] and "seed 2" in results[2][1]
    assert results[1][0] != results[2][0]


def test_every_control_has_a_short_info_text(tiny_engine):
    import gradio as gr

    from app import build_app

    demo = build_app(tiny_engine)
    with_info = (gr.Textbox, gr.Number, gr.Slider, gr.Dropdown, gr.Radio, gr.Checkbox, gr.CheckboxGroup)
    missing = [f"{type(block).__name__} {block.label!r}" for block in demo.blocks.values()
               if isinstance(block, with_info) and block.interactive is not False and not block.info]
    assert missing == []


def test_every_api_output_has_a_name(client):
    """The API page names each output (the Generate timings read 'value_78' before)."""
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    unnamed = {name: [r["label"] for r in endpoint["returns"] if re.fullmatch(r"value_\d+", r["label"] or "")]
               for name, endpoint in endpoints.items()}
    assert not {name: labels for name, labels in unnamed.items() if labels}


def test_history_opens_a_generation_made_on_the_page(client):
    client.predict(num_inference_steps=2, seed=7, api_name="/generate")
    from ui.history_tab import other_work_choices

    title, value = next((t, v) for t, v in other_work_choices() if v.startswith("generate/"))
    assert title.startswith("generation: ") and ", seed 7, " in title
    video, summary, files = client.predict(value, api_name="/history_open_work")
    assert video.endswith(".mp4") and "| Seed | 7 |" in summary and len(files) == 2
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="no generation or training run '../../etc'"):
        client.predict("../../etc", api_name="/history_open_work")
