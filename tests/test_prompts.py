import pytest
import yaml

from engine.pose.aist import parse_aist_name
from engine.prompts.variants import (DESCRIPTIONS_DIR, PromptTemplate, ReferenceDescription, variants_with_gaps, load_templates, negative_prompts,
                            render_template, template_values)
from engine.request import DEFAULT_NEGATIVE_PROMPT

# The blog's prompts, verbatim from ../shared/seeds/blog-my-lora-failed.md.
BLOG = {
    "Detailed Default": (
        "A high-quality video of a young adult man with medium brown skin, an oval face, and dark brown "
        "almond-shaped eyes. He has thick black wavy hair, short on the sides, and wears modern thin metal-framed "
        "rounded rectangular glasses. He is dressed in a plain black crew-neck t-shirt, slim-fit dark washed jeans, "
        "and light beige sneakers. He performs a smooth, natural dance following the skeleton pose exactly in a "
        "clean, minimalist indoor setting with soft lighting. 4k, photorealistic, consistent character."),
    "Lighting & Quality": (
        "Cinematic footage of a man with medium brown skin and wavy black hair, wearing metal-framed glasses and a "
        "casual black t-shirt with dark jeans. The lighting is professional studio quality, casting soft shadows "
        "that define his jawline and approachable presence. He is dancing with fluid, grounded movements. The "
        "camera remains steady, capturing the fine textures of his denim jeans and beige sneakers. Extremely "
        "detailed, 8k, filmic look."),
    "Identity-Focused": (
        "Detailed portrait-style video of a man with almond-shaped eyes, neatly shaped eyebrows, and a thin "
        "mustache with light stubble. He wears rounded rectangular metal glasses. The subject is wearing a black "
        "t-shirt and dark slim jeans, performing a modern dance. Focus on maintaining the exact facial proportions "
        "and short wavy hairstyle throughout the motion. The background is a stable, modern gray room. High "
        "temporal consistency, sharp focus on the face."),
}


def test_templates_reproduce_the_blogs_prompts_from_its_attributes():
    variants = {name: text for name, (text, _) in variants_with_gaps(ReferenceDescription.from_preset("blog-reference")).items()}
    for name, text in BLOG.items():
        assert variants[name] == text


def test_every_template_and_description_preset_loads():
    templates = load_templates()
    assert list(templates)[:3] == list(BLOG)
    assert {"Cinematic", "Movement-Focused", "Simple", "Caption + Metadata"} <= set(templates)
    descriptions = sorted(DESCRIPTIONS_DIR.glob("*.yaml"))
    assert len(descriptions) >= 2
    for path in descriptions:
        ReferenceDescription.from_yaml(path)


def test_brief_forms_fall_back_to_full_forms_and_pronouns_follow_gender():
    description = ReferenceDescription.from_dict(
        {"subject": {"gender": "woman", "hair": "long red hair"}, "clothing": {"top": "a green hoodie"}})
    values = description.fields()
    assert values["hair_brief"] == "long red hair" and values["top_brief"] == "green hoodie"
    assert (values["He"], values["his"]) == ("She", "her")
    assert ReferenceDescription.from_dict({"subject": {"gender": ""}}).fields()["He"] == "The person"


def test_optional_parts_drop_when_empty_and_text_is_tidied():
    template = "A {gender}[[ wearing {glasses}]] dances. {he} smiles , then bows ,."
    assert render_template(template, {"gender": "man", "glasses": "", "he": "he"}) == "A man dances. He smiles, then bows."
    assert render_template(template, {"gender": "man", "glasses": "round glasses", "he": "he"}).startswith(
        "A man wearing round glasses dances.")
    assert render_template("a {age} woman", {"age": "elderly"}) == "An elderly woman"


def test_missing_required_fields_are_listed():
    template = load_templates()["Detailed Default"]
    values = template_values(ReferenceDescription.from_dict({"subject": {"gender": "man", "hair": "short hair"}}))
    missing = template.missing(values)
    assert "skin" in missing and "top" in missing and "glasses" not in missing and "hair" not in missing
    assert template.missing(template_values(ReferenceDescription.from_preset("blog-reference"))) == []


def test_metadata_words_fill_the_caption_template():
    metadata = {"caption": "A man in a black t-shirt stands in a studio.",
                **parse_aist_name("gBR_sBM_c01_d04_mBR0_ch01").words()}
    text = variants_with_gaps(ReferenceDescription(), metadata)["Caption + Metadata"][0]
    assert text.startswith("A man in a black t-shirt stands in a studio. A dancer performs breakdance, a basic "
                           "choreography, seen from the front.")


def test_user_templates_load_and_bad_ones_are_named(tmp_path):
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump({"name": "Mine", "template": "A {gender} in {setting}."}))
    templates = load_templates([tmp_path])
    assert "Mine" in templates and "Detailed Default" in templates
    with pytest.raises(ValueError, match="unknown placeholder"):
        PromptTemplate(name="bad", template="A {colour} shirt")
    with pytest.raises(ValueError, match="unbalanced"):
        PromptTemplate(name="bad", template="A [[{gender} shirt")
    with pytest.raises(ValueError, match="has a comma: names are sweep-axis values"):
        PromptTemplate(name="Short, sweet", template="A {gender}.")
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump({"name": "T", "templte": "x"}))
    with pytest.raises(ValueError, match="unknown key"):
        PromptTemplate.from_yaml(tmp_path / "typo.yaml")


def test_unknown_description_fields_are_errors():
    with pytest.raises(ValueError, match="unknown field"):
        ReferenceDescription.from_dict({"subject": {"hat": "red cap"}})
    with pytest.raises(ValueError, match="unknown section"):
        ReferenceDescription.from_dict({"weather": {}})
    with pytest.raises(ValueError, match="unknown description preset"):
        ReferenceDescription.from_preset("../../etc/passwd")


def test_wan_negative_prompt_presets():
    negatives = negative_prompts()
    assert negatives["wan-standard-en"] == DEFAULT_NEGATIVE_PROMPT
    assert negatives["wan-standard-zh"].startswith("色调艳丽，过曝，静态") and negatives["none"] == ""


def test_prompt_sets_round_trip_and_names_stay_in_their_folder():
    from engine.prompts.variants import load_prompt_set, prompt_sets_dir, save_prompt_set

    path = save_prompt_set("blog-three", {"Detailed Default": "a", "Identity-Focused": "c", "Empty": "  "})
    assert path.parent == prompt_sets_dir()
    assert load_prompt_set("blog-three") == {"Detailed Default": "a", "Identity-Focused": "c"}
    assert load_prompt_set(str(path)) == load_prompt_set("blog-three")
    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError, match="prompt set name"):
            save_prompt_set(bad, {"x": "y"})
    with pytest.raises(ValueError, match="empty"):
        save_prompt_set("nothing", {"x": ""})
    with pytest.raises(ValueError, match=r"\['a, b'\] have a comma"):
        save_prompt_set("commas", {"a, b": "a person waves"})
    with pytest.raises(ValueError, match="not found"):
        load_prompt_set("../../etc/passwd")


def test_a_variant_with_empty_required_fields_is_not_rendered_as_broken_grammar():
    variants = variants_with_gaps(ReferenceDescription.from_dict({"subject": {"gender": "man"}}))
    text, missing = variants["Detailed Default"]
    assert text == "" and "skin" in missing
    simple_text, simple_missing = variants_with_gaps(ReferenceDescription.from_preset("lab-sample"))["Simple"]
    assert simple_text and not simple_missing and "  " not in simple_text


def test_the_toy_templates_say_the_toy_samples_prompt_in_words_it_knows():
    from engine.toy.family import TOY_SAMPLE_DIR
    from engine.prompts.variants import templates_for_family
    from engine.toy.model import unknown_words, words_as_read

    templates = templates_for_family(load_templates(), "toy")
    toy_names = [name for name, template in templates.items() if template.family == "toy"]
    assert toy_names and list(templates)[: len(toy_names)] == toy_names  # the toy's own come first
    variants = variants_with_gaps(ReferenceDescription.from_preset("toy-sample"), None, templates)
    assert words_as_read(variants["Toy: floor only"][0]) == (TOY_SAMPLE_DIR / "prompt.txt").read_text().strip()
    for name in toy_names:
        text, missing = variants[name]
        assert text and not missing and unknown_words(text) == [], name


def test_a_real_model_is_not_offered_the_toys_templates():
    from engine.prompts.variants import templates_for_family

    templates = load_templates()
    for_wan = templates_for_family(templates, "")
    assert list(for_wan)[:3] == list(BLOG)
    assert not any(template.family == "toy" for template in for_wan.values())
    assert set(templates) - set(for_wan) == {name for name, t in templates.items() if t.family == "toy"}
