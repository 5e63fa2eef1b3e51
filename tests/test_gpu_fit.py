"""engine/gpu_fit.py: what a real model needs on one GPU by arithmetic, and a ZeroGPU Space refusing what does
not fit its slice before anything downloads."""

import pytest

from engine import Engine
from engine.gpu_fit import gpu_need, zerogpu_memory_gb, zerogpu_refusal
from engine.spec import ModelSpec


@pytest.fixture
def zerogpu_40(monkeypatch):
    """A ZeroGPU Space whose slice is 40 GB (as Hugging Face's A100 slices were)."""
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    monkeypatch.setenv("VACE_LAB_ZEROGPU_GB", "40")


def test_each_memory_plan_places_the_parts_as_it_says():
    need = gpu_need("wan-vace-14b")
    assert need.peak_gb() == pytest.approx(need.transformer_resident_gb + need.text_encoder_gb)
    assert need.peak_gb(cpu_offload=True) == pytest.approx(need.transformer_resident_gb)  # larger than the encoder
    streamed = need.peak_gb(group_offload=True)
    assert need.one_layer_activations_gb < streamed < need.weights_gb / 10


def test_animate2_keeps_its_driving_cache_on_the_gpu_under_every_plan():
    need = gpu_need("wan-animate-2-14b")
    assert need.driving_kv_cache_gb > 30
    assert need.peak_gb(group_offload=True) > need.driving_kv_cache_gb


def test_nothing_is_refused_off_zerogpu(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    monkeypatch.setenv("VACE_LAB_ZEROGPU_GB", "1")
    assert zerogpu_refusal(ModelSpec.from_preset("wan-vace-14b")) is None


def test_on_zerogpu_a_model_over_the_slice_is_refused_in_one_line(zerogpu_40):
    refusal = zerogpu_refusal(ModelSpec.from_preset("wan-vace-14b"))
    assert refusal.startswith("wan-vace-14b does not fit this Space's ZeroGPU slice: about 47 GB")
    assert "against 40 GB (VACE_LAB_ZEROGPU_GB)" in refusal and "\n" not in refusal


def test_on_zerogpu_a_memory_plan_can_make_a_model_fit(zerogpu_40):
    spec = ModelSpec.from_preset("wan-vace-14b")
    assert zerogpu_refusal(spec.with_overrides(cpu_offload=True)) is None
    assert zerogpu_refusal(ModelSpec.from_preset("wan-vace-1.3b")) is None
    assert zerogpu_refusal(ModelSpec.from_preset("wan-animate-2-14b")) is None  # its preset streams the layers


def test_on_zerogpu_the_cpu_models_always_run(zerogpu_40, monkeypatch):
    monkeypatch.setenv("VACE_LAB_ZEROGPU_GB", "0")
    for name in ("tiny", "toy", "tiny-animate", "tiny-animate-2"):
        assert zerogpu_refusal(ModelSpec.from_preset(name)) is None, name


def test_an_engine_refuses_a_model_over_the_slice_before_loading_anything(zerogpu_40):
    engine = Engine.from_name("wan-animate-14b")
    with pytest.raises(RuntimeError, match="wan-animate-14b does not fit this Space's ZeroGPU slice"):
        engine.model_source()
    assert engine._pipe is None


def test_a_slice_size_that_is_not_a_number_is_named(monkeypatch):
    monkeypatch.setenv("VACE_LAB_ZEROGPU_GB", "lots")
    with pytest.raises(ValueError, match="VACE_LAB_ZEROGPU_GB is a number of GB, not 'lots'"):
        zerogpu_memory_gb()
    monkeypatch.delenv("VACE_LAB_ZEROGPU_GB")
    assert zerogpu_memory_gb() == 70.0


def test_on_zerogpu_the_banner_names_what_fits_and_what_is_not_offered(zerogpu_40):
    banner = Engine.from_name("tiny").banner()
    assert "On this ZeroGPU Space (40 GB a job) these models fit with their memory plans, by arithmetic: " in banner
    fits, over = banner.split("by arithmetic: ")[1].split(" Not offered here: ")
    assert "wan-vace-1.3b" in fits and "wan-animate-2-14b" in fits
    assert over.rstrip(".").split(", ") == ["wan-animate-14b", "wan-vace-14b"]


def test_off_zerogpu_the_banner_says_nothing_of_it(monkeypatch):
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert "ZeroGPU" not in Engine.from_name("tiny").banner()


def test_the_refusal_advises_what_the_memory_plan_has_not_tried_yet(zerogpu_40, monkeypatch):
    monkeypatch.setenv("VACE_LAB_ZEROGPU_GB", "10")
    spec = ModelSpec.from_preset("wan-animate-2-14b")  # its preset already streams the layers
    assert zerogpu_refusal(spec).endswith("(group_offload) against 10 GB (VACE_LAB_ZEROGPU_GB); choose a smaller model")
    offloaded = ModelSpec.from_preset("wan-vace-14b").with_overrides(cpu_offload=True)
    assert zerogpu_refusal(offloaded).endswith("; try group_offload or a smaller model")
