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
