"""The toy's quality report: its sweeps score what they name and it records how it sampled."""

import numpy as np

from engine.toy.factory import evaluate
from engine.toy import world


def test_the_steps_sweep_scores_every_step_count_on_every_clip(tmp_path):
    """PSNR, placement and part colours per step count, averaged over the clips it names (the shipped toy)."""
    from engine.engine import Engine

    samples = [world.make_sample(seed, num_frames=9) for seed in (1_000_001, 1_000_002)]
    result = evaluate.steps_sweep(Engine.from_name("toy"), samples, tmp_path, (1, 4))
    assert result["num_inference_steps"] == [1, 4] and result["clips"] == [1_000_001, 1_000_002]
    for name in ("psnr", "silhouette_precision", "placement_precision", "colour_match"):
        assert len(result[name]) == 2 and all(np.isfinite(result[name]))
    assert result["psnr"][1] > result["psnr"][0]  # one step leaves noise on the frame; four give a figure


def test_the_report_records_how_its_generations_sampled(tmp_path):
    """The eval's numbers hold for the settings it sampled with (the toy preset's, guidance stop included)."""
    from engine.engine import Engine

    engine = Engine.from_name("toy")
    request = engine.default_request(**evaluate.write_inputs(world.make_sample(1_000_001, num_frames=9), tmp_path))
    settings = evaluate.sampling_settings(request)
    assert settings == {"num_inference_steps": 10, "sampler": "unipc", "flow_shift": 3.0, "guidance_scale": 5.0,
                        "guidance_stop": 0.6}
    assert evaluate.ToyReport(sampling=settings).to_dict()["sampling"] == settings
