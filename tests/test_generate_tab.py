"""The Generate tab's request building: what stands in for a missing input, and what the student is told."""

from ui.generate_tab import inputs_or_sample


def test_nothing_at_all_is_the_sample_without_a_note(tiny_engine):
    sample = tiny_engine.sample_inputs()
    assert inputs_or_sample(tiny_engine, None, None, "") == (sample["reference"], sample["control_video"],
                                                             sample["prompt"], [])


def test_a_reference_alone_is_driven_by_the_samples_skeleton_and_says_so(tiny_engine, reference_png):
    reference, control, prompt, notes = inputs_or_sample(tiny_engine, str(reference_png), None, "a man waves")
    assert (reference, prompt) == (str(reference_png), "a man waves")
    assert control == tiny_engine.sample_inputs()["control_video"]
    assert notes == ["No control video: the sample's skeleton drives your reference."]


def test_an_empty_prompt_is_never_sent_silently(tiny_engine, reference_png, pose_mp4):
    _, _, prompt, notes = inputs_or_sample(tiny_engine, str(reference_png), str(pose_mp4), "   ")
    assert prompt == tiny_engine.sample_inputs()["prompt"] and prompt.strip()
    assert len(notes) == 1 and notes[0].startswith("No prompt: the sample's is used")


def test_choosing_a_lora_shows_its_training_prompt_and_offers_it(tmp_path):
    from engine.lora import TRAINING_PROMPT_FILE
    from ui.generate_tab import lora_prompt_note

    single = tmp_path / "narrow.safetensors"
    single.write_bytes(b"")
    (tmp_path / "narrow.txt").write_text("a person in a black top dances\n")
    note, button = lora_prompt_note(str(single))
    assert "*a person in a black top dances*" in note and button.visible
    trained = tmp_path / "run" / "checkpoint-000010" / "pytorch_lora_weights.safetensors"
    trained.parent.mkdir(parents=True)
    trained.write_bytes(b"")
    (trained.parent / TRAINING_PROMPT_FILE).write_text("a puppet waves on a red floor\n")
    assert "a puppet waves on a red floor" in lora_prompt_note(str(trained))[0]
    assert lora_prompt_note(None)[0] == "" and not lora_prompt_note(str(tmp_path / "unknown.safetensors"))[1].visible


def test_the_shipped_blog_loras_say_what_they_were_trained_on():
    from engine.lora import training_prompt
    from engine.toy.family import TOY_BLOG_LORA

    # one of its captions: the narrow dataset's costume and a dance (world.dancer_prompt)
    assert training_prompt(TOY_BLOG_LORA).startswith("a person in a black top and blue trousers ")


def test_the_samples_second_reference_is_a_second_row_with_the_same_dance_and_prompt():
    from ui.generate_tab import sample_rows

    one = {"reference": "a.png", "control_video": "pose.mp4", "prompt": "p"}
    assert sample_rows(one, []) == [["a.png", "pose.mp4", "p"]]
    assert sample_rows(one, ["b.png"]) == [["a.png", "pose.mp4", "p"], ["b.png", "pose.mp4", "p"]]


def test_the_toy_sample_offers_the_same_figure_in_another_costume():
    from pathlib import Path

    from engine.toy.family import ToyFamily

    family = ToyFamily()
    others = family.other_sample_references()
    assert len(others) == 1 and Path(others[0]).is_file() and others[0] != family.sample_inputs()["reference"]
    assert set(family.sample_inputs()) == {"control_video", "reference", "prompt"}  # request fields only
