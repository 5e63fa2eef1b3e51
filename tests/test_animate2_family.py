"""The Animate-2 families (engine/families/animate2.py) through the engine, on the tiny random Wan-Animate-2:
diffusers' modular pipeline, run end to end on a CPU (flex attention's uncompiled path is affordable at this
size)."""

import json

import numpy as np
import pytest

from engine import media


@pytest.fixture
def animate2_request(tiny_animate2_engine, pose_mp4, reference_png):
    """A fast request: 9 frames at 64x112, 2 steps, Animate-2's own defaults otherwise."""
    return tiny_animate2_engine.default_request(control_video=str(pose_mp4), reference=str(reference_png),
                                               prompt="a person dances", height=64, width=112, num_frames=9,
                                               num_inference_steps=2)


def test_the_model_preset_gives_animate2s_own_defaults(tiny_animate2_engine, animate2_request):
    assert tiny_animate2_engine.family.name == "tiny-animate-2"
    assert (animate2_request.guidance_scale, animate2_request.sampler, animate2_request.flow_shift,
            animate2_request.fps, animate2_request.window_overlap) == (3.0, "euler", 5.0, 24, 1)


def test_animate2_generates_the_requested_frames_through_diffusers_modular_pipeline(
        tiny_animate2_engine, animate2_request, tmp_path):
    from diffusers.modular_pipelines import WanAnimate2ModularPipeline

    assert isinstance(tiny_animate2_engine.load().runner, WanAnimate2ModularPipeline)
    steps = []
    result = tiny_animate2_engine.generate(animate2_request, on_step=lambda s, t: steps.append((s, t)),
                                           out_dir=tmp_path)
    assert result.frames.shape == (9, 64, 112, 3)
    assert steps == [(1, 2), (2, 2)]
    assert media.read_video(tmp_path / "video.mp4").frames.shape == (9, 64, 112, 3)
    model = json.loads((tmp_path / "manifest.json").read_text())["model"]
    assert (model["name"], model["family"]) == ("tiny-animate-2", "tiny-animate-2")


def test_guidance_runs_the_second_pass_and_changes_the_video(tiny_animate2_engine, animate2_request):
    guided = tiny_animate2_engine.generate(animate2_request).frames.astype(int)
    unguided = tiny_animate2_engine.generate(animate2_request.replace(guidance_scale=1.0)).frames.astype(int)
    assert np.abs(guided - unguided).mean() > 0.1


def test_a_long_video_runs_in_animate2s_own_segments_and_counts_every_step(tiny_animate2_engine, animate2_request):
    request = animate2_request.replace(num_frames=17, window_frames=9, window_overlap=1)
    plan = tiny_animate2_engine.window_plan(request)
    assert [(w.start, w.keep_from, w.keep_to) for w in plan] == [(0, 0, 9), (8, 1, 9)]
    steps = []
    result = tiny_animate2_engine.generate(request, on_step=lambda s, t: steps.append((s, t)))
    assert result.frames.shape == (17, 64, 112, 3)
    assert steps[-1] == (4, 4)  # 2 steps in each of the 2 segments


def test_stop_between_steps_cancels_animate2(tiny_animate2_engine, animate2_request):
    from engine.engine import GenerationCancelled

    with pytest.raises(GenerationCancelled):
        tiny_animate2_engine.generate(animate2_request, should_stop=lambda: True)
    assert "step" not in tiny_animate2_engine.load().scheduler.__dict__  # the step hook is gone again


@pytest.mark.parametrize("changes, named", [
    ({"reference": None}, "reference image"),
    ({"sampler": "unipc"}, "sampler"),
    ({"conditioning_scale": 0.5}, "conditioning_scale"),
    ({"guidance_stop": 0.5}, "guidance_stop"),
    ({"window_context": "latents"}, "window_context"),
])
def test_a_field_animate2_does_not_take_is_refused_in_one_line(tiny_animate2_engine, animate2_request, changes,
                                                                named):
    with pytest.raises(ValueError, match=named) as caught:
        tiny_animate2_engine.generate(animate2_request.replace(**changes))
    assert "\n" not in str(caught.value)


def test_animate2_takes_no_face_video(tiny_animate2_engine, animate2_request, pose_mp4):
    with pytest.raises(ValueError, match="face video is for Animate models"):
        tiny_animate2_engine.inspect(animate2_request.replace(face_video=str(pose_mp4)))


def test_the_14b_presets_are_refused_on_a_cpu_before_any_download():
    from engine import Engine

    for name in ("wan-animate-2-14b", "wan-animate-2-14b-distilled"):
        engine = Engine.from_name(name, device="cpu")
        with pytest.raises(RuntimeError, match="needs a CUDA GPU") as caught:
            engine.load()
        assert "\n" not in str(caught.value)


def test_the_distilled_preset_gives_its_own_defaults_and_refuses_guidance():
    from engine import Engine

    engine = Engine.from_name("wan-animate-2-14b-distilled", device="cpu")
    request = engine.default_request(control_video="assets/person.mp4", reference="assets/reference.png")
    assert (request.num_inference_steps, request.guidance_scale, request.sampler) == (10, 1.0, "euler")
    assert any("guidance_scale is 1" in line for line in engine.family.refusals(request.replace(guidance_scale=3.0)))


def test_the_distilled_blocks_run_on_the_tiny_weights(tiny_animate2_engine, animate2_request):
    from diffusers.modular_pipelines import WanAnimate2DistilledModularPipeline
    from PIL import Image

    from engine.families.animate2_pipeline import LabAnimate2DistilledPipeline

    pipe = LabAnimate2DistilledPipeline(**tiny_animate2_engine.load().components)
    assert isinstance(pipe.runner, WanAnimate2DistilledModularPipeline)
    video = pipe(image=tiny_animate2_engine.prepare_conditions(animate2_request).reference,
                 driving_video=[Image.fromarray(media.read_video(animate2_request.control_video).frames[0])] * 5,
                 segment_frame_length=5, prev_segment_conditioning_frames=1, fps=24,
                 prompt_embeds=tiny_animate2_engine.prompt_embedding("a person dances"), num_inference_steps=2,
                 height=64, width=112).frames
    assert video.shape == (1, 5, 64, 112, 3)


def test_a_lora_loads_on_animate2_and_strength_zero_is_the_pretrained_video(tiny_animate2_engine, animate2_request,
                                                                          tmp_path):
    from diffusers import WanAnimatePipeline
    from peft import LoraConfig, get_peft_model_state_dict

    transformer = tiny_animate2_engine.load().transformer
    transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=["to_q", "to_v"], init_lora_weights=False),
                            adapter_name="made-here")
    state = get_peft_model_state_dict(transformer, adapter_name="made-here")
    transformer.delete_adapters("made-here")
    WanAnimatePipeline.save_lora_weights(tmp_path, transformer_lora_layers=state)
    lora = str(tmp_path / "pytorch_lora_weights.safetensors")
    base = tiny_animate2_engine.generate(animate2_request).frames.astype(int)
    zero = tiny_animate2_engine.generate(animate2_request.replace(lora=lora, lora_scale=0.0)).frames.astype(int)
    full = tiny_animate2_engine.generate(animate2_request.replace(lora=lora, lora_scale=1.0)).frames.astype(int)
    tiny_animate2_engine.generate(animate2_request)  # leaves the LoRA off for the tests after this one
    assert np.array_equal(base, zero)
    assert np.abs(base - full).mean() > 0.5


def test_the_page_says_animate2_needs_no_pose_step_and_shows_its_driving_widget(tiny_animate2_engine):
    import gradio as gr

    from app import build_app

    demo = build_app(tiny_animate2_engine)
    assert [block.visible for block in demo.blocks.values() if getattr(block, "elem_id", None) == "generate-driving"] \
        == [True]
    texts = [block.value for block in demo.blocks.values() if isinstance(block, gr.Markdown)]
    assert any("needs no pose step" in (text or "") for text in texts)
