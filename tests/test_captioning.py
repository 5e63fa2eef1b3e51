"""Plumbing of the optional captioner and rewriter with tiny random models of the same classes.

Their output is gibberish; what is checked is image in, text out, bounded length, and clear errors.
"""

import pytest
from PIL import Image

from engine.prompts.captioning import MAX_PROMPT_WORDS, Captioner, Rewriter, clean_model_text, unload_all


def test_captioner_turns_an_image_into_one_line_of_text(tiny_captioner_dir, reference_png):
    captioner = Captioner(str(tiny_captioner_dir), max_new_tokens=12, min_new_tokens=8)
    caption = captioner.caption(Image.open(reference_png))
    assert isinstance(caption, str) and caption and "\n" not in caption
    assert "<image>" not in caption and "</s>" not in caption
    assert captioner.caption(Image.open(reference_png)) == caption  # greedy: repeatable


def test_rewriter_turns_caption_and_metadata_into_a_bounded_prompt(tiny_rewriter_dir):
    rewriter = Rewriter(str(tiny_rewriter_dir), max_new_tokens=400, min_new_tokens=400)
    prompt = rewriter.rewrite("A man in a black t-shirt.", {"genre_words": "breakdance", "camera_phrase": "front"})
    assert isinstance(prompt, str) and prompt and "\n" not in prompt
    assert len(prompt.split(" ")) <= MAX_PROMPT_WORDS
    assert "<|im_end|>" not in prompt


def test_models_load_once(tiny_captioner_dir, reference_png, monkeypatch):
    from transformers import Florence2ForConditionalGeneration

    unload_all()
    calls = []
    original = Florence2ForConditionalGeneration.from_pretrained.__func__
    monkeypatch.setattr(Florence2ForConditionalGeneration, "from_pretrained",
                        classmethod(lambda cls, *a, **k: (calls.append(1), original(cls, *a, **k))[1]))
    for _ in range(2):
        Captioner(str(tiny_captioner_dir), max_new_tokens=4).caption(Image.open(reference_png))
    assert len(calls) == 1


def test_missing_weights_say_so_plainly(reference_png):
    with pytest.raises(RuntimeError, match="captioner 'florence-community/Florence-2-base' is not available here"):
        Captioner().caption(Image.open(reference_png))
    with pytest.raises(RuntimeError, match="rewriter 'Qwen/Qwen2.5-0.5B-Instruct' is not available here.*works without it"):
        Rewriter().rewrite("a caption")


def test_clean_model_text_bounds_and_flattens():
    assert clean_model_text(' "A man\n dances." ') == "A man dances."
    assert clean_model_text("word " * 500).count("word") == MAX_PROMPT_WORDS


@pytest.mark.parametrize("offline", ["1", "0"])
def test_a_model_that_is_not_here_is_refused_at_once_not_after_hub_retries(monkeypatch, offline):
    import time

    monkeypatch.setenv("HF_HUB_OFFLINE", offline)  # "0": online allowed, but this machine has no network
    started = time.perf_counter()
    with pytest.raises(RuntimeError, match="is not available here"):
        Rewriter("lab-tests/no-such-model").rewrite("a man dancing", {})
    assert time.perf_counter() - started < 5
