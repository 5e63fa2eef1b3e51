import json

import numpy as np
import pytest
import torch

from engine import media
from engine.engine import Engine, GenerationCancelled


def test_inspect_shows_what_the_model_receives(tiny_engine, tiny_request):
    inspection = tiny_engine.inspect(tiny_request.replace(num_frames=81, fps=16))
    ref = np.asarray(inspection.reference)
    assert ref.shape == (64, 112, 3)
    box = inspection.reference_box
    assert box.height == 64 and box.width < 112  # portrait picture: full height, white side bars
    assert (ref[:, : box.left] == 255).all()
    assert inspection.num_frames == 81 and inspection.fps == 16
    assert inspection.source_frames == 49 and inspection.padded_frames == 32
    assert any("last 32 repeat its final frame" in note for note in inspection.notes)
    assert inspection.sample_indices[0] == 0 and inspection.sample_indices[-1] == 80
    assert all(frame.size == (112, 64) for frame in inspection.control_samples)
    assert inspection.prompt_tokens == tiny_engine.count_tokens(tiny_request.prompt) > 1
    assert not inspection.prompt_truncated


def test_inspect_flags_a_truncated_prompt(tiny_engine, tiny_request):
    long_prompt = "dancing " * 600
    inspection = tiny_engine.inspect(tiny_request.replace(prompt=long_prompt))
    assert inspection.prompt_truncated
    assert any("TRUNCATED" in line for line in inspection.summary_lines())


def test_same_request_and_seed_give_the_same_frames_and_another_seed_does_not(tiny_engine, tiny_request):
    first = tiny_engine.generate(tiny_request)
    again = tiny_engine.generate(tiny_request)
    other = tiny_engine.generate(tiny_request.replace(seed=2))
    assert first.frames.shape == (9, 64, 112, 3) and first.frames.dtype == np.uint8
    np.testing.assert_array_equal(first.frames, again.frames)
    assert not np.array_equal(first.frames, other.frames)


def test_second_request_differing_in_guidance_or_steps_reuses_encodings(tmp_path, tiny_request):
    engine = Engine.from_name("tiny")
    first = engine.generate(tiny_request.replace(prompt="a fresh prompt for this test"))
    assert first.cache_hits == {"prompt": False, "condition": False}
    assert first.timings["prompt_encode"] > 0 and first.timings["condition_encode"] > 0
    second = engine.generate(tiny_request.replace(prompt="a fresh prompt for this test", guidance_scale=2.0,
                                                  num_inference_steps=4))
    assert second.cache_hits == {"prompt": True, "condition": True}
    assert second.timings["condition_encode"] == 0.0
    # A cached result equals a freshly computed one.
    fresh = Engine.from_name("tiny").generate(second_request := tiny_request.replace(
        prompt="a fresh prompt for this test", guidance_scale=2.0, num_inference_steps=4))
    np.testing.assert_array_equal(second.frames, fresh.frames)
    assert second_request.num_inference_steps == 4


def test_timings_and_memory_are_reported(tiny_engine, tiny_request):
    result = tiny_engine.generate(tiny_request)
    for stage in ("prompt_encode", "condition_encode", "denoise", "s_per_step", "decode", "total"):
        assert result.timings[stage] >= 0
    assert result.timings["s_per_step"] == pytest.approx(result.timings["denoise"] / 3)
    assert result.timings["total"] >= result.timings["denoise"] + result.timings["decode"]
    assert result.peak_memory_mb > 0 and result.memory_kind == "process_peak_rss"


def test_progress_is_reported_every_step_and_stop_cancels(tiny_engine, tiny_request):
    seen = []
    tiny_engine.generate(tiny_request, on_step=lambda step, total: seen.append((step, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(GenerationCancelled, match="cancelled after 1 of 3 steps"):
        tiny_engine.generate(tiny_request, should_stop=lambda: True)
    # The engine keeps working after a cancel.
    assert tiny_engine.generate(tiny_request).num_frames == 9


def test_out_dir_gets_an_mp4_at_the_request_fps_and_a_manifest(tiny_engine, tiny_request, tmp_path):
    result = tiny_engine.generate(tiny_request.replace(fps=16), out_dir=tmp_path)
    clip = media.read_video(tmp_path / "video.mp4")
    assert len(clip.frames) == 9 and clip.fps == 16.0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["request"]["seed"] == tiny_request.seed
    assert manifest["request"]["guidance_scale"] == tiny_request.guidance_scale
    assert manifest["model"]["name"] == "tiny"
    assert manifest["model"]["speed"]["attention_backend"] == "native" and not manifest["model"]["speed"]["compile_blocks"]
    assert manifest["output"] == {"video": "video.mp4", "num_frames": 9, "fps": 16, "height": 64, "width": 112}
    assert manifest["packages"]["diffusers"] and manifest["packages"]["torch"]
    assert set(manifest["timings_s"]) >= {"prompt_encode", "condition_encode", "s_per_step", "decode", "total"}
    assert result.video_path == str(tmp_path / "video.mp4")


def test_without_reference_and_without_guidance(tiny_engine, tiny_request):
    result = tiny_engine.generate(tiny_request.replace(reference=None, guidance_scale=1.0))
    assert result.num_frames == 9
    inspection = tiny_engine.inspect(tiny_request.replace(reference=None, guidance_scale=1.0))
    assert inspection.reference is None and not inspection.uses_cfg


def test_conditioning_scale_per_layer(tiny_engine, tiny_request):
    base = tiny_engine.generate(tiny_request)
    per_layer = tiny_engine.generate(tiny_request.replace(conditioning_scale=[1.0, 1.0]))
    np.testing.assert_array_equal(base.frames, per_layer.frames)
    weaker = tiny_engine.generate(tiny_request.replace(conditioning_scale=[0.0, 0.5]))
    assert not np.array_equal(base.frames, weaker.frames)
    with pytest.raises(ValueError, match="conditioning_scale has 3 values but this model has 2 VACE layers"):
        tiny_engine.generate(tiny_request.replace(conditioning_scale=[1.0, 1.0, 1.0]))


def test_flow_shift_changes_the_schedule(tiny_engine, tiny_request):
    base = tiny_engine.generate(tiny_request.replace(flow_shift=3.0))
    shifted = tiny_engine.generate(tiny_request.replace(flow_shift=16.0))
    assert not np.array_equal(base.frames, shifted.frames)
    np.testing.assert_array_equal(tiny_engine.generate(tiny_request.replace(flow_shift=3.0)).frames, base.frames)


LORA_FORMATS = ["diffusers", "diffsynth", "diffsynth_trainer", "original", "comfyui", "musubi",
                "vace_diffusers", "vace_diffsynth_trainer", "vace_comfyui"]


@pytest.mark.parametrize("fmt", LORA_FORMATS)
def test_lora_formats_load_and_strength_zero_equals_base(tiny_engine, tiny_request, lora_files, fmt):
    base = tiny_engine.generate(tiny_request)
    with_lora = tiny_engine.generate(tiny_request.replace(lora=str(lora_files[fmt]), lora_scale=1.0))
    assert with_lora.lora_sha256 and not np.array_equal(with_lora.frames, base.frames)
    zero = tiny_engine.generate(tiny_request.replace(lora=str(lora_files[fmt]), lora_scale=0.0))
    np.testing.assert_array_equal(zero.frames, base.frames)
    # Turning the LoRA off again restores the base output.
    np.testing.assert_array_equal(tiny_engine.generate(tiny_request).frames, base.frames)


def test_all_lora_formats_give_the_same_weights(tiny_engine, tiny_request, lora_files):
    """The comfyui file has alpha = rank / 2 and doubled up matrices: the same only if alpha is applied."""
    def frames(fmt):
        return tiny_engine.generate(tiny_request.replace(lora=str(lora_files[fmt]), lora_scale=0.7)).frames

    main = frames("diffusers")
    for fmt in ("diffsynth", "diffsynth_trainer", "original", "comfyui", "musubi"):
        np.testing.assert_allclose(frames(fmt), main, atol=1, err_msg=fmt)
    vace = frames("vace_diffusers")
    for fmt in ("vace_diffsynth_trainer", "vace_comfyui"):
        np.testing.assert_allclose(frames(fmt), vace, atol=1, err_msg=fmt)


def test_a_lora_exported_for_comfyui_reads_back_the_same(tiny_engine, tiny_request, lora_files, tmp_path):
    from engine.lora_formats import export_comfyui

    for fmt in ("diffusers", "vace_diffusers"):
        exported = export_comfyui(lora_files[fmt], tmp_path / f"{fmt}_comfyui.safetensors")
        ours, theirs = (tiny_engine.generate(tiny_request.replace(lora=str(path), lora_scale=1.0)).frames
                        for path in (lora_files[fmt], exported))
        np.testing.assert_allclose(theirs, ours, atol=1, err_msg=fmt)


def test_changing_strength_does_not_reload(tiny_request, lora_files, monkeypatch):
    engine = Engine.from_name("tiny")
    pipe = engine.load()
    loads = []
    original = pipe.load_lora_weights
    monkeypatch.setattr(pipe, "load_lora_weights", lambda *a, **k: (loads.append(1), original(*a, **k))[1])
    outputs = [engine.generate(tiny_request.replace(lora=str(lora_files["diffusers"]), lora_scale=s)).frames
               for s in (0.3, 0.7, 1.0, 1.5)]
    assert len(loads) == 1
    assert all(not np.array_equal(a, b) for a, b in zip(outputs, outputs[1:]))


def test_bad_loras_get_one_line_reasons_and_the_engine_keeps_working(tiny_engine, tiny_request, lora_files):
    with pytest.raises(ValueError, match="none of its keys names a layer of Wan"):
        tiny_engine.generate(tiny_request.replace(lora=str(lora_files["other_model"])))
    with pytest.raises(ValueError, match="ComfyUI / Kohya.*for another model size: layer blocks\\.\\d+\\.\\S+ is 48->48 in the file and 24->24 in tiny"):
        tiny_engine.generate(tiny_request.replace(lora=str(lora_files["other_size"])))
    with pytest.raises(ValueError, match="mixes LoRA formats"):
        tiny_engine.generate(tiny_request.replace(lora=str(lora_files["mixed"])))
    with pytest.raises(ValueError, match="only .safetensors"):
        tiny_engine.generate(tiny_request.replace(lora=str(lora_files["pickled"])))
    assert tiny_engine.generate(tiny_request).num_frames == 9


def test_nan_output_is_reported_not_saved(tiny_engine, tiny_request, lora_files, tmp_path):
    with pytest.raises(RuntimeError, match="NaN"):
        tiny_engine.generate(tiny_request.replace(lora=str(lora_files["nan"])), out_dir=tmp_path / "nan")
    assert not (tmp_path / "nan" / "video.mp4").exists()


def test_out_of_memory_names_what_to_lower(tiny_engine, tiny_request, monkeypatch):
    pipe = tiny_engine.load()

    def out_of_memory(*args, **kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    monkeypatch.setattr(type(pipe), "__call__", out_of_memory)
    with pytest.raises(RuntimeError, match="out of GPU memory at 112x64x9: lower the size or the frame count"):
        tiny_engine.generate(tiny_request)


def test_bad_control_files_fail_before_model_work(tiny_engine, tiny_request, tmp_path):
    (tmp_path / "broken.mp4").write_bytes(b"garbage" * 100)
    with pytest.raises(ValueError, match="broken.mp4: cannot"):
        tiny_engine.generate(tiny_request.replace(control_video=str(tmp_path / "broken.mp4")))
    (tmp_path / "photo.txt").write_text("x")
    with pytest.raises(ValueError, match="not an image file"):
        tiny_engine.inspect(tiny_request.replace(reference=str(tmp_path / "photo.txt")))


def test_missing_weights_give_a_clear_message(tiny_request):
    engine = Engine.from_name("wan-vace-1.3b")
    with pytest.raises(RuntimeError, match="could not load model 'Wan-AI/Wan2.1-VACE-1.3B-diffusers'.*--model auto picks a model built in this lab"):
        engine.load()


def test_compiled_blocks_hotswap_loras_and_change_strength_without_recompiling(lora_files, pose_mp4, reference_png):
    """Regional torch.compile with LoRA hotswap (about 40 s on a CPU: the first call compiles)."""
    from torch._dynamo.utils import counters

    engine = Engine.from_name("tiny", compile_blocks=True, lora_max_rank=8)
    request = engine.default_request(control_video=str(pose_mp4), reference=str(reference_png), prompt="x",
                                     height=64, width=112, num_frames=9, num_inference_steps=2)
    plain = Engine.from_name("tiny")
    base = plain.generate(request).frames
    compiled_base = engine.generate(request).frames
    assert np.abs(compiled_base.astype(int) - base.astype(int)).max() <= 2  # compiled kernels round differently
    engine.generate(request.replace(lora=str(lora_files["diffusers"]), lora_scale=1.0))
    engine.generate(request.replace(lora=str(lora_files["diffusers"]), lora_scale=0.5))  # the scale turns dynamic
    graphs = counters["stats"]["unique_graphs"]
    engine.generate(request.replace(lora=str(lora_files["diffusers"]), lora_scale=0.25))
    engine.generate(request.replace(lora=str(lora_files["diffusers_b"]), lora_scale=0.7))  # hotswapped in
    engine.generate(request)  # no LoRA: strength 0 in the slot
    assert counters["stats"]["unique_graphs"] == graphs


def test_an_attention_backend_from_the_spec_is_applied(pose_mp4, reference_png):
    """_native_math (PyTorch's reference SDPA kernel) runs on a CPU; flash, sage and cuDNN need a GPU."""
    plain = Engine.from_name("tiny")
    math_backend = Engine.from_name("tiny", attention_backend="_native_math")
    request = plain.default_request(control_video=str(pose_mp4), reference=str(reference_png), prompt="x",
                                    height=64, width=112, num_frames=9, num_inference_steps=2)
    processor = math_backend.load().transformer.blocks[0].attn1.processor
    assert processor._attention_backend == "_native_math"  # a str enum
    difference = np.abs(plain.generate(request).frames.astype(int) - math_backend.generate(request).frames.astype(int))
    assert difference.max() <= 2  # the same attention, computed by another kernel


def test_an_attention_backend_that_is_not_installed_is_a_one_line_error(pose_mp4, reference_png):
    engine = Engine.from_name("tiny", attention_backend="sage")
    with pytest.raises(RuntimeError, match="attention backend 'sage' is not available here"):
        engine.load()


def test_euler_and_explicit_sigmas_change_the_video_and_unipc_comes_back(tiny_engine, tiny_request):
    base = tiny_engine.generate(tiny_request).frames
    euler = tiny_engine.generate(tiny_request.replace(sampler="euler")).frames
    explicit = tiny_engine.generate(tiny_request.replace(sampler="euler", sigmas=[1.0, 0.6, 0.2], flow_shift=1.0))
    assert not np.array_equal(euler, base) and not np.array_equal(explicit.frames, euler)
    pipe = tiny_engine.load()
    assert [round(float(s), 3) for s in pipe.scheduler.sigmas] == [1.0, 0.6, 0.2, 0.0]  # given, unshifted, then 0
    assert "set_timesteps" not in pipe.scheduler.__dict__  # the override ends with the call
    np.testing.assert_array_equal(tiny_engine.generate(tiny_request).frames, base)


def test_passes_per_step_counts_the_unguided_steps_below_the_guidance_stop(tiny_engine, tiny_request):
    request = tiny_request.replace(num_inference_steps=10, guidance_scale=5.0)
    assert tiny_engine.passes_per_step(request.replace(guidance_scale=1.0, guidance_stop=0.6)) == 1.0
    assert tiny_engine.passes_per_step(request) == 2.0
    # Flow shift 3 over 10 steps: noise levels 1, 0.96, 0.92, 0.88, 0.82, 0.75, 0.67, 0.56, 0.43, 0.25.
    assert tiny_engine.passes_per_step(request.replace(guidance_stop=0.6)) == pytest.approx(1.7)
    given = request.replace(guidance_stop=0.6, sampler="euler", num_inference_steps=4, sigmas=[1.0, 0.75, 0.5, 0.25])
    assert tiny_engine.passes_per_step(given.replace(flow_shift=1.0)) == pytest.approx(1.5)  # sigmas as given
    assert tiny_engine.passes_per_step(given) == pytest.approx(1.75)  # shift 3 moves 0.5 up to 0.75
    before = tiny_engine.generate(request.replace(num_inference_steps=2)).frames
    assert np.array_equal(tiny_engine.generate(request.replace(num_inference_steps=2)).frames, before)


def test_a_video_longer_than_its_window_comes_out_exactly_as_asked(tiny_engine, tiny_request, tmp_path):
    """9-frame windows with overlap 5 make 17 frames in 3 windows; the first window is the 9-frame video."""
    request = tiny_request.replace(num_frames=17, window_frames=9, num_inference_steps=2)
    windows, steps = [], []
    result = tiny_engine.generate(request, on_step=lambda s, t: steps.append((s, t)),
                                  on_window=lambda i, n: windows.append((i, n)), out_dir=tmp_path)
    assert result.frames.shape[0] == 17 and len(media.read_video(result.video_path).frames) == 17
    assert windows == [(1, 3), (2, 3), (3, 3)] and steps[-1] == (6, 6) and len(result.timings["windows"]) == 3
    one_window = tiny_engine.generate(request.replace(num_frames=9, window_frames=None))
    np.testing.assert_array_equal(result.frames[:9], one_window.frames)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert [w["start"] for w in manifest["windows"]] == [0, 4, 8]


def test_the_same_inputs_in_windows_of_another_size_are_encoded_again(tiny_engine, tiny_request):
    """The first window's conditioning is cached by content: a second long video from the same files in larger
    windows must not reuse the smaller window's latents (it failed with a tensor size mismatch)."""
    request = tiny_request.replace(num_frames=17, window_frames=5, window_overlap=1, num_inference_steps=1)
    tiny_engine.generate(request)
    larger = tiny_engine.generate(request.replace(window_frames=9))
    assert larger.frames.shape[0] == 17
    alone = tiny_engine.generate(request.replace(num_frames=9, window_frames=None))
    np.testing.assert_array_equal(larger.frames[:9], alone.frames)


def test_a_crossfade_blends_from_the_first_overlap_on(tiny_engine, tiny_request):
    request = tiny_request.replace(num_frames=17, window_frames=9, num_inference_steps=2)
    plain = tiny_engine.generate(request).frames
    faded = tiny_engine.generate(request.replace(window_crossfade=5)).frames
    changed = [i for i in range(17) if not np.array_equal(plain[i], faded[i])]
    # The first window's own frames stay; the overlap of window 2 (frames 4-8) fades; window 3 then continues
    # the faded frames, so it changes too.
    assert changed[0] == 4 and set(range(4, 9)) <= set(changed)
    with pytest.raises(ValueError, match=r"window_crossfade must be between 0 and the overlap \(5 frames\), got 6"):
        tiny_engine.generate(request.replace(window_crossfade=6))


def test_a_window_with_latent_context_decodes_the_frames_it_continues_from_their_own_latents(
        tiny_engine, tiny_request, monkeypatch):
    """window_context=latents: at the last step the held latent frames are exactly the kept frames' latents, so
    the window decodes its first frames as the VAE alone would (its causal decoder gives each frame from the
    latents up to it)."""
    import torch

    from engine.engine import Engine

    runs = []
    run_pipeline = Engine._run_pipeline

    def recorded(self, *args, **kwargs):
        frames, times = run_pipeline(self, *args, **kwargs)
        runs.append((kwargs.get("kept_frames"), frames))
        return frames, times

    monkeypatch.setattr(Engine, "_run_pipeline", recorded)
    request = tiny_request.replace(num_frames=13, window_frames=9, num_inference_steps=2, window_context="latents")
    assert tiny_engine.generate(request).frames.shape[0] == 13
    (first_kept, _), (kept, frames) = runs
    assert first_kept is None and kept.shape[0] == 5
    vae = tiny_engine.load().vae
    video = torch.from_numpy(kept).permute(3, 0, 1, 2)[None].float().div(127.5).sub(1)
    with torch.no_grad():
        alone = vae.decode(vae.encode(video).latent_dist.mode()).sample[0].permute(1, 2, 3, 0)
    alone = ((alone.clamp(-1, 1) + 1) * 127.5).numpy()
    assert np.abs(frames[:5].astype(np.float32) - alone).mean() < 1.5
    with pytest.raises(ValueError, match="window_context must be one of control, latents, got 'pixels'"):
        tiny_engine.generate(request.replace(window_context="pixels"))


def test_stopping_a_long_video_keeps_its_finished_windows(tiny_engine, tiny_request, tmp_path):
    from engine.engine import GenerationCancelled

    request = tiny_request.replace(num_frames=17, window_frames=9, num_inference_steps=2)
    window = [0]
    with pytest.raises(GenerationCancelled, match="in window 3 of 3; the 2 finished window") as stopped:
        tiny_engine.generate(request, should_stop=lambda: window[0] == 3, out_dir=tmp_path,
                             on_window=lambda i, n: window.__setitem__(0, i))
    assert len(media.read_video(stopped.value.saved_video).frames) == 13
    assert json.loads((tmp_path / "manifest.json").read_text())["partial"] is True


def test_bad_window_settings_fail_before_any_model_work(tiny_engine, tiny_request):
    with pytest.raises(ValueError, match=r"window_overlap must be 4n\+1"):
        tiny_engine.generate(tiny_request.replace(num_frames=33, window_overlap=4))
    with pytest.raises(ValueError, match=r"window_frames \(33\) is longer than the video \(9 frames\)"):
        tiny_engine.generate(tiny_request.replace(window_frames=33))
    with pytest.raises(ValueError, match=r"window_overlap \(17\) must be smaller than the window \(17 frames\)"):
        tiny_engine.generate(tiny_request.replace(num_frames=33, window_overlap=17))


def test_warm_up_makes_one_short_video_of_the_sample_and_writes_nothing(tiny_engine, monkeypatch):
    from engine.paths import workspace

    before = sorted(workspace().rglob("*"))
    made = []
    generate = tiny_engine.generate
    monkeypatch.setattr(tiny_engine, "generate", lambda request, **kw: made.append(request) or generate(request, **kw))
    tiny_engine.warm_up()
    assert [(r.control_video, r.num_inference_steps) for r in made] == [(tiny_engine.sample_inputs()["control_video"], 1)]
    assert sorted(workspace().rglob("*")) == before


def test_a_reference_encoder_adds_its_tokens_to_the_prompt_and_changes_the_video(tiny_engine, tiny_request, monkeypatch):
    """A pipeline folder with reference_encoder/ (engine/reference_tokens.py): the positive prompt gets the
    reference's tokens, a request without a reference does not, and the video changes with them."""
    import numpy as np
    import torch
    from PIL import Image

    from engine.reference_tokens import ReferenceTokenEncoder, prompt_length

    pipe = tiny_engine.load()
    width = pipe.transformer.config.text_dim
    before = tiny_engine.generate(tiny_request).frames
    torch.manual_seed(0)
    encoder = ReferenceTokenEncoder(num_tokens=4, token_dim=width, channels=8, hidden=16)
    with torch.no_grad():
        encoder.readout[-1].bias.fill_(3.0)  # random small weights would barely move the tiny model
    monkeypatch.setattr(pipe, "lab_reference_encoder", encoder, raising=False)
    embeds = tiny_engine.prompt_embedding(tiny_request.prompt)
    image = Image.fromarray(np.full((64, 112, 3), 200, dtype=np.uint8))
    assert prompt_length(tiny_engine.with_reference_tokens(embeds, image)) == prompt_length(embeds) + 4
    assert tiny_engine.with_reference_tokens(embeds, None) is embeds
    after = tiny_engine.generate(tiny_request).frames
    assert np.abs(after.astype(np.float32) - before.astype(np.float32)).mean() > 0.5
