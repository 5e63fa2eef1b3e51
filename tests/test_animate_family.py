"""The Animate family (engine/families/animate.py) through the engine, on the tiny random WanAnimate."""

import numpy as np
import pytest

from engine import media


@pytest.fixture
def animate_request(tiny_animate_engine, pose_mp4, reference_png):
    """A fast request: 9 frames at 64x112, 2 steps, Animate's own defaults otherwise."""
    return tiny_animate_engine.default_request(control_video=str(pose_mp4), reference=str(reference_png),
                                              prompt="a person dances", height=64, width=112, num_frames=9,
                                              num_inference_steps=2)


def test_the_model_preset_gives_animates_own_defaults(tiny_animate_engine, animate_request):
    assert tiny_animate_engine.family.name == "tiny-animate"
    assert (animate_request.guidance_scale, animate_request.flow_shift, animate_request.window_overlap) == (1.0, 5.0, 1)


def test_animate_generates_the_requested_frames_through_diffusers_pipeline(tiny_animate_engine, animate_request,
                                                                        tmp_path):
    from diffusers import WanAnimatePipeline

    assert isinstance(tiny_animate_engine.load(), WanAnimatePipeline)
    steps = []
    result = tiny_animate_engine.generate(animate_request, on_step=lambda s, t: steps.append((s, t)), out_dir=tmp_path)
    assert result.frames.shape == (9, 64, 112, 3)
    assert steps == [(1, 2), (2, 2)]
    assert media.read_video(tmp_path / "video.mp4").frames.shape == (9, 64, 112, 3)


def test_a_long_video_runs_in_animates_own_segments_and_counts_every_step(tiny_animate_engine, animate_request):
    request = animate_request.replace(num_frames=21, window_frames=9, window_overlap=1)
    plan = tiny_animate_engine.window_plan(request)
    assert [(w.start, w.keep_from, w.keep_to) for w in plan] == [(0, 0, 9), (8, 1, 9), (16, 1, 5)]
    steps = []
    result = tiny_animate_engine.generate(request, on_step=lambda s, t: steps.append((s, t)))
    assert result.frames.shape == (21, 64, 112, 3)
    assert steps[-1] == (6, 6)  # 2 steps in each of the 3 segments


def test_a_face_video_changes_the_video_and_is_said_in_inspect(tiny_animate_engine, animate_request, tmp_path):
    rng = np.random.default_rng(0)
    faces = media.write_mp4(rng.integers(0, 255, (9, 40, 40, 3), dtype=np.uint8), tmp_path / "face.mp4", 16)
    with_face = animate_request.replace(face_video=str(faces))
    blank = tiny_animate_engine.inspect(animate_request).notes
    assert any("No face video" in note for note in blank)
    assert any("Face video: 9 crops of 40x40" in note for note in tiny_animate_engine.inspect(with_face).notes)
    a = tiny_animate_engine.generate(animate_request).frames.astype(int)
    b = tiny_animate_engine.generate(with_face).frames.astype(int)
    assert np.abs(a - b).mean() > 0.1


@pytest.mark.parametrize("changes, named", [
    ({"reference": None}, "reference image"),
    ({"conditioning_scale": 0.5}, "conditioning_scale"),
    ({"guidance_stop": 0.5}, "guidance_stop"),
    ({"step_cache": 0.1}, "step_cache"),
    ({"window_crossfade": 1, "window_overlap": 5}, "window_crossfade"),
    ({"window_context": "latents"}, "window_context"),
])
def test_a_field_animate_does_not_take_is_refused_in_one_line(tiny_animate_engine, animate_request, changes, named):
    with pytest.raises(ValueError, match=named) as caught:
        tiny_animate_engine.generate(animate_request.replace(**changes))
    assert "\n" not in str(caught.value)


def test_replace_mode_draws_into_the_background_video_where_the_mask_is(tiny_animate_engine, animate_request,
                                                                        tmp_path):
    frames = media.read_video(animate_request.control_video).frames
    mask = np.zeros_like(frames)
    mask[:, :, frames.shape[2] // 3: 2 * frames.shape[2] // 3] = 255
    background = media.write_mp4(np.full_like(frames, 90), tmp_path / "background.mp4", 16)
    replace = animate_request.replace(background_video=str(background),
                                      mask_video=str(media.write_mp4(mask, tmp_path / "mask.mp4", 16)))
    assert any("Replace mode" in note for note in tiny_animate_engine.inspect(replace).notes)
    a = tiny_animate_engine.generate(animate_request).frames.astype(int)
    b = tiny_animate_engine.generate(replace).frames.astype(int)
    assert b.shape == (9, 64, 112, 3) and np.abs(a - b).mean() > 0.1
    with pytest.raises(ValueError, match="background video and a mask video together"):
        animate_request.replace(background_video=str(background))


def test_a_vace_model_refuses_replace_inputs(tiny_engine, tiny_request, pose_mp4):
    with pytest.raises(ValueError, match="replace mode"):
        tiny_engine.inspect(tiny_request.replace(background_video=str(pose_mp4), mask_video=str(pose_mp4)))


def test_a_vace_model_refuses_a_face_video(tiny_engine, tiny_request, pose_mp4):
    with pytest.raises(ValueError, match="face video is for Animate models"):
        tiny_engine.inspect(tiny_request.replace(face_video=str(pose_mp4)))


def test_a_lora_loads_on_animate_and_strength_zero_is_the_pretrained_video(tiny_animate_engine, animate_request,
                                                                         tmp_path):
    from diffusers import WanAnimatePipeline
    from peft import LoraConfig, get_peft_model_state_dict

    transformer = tiny_animate_engine.load().transformer
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_v"], init_lora_weights=False),
                            adapter_name="made-here")
    state = get_peft_model_state_dict(transformer, adapter_name="made-here")
    transformer.delete_adapters("made-here")
    assert any(key.startswith("face_adapter.") for key in state)  # Animate's own layers are adapted too
    WanAnimatePipeline.save_lora_weights(tmp_path, transformer_lora_layers=state)
    lora = str(tmp_path / "pytorch_lora_weights.safetensors")
    base = tiny_animate_engine.generate(animate_request).frames.astype(int)
    zero = tiny_animate_engine.generate(animate_request.replace(lora=lora, lora_scale=0.0)).frames.astype(int)
    full = tiny_animate_engine.generate(animate_request.replace(lora=lora, lora_scale=1.0)).frames.astype(int)
    tiny_animate_engine.generate(animate_request)  # leaves the LoRA off for the tests after this one
    assert np.array_equal(base, zero)
    assert np.abs(base - full).mean() > 0.5


def test_the_manifest_names_the_family(tiny_animate_engine, animate_request, tmp_path):
    import json

    tiny_animate_engine.generate(animate_request, out_dir=tmp_path)
    model = json.loads((tmp_path / "manifest.json").read_text())["model"]
    assert (model["name"], model["family"]) == ("tiny-animate", "tiny-animate")
