import pytest
from safetensors.torch import save_file
import torch

from engine.profiles import DEFAULT_PROFILE, SamplingProfile, model_profiles, profile_changes, suggest_profile
from engine.spec import ModelSpec, preset_names


@pytest.mark.parametrize("preset", preset_names())
def test_every_preset_profile_makes_a_valid_request(preset, pose_mp4):
    from engine.request import GenerationRequest

    spec = ModelSpec.from_preset(preset)
    profiles = model_profiles(spec)
    assert list(profiles)[0] == DEFAULT_PROFILE
    for name in profiles:
        request = GenerationRequest(**{**spec.defaults, **profile_changes(profiles, name)}, control_video=str(pose_mp4))
        assert request.step_cache is None, name  # a profile never leaves a step cache running
        if request.sigmas:
            assert request.sampler == "euler" and request.guidance_scale == 1.0, name


def test_the_distilled_profiles_carry_their_published_schedules():
    causvid = model_profiles(ModelSpec.from_preset("wan-vace-1.3b"))["causvid-4step"].settings
    assert causvid["sigmas"] == [1.0, 0.75, 0.5, 0.25] and causvid["flow_shift"] == 1.0
    lightx2v = model_profiles(ModelSpec.from_preset("wan-vace-14b"))["lightx2v-4step"].settings
    assert lightx2v["sigmas"] == [1.0, 0.75, 0.5, 0.25] and lightx2v["flow_shift"] == 5.0
    assert model_profiles(ModelSpec.from_preset("wan-vace-14b"))["causvid-9step"].settings["num_inference_steps"] == 9


def test_default_profile_restores_every_sampling_field_but_the_lora_strength():
    settings = model_profiles(ModelSpec.from_preset("wan-vace-1.3b"))[DEFAULT_PROFILE].settings
    assert settings == {"guidance_scale": 5.0, "num_inference_steps": 50, "flow_shift": 3.0, "sampler": "unipc",
                        "sigmas": None}


def test_bad_profiles_fail_when_the_preset_loads():
    with pytest.raises(ValueError, match=r"profile 'fast' sets unknown field\(s\) \['cfg'\]"):
        ModelSpec(name="m", source="tiny", profiles={"fast": {"cfg": 1}})
    with pytest.raises(ValueError, match="profile 'fast': 2 sigmas but num_inference_steps 4"):
        ModelSpec(name="m", source="tiny", profiles={"fast": {"sigmas": [1, 0.5], "num_inference_steps": 4}})
    with pytest.raises(ValueError, match="unknown profile 'turbo'; this model's profiles: default"):
        profile_changes(model_profiles(ModelSpec.from_preset("tiny")), "turbo")


def test_a_lora_name_or_its_metadata_suggests_a_profile(tmp_path):
    profiles = model_profiles(ModelSpec.from_preset("wan-vace-1.3b"))
    assert suggest_profile(profiles, "loras/Wan21_CausVid_bidirect2_T2V_1_3B_lora_rank32.safetensors").name == "causvid-4step"
    assert suggest_profile(profiles, "loras/my_dance.safetensors") is None
    tagged = tmp_path / "renamed.safetensors"
    save_file({"x.lora_A.weight": torch.zeros(1, 1)}, tagged, metadata={"notes": "CausVid distilled"})
    assert suggest_profile(profiles, tagged).name == "causvid-4step"
    assert suggest_profile(profiles, None) is None


def test_explicit_fields_win_over_the_profile(tiny_engine, pose_mp4):
    tiny_engine_profiles = {"default": SamplingProfile("default", {"sampler": "unipc"}),
                            "fast": SamplingProfile.from_mapping("fast", {"sampler": "euler", "num_inference_steps": 3})}
    changes = profile_changes(tiny_engine_profiles, "fast")
    assert changes == {"sigmas": None, "sampler": "euler", "num_inference_steps": 3, "step_cache": None}
    request = tiny_engine.default_request(profile="default", control_video=str(pose_mp4), num_inference_steps=2)
    assert request.num_inference_steps == 2 and request.sampler == "unipc"
