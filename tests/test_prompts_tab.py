"""The Prompts tab through Gradio's queue and HTTP API."""

import pytest
import yaml

from engine.prompts.variants import ReferenceDescription
from ui.prompts_tab import api_names, field_names

BLOG_FIELDS = ReferenceDescription.from_preset("blog-reference").to_dict()


def blog_field_values():
    """The blog's description, by the API's parameter names."""
    return {api: BLOG_FIELDS[section][name] for api, (section, name) in zip(api_names(), field_names())}


def test_build_variants_reproduces_the_blog_and_counts_tokens(client):
    table, *rest = client.predict(**blog_field_values(), clip_name="gBR_sBM_c01_d04_mBR0_ch01.mp4", caption="",
                                  api_name="/prompt_variants")
    texts, notes = rest[: len(rest) // 2], rest[len(rest) // 2:]
    assert texts[0].startswith("A high-quality video of a young adult man with medium brown skin, an oval face")
    assert "Break (gBR)" in table and "Front view" in table
    assert all("/ 512 tokens" in note for note in notes[:-1])
    assert notes[-1] == "Not built: fill caption (this variant needs them)." and texts[-1] == ""


def test_bad_clip_name_is_one_line(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not an AIST name"):
        client.predict(**blog_field_values(), clip_name="holiday_video.mp4", api_name="/prompt_variants")


def test_save_ticked_prompts_as_a_set(client):
    names_count = 8  # 7 templates + the LLM rewrite slot
    ticks = [True, False, True] + [False] * (names_count - 3)
    texts = ["first prompt", "second prompt", "third prompt"] + [""] * (names_count - 3)
    path = client.predict("blog-set", *ticks, *texts, api_name="/save_prompt_set")
    saved = yaml.safe_load(open(path))
    assert saved == {"Detailed Default": "first prompt", "Identity-Focused": "third prompt"}


def test_prompt_set_names_cannot_escape_their_folder(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="prompt set name '../../evil'"):
        client.predict("../../evil", True, *[False] * 7, "x", *[""] * 7, api_name="/save_prompt_set")


def test_caption_without_weights_is_a_plain_message(client, reference_png):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="is not available here"):
        client.predict(handle_file(str(reference_png)), api_name="/caption")


def test_on_the_toy_the_tab_starts_from_its_sample_and_names_words_it_never_learned():
    from engine import Engine
    from engine.prompts.variants import load_templates, templates_for_family
    from ui.prompts_tab import start_preset, ticked_at_start, token_note

    toy = Engine.from_name("toy")  # only its tokenizer loads
    assert start_preset(toy) == "toy-sample"
    ticked = ticked_at_start(templates_for_family(load_templates(), "toy"), "toy")
    assert ticked and all(name.startswith("Toy:") for name in ticked)
    assert token_note(toy, "a person in a red top dances", []).endswith("every word is one the toy knows")
    assert token_note(toy, "A young man in a red top, dancing.", []).endswith("words the toy never learned: young, man")
    assert token_note(toy, "", ["age"]).startswith("Not built: fill age")
