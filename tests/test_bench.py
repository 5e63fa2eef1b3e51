"""The bench command's pieces: FLOP accounting against BENCHMARKS.md's floor, and speed options measured on and off."""

import pytest

from engine.spec import ModelSpec
from experiments.bench import print_table, speed_options, step_flops


class RealSpec:
    spec = ModelSpec.from_preset("wan-vace-1.3b")


def test_a_cfg_step_at_480p_is_about_854_tflop_as_design_says(tiny_engine, pose_mp4):
    request = tiny_engine.default_request(control_video=str(pose_mp4), height=480, width=832, num_frames=81)
    flops = step_flops(RealSpec(), request)  # no reference: 32,760 tokens, BENCHMARKS.md's figure
    assert flops / 1e12 == pytest.approx(854, rel=0.06)
    assert step_flops(RealSpec(), request.replace(guidance_scale=1.0)) == pytest.approx(flops / 2)


def test_speed_options_are_measured_on_and_off(tiny_engine, tiny_request, capsys):
    rows = speed_options(tiny_engine, tiny_request)
    names = [row["option"] for row in rows]
    assert names == ["guidance <= 1 skips the unconditional pass", "step cache 0.2"]
    assert all(row["on_s_per_step"] > 0 and row["off_s_per_step"] > 0 for row in rows)
    assert 0 <= rows[1]["skipped"] <= 1 and rows[1]["mean_abs_pixel_difference"] >= 0
    print_table({"device": "cpu", "model": "tiny", "startup_seconds": 1.0, "stages": [], "speed_options": rows,
                 "engine_overhead_ratio": 1.0, "sweep_amortization_ratio": 0.5, "cached_second_request_ratio": 0.4})
    assert "step cache 0.2" in capsys.readouterr().out


def test_without_a_video_reader_the_bench_skips_the_engine_and_says_why(monkeypatch, capsys):
    """A bare GPU machine gets only the wheels sent to it (imageio-ffmpeg's is 68 MB): the bench still runs,
    and says what it left out, instead of failing on the sample pose video."""
    import sys

    from experiments import bench

    assert bench.missing_video_reader() is None  # installed here
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # what `import imageio_ffmpeg` meets there
    monkeypatch.setattr(bench, "startup_seconds", lambda root: float("nan"))  # no gradio there either
    results = bench.run_bench(quick=True)
    assert "sample pose video cannot be read" in results["skipped"]["engine measures"] and "stages" not in results
    print_table(results)
    assert "skipped engine measures: no ffmpeg from imageio-ffmpeg (" in capsys.readouterr().out


def test_a_family_built_in_memory_runs_through_the_engine_with_its_memory_plan_and_is_timed(capsys):
    """What bench does on a GPU for Animate at its real size, here with the tiny parts on the CPU."""
    from experiments.bench import family_generation

    row = family_generation("tiny-animate", steps=1, device="cpu", real_parts=(), height=64, width=112, num_frames=5)
    assert row["preset"] == "tiny-animate" and row["memory_plan"] == "none" and row["size"] == "64x112x5"
    assert row["s_per_step"] > 0 and row["build_s"] > 0 and row["peak_memory_mb"] > 0
    print_table({"device": "cpu", "model": "tiny", "startup_seconds": 1.0, "real_families": [
        row, {"preset": "wan-animate-2-14b", "unavailable": "CUDA out of memory"}]})
    out = capsys.readouterr().out
    assert "tiny-animate 64x112x5 (memory plan none): " in out
    assert "wan-animate-2-14b: not run (CUDA out of memory)" in out
