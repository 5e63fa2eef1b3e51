"""Size limits and estimates: a request past what the model and the machine can serve is refused in one line
before any work, and the page can say what a request will cost before it runs."""

from dataclasses import replace

import pytest

from engine import sizing


def test_a_huge_frame_count_is_refused_at_once_with_the_limit(tiny_engine, tiny_request):
    with pytest.raises(ValueError, match=r"^num_frames must be at most 241 for this model, got 100001$"):
        tiny_engine.generate(replace(tiny_request, num_frames=100001))
    with pytest.raises(ValueError, match=r"height must be at most 448 px for this model, got 2000"):
        tiny_engine.inspect(replace(tiny_request, height=2000))


def test_a_video_that_cannot_fit_in_the_free_memory_is_refused(tiny_engine, tiny_request, monkeypatch):
    monkeypatch.setattr(sizing, "free_memory_mb", lambda: 1.0)  # a machine with 1 MB free
    with pytest.raises(ValueError, match=r"this video needs about .* GB and 0.0 GB is free: use fewer frames"):
        tiny_engine.generate(tiny_request)


def test_the_estimate_counts_windows_and_reads_time_only_once_measured(tiny_engine, tiny_request):
    long = replace(tiny_request, num_frames=33, num_inference_steps=2)
    before = tiny_engine.estimate(long)
    assert before.windows == len(tiny_engine.window_plan(long)) > 1 and before.seconds is None
    assert "time known after a first run" in before.text()
    assert before.memory_mb == pytest.approx(33 * long.height * long.width * sizing.BYTES_PER_VIDEO_PIXEL / 2**20)
    tiny_engine.generate(replace(long, num_frames=tiny_engine.native_window))  # one whole window, measured
    after = tiny_engine.estimate(long)
    assert after.seconds is not None and after.seconds > 0 and f"about {after.seconds:.0f} s" in after.text()


def test_a_large_video_is_not_kept_in_the_engines_caches(tiny_engine, tiny_request):
    from engine.conditioning import condition_key

    large = replace(tiny_request, num_frames=241, height=448, width=448)
    assert sizing.is_large(large) and not sizing.is_large(tiny_request)
    tiny_engine.inspect(large)
    assert condition_key(large) not in tiny_engine._condition_cache  # read again if asked again
    tiny_engine.inspect(tiny_request)
    assert condition_key(tiny_request) in tiny_engine._condition_cache  # small ones are kept for the next request
