"""CUDA-only checks: skipped here (no GPU); on a GPU machine run `./lab test -m gpu`.

Nothing is downloaded: the real 1.3B architecture is built from its preset config with random weights.
"""

import time

import numpy as np
import pytest
import torch

from engine.engine import Engine
from engine.spec import ModelSpec

pytestmark = pytest.mark.gpu


def test_engine_on_cuda_puts_the_transformer_in_bf16_and_the_vae_in_fp32(tiny_request):
    spec = ModelSpec.from_preset("tiny").with_overrides(transformer_dtype="bfloat16", text_encoder_dtype="bfloat16")
    engine = Engine(spec, device="cuda")
    pipe = engine.load()
    assert pipe.transformer.dtype == torch.bfloat16 and pipe.vae.dtype == torch.float32
    result = engine.generate(tiny_request)
    assert result.memory_kind == "cuda_max_allocated" and result.peak_memory_mb > 0
    assert np.isfinite(result.frames).all()
    np.testing.assert_array_equal(engine.generate(tiny_request).frames, result.frames)


def test_real_1_3b_architecture_runs_a_cfg_step_at_320x576x49():
    from diffusers import WanVACETransformer3DModel

    config = ModelSpec.from_preset("wan-vace-1.3b").transformer_config
    with torch.device("cuda"):
        model = WanVACETransformer3DModel(**config).to(torch.bfloat16).eval()
    latents = torch.randn(1, 16, 13, 40, 72, device="cuda", dtype=torch.bfloat16)  # 49 frames, 320x576
    control = torch.randn(1, 96, 13, 40, 72, device="cuda", dtype=torch.bfloat16)
    text = torch.randn(1, 512, 4096, device="cuda", dtype=torch.bfloat16)
    timestep = torch.tensor([500], device="cuda")
    with torch.no_grad():
        for _ in range(2):  # warm-up, then the timed step (two passes: conditional + unconditional)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(2):
                out = model(hidden_states=latents, timestep=timestep, encoder_hidden_states=text,
                            control_hidden_states=control, return_dict=False)[0]
            torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"1.3B CFG step at 320x576x49: {seconds:.3f} s, peak {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    assert out.shape == latents.shape and torch.isfinite(out).all()


@pytest.mark.parametrize("preset", ["wan-animate-14b", "wan-animate-2-14b"])
def test_each_animate_family_built_whole_runs_a_step_at_its_default_size_with_its_memory_plan(preset):
    """bench's real-family row: the published parts with random weights (minutes: the 14B is built on the CPU)."""
    from experiments.bench import family_generation

    row = family_generation(preset, steps=1)
    defaults = ModelSpec.from_preset(preset).defaults
    assert row["size"] == f"{defaults['height']}x{defaults['width']}x{defaults['num_frames']}"
    card_mb = torch.cuda.get_device_properties(0).total_memory / 2**20
    assert row["s_per_step"] > 0 and 0 < row["peak_memory_mb"] < card_mb
