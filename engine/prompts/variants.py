"""Prompt variants from a structured description of the reference picture.

A description (subject, clothing, scene) fills the placeholders of templates, YAML files in
presets/prompts/templates/. Template syntax:

    {name}          an attribute (e.g. {hair}), a pronoun ({He}, {he}, {his}) or a metadata word
                    ({genre_words}, {camera_phrase}, {caption}, ...)
    [[ ... ]]       an optional part, dropped when any placeholder inside it is empty

Brief forms (hair_brief, top_brief, ...) fall back to the full form without its article, so a student
can fill the main fields only. The blog's three prompts come out word for word from its attributes.
"""

from __future__ import annotations

import dataclasses
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from engine.paths import PRESETS_DIR
from engine.presets import PRESET_KINDS, check_name, find_preset, read_mapping

PROMPT_PRESETS = PRESETS_DIR / "prompts"
TEMPLATES_DIR = PRESET_KINDS["templates"]
DESCRIPTIONS_DIR = PRESET_KINDS["descriptions"]

METADATA_FIELDS = ("caption", "genre_words", "situation_words", "camera_words", "camera_phrase", "people_words")
PRONOUN_FIELDS = ("He", "he", "His", "his")
_OPTIONAL = re.compile(r"\[\[(.*?)\]\]", re.S)
_ARTICLE = re.compile(r"^(a|an|the)\s+", re.I)


@dataclass
class Subject:
    """Who is in the reference picture."""

    gender: str = ""
    """'man', 'woman' or 'person' (also picks the pronouns)."""
    age: str = ""
    skin: str = ""
    face: str = ""
    """With its article: 'an oval face'."""
    eyes: str = ""
    """Colour and shape, read before 'eyes': 'dark brown almond-shaped'."""
    eye_shape: str = ""
    eyebrows: str = ""
    facial_hair: str = ""
    hair: str = ""
    hair_brief: str = ""
    hairstyle: str = ""
    glasses: str = ""
    glasses_brief: str = ""
    glasses_shape: str = ""


@dataclass
class Clothing:
    """What they wear; full forms with their article ('a plain black crew-neck t-shirt')."""

    top: str = ""
    top_brief: str = ""
    bottom: str = ""
    bottom_brief: str = ""
    bottom_cut: str = ""
    bottom_fabric: str = ""
    shoes: str = ""
    shoes_brief: str = ""


@dataclass
class Scene:
    """Where, in what light, and how they move."""

    setting: str = ""
    background: str = ""
    lighting: str = ""
    motion: str = ""
    """How they dance: 'a smooth, natural dance'."""
    dance: str = ""
    """What they dance: 'a modern dance'."""


@dataclass
class ReferenceDescription:
    """A structured description of the reference picture; YAML presets map 1:1 onto it."""

    subject: Subject = field(default_factory=Subject)
    clothing: Clothing = field(default_factory=Clothing)
    scene: Scene = field(default_factory=Scene)

    @classmethod
    def from_dict(cls, data: dict) -> "ReferenceDescription":
        parts = {}
        for part in dataclasses.fields(cls):
            values = (data or {}).get(part.name) or {}
            known = {f.name for f in dataclasses.fields(part.default_factory)}
            unknown = sorted(set(values) - known)
            if unknown:
                raise ValueError(f"description.{part.name} has unknown field(s) {unknown}; known: {sorted(known)}")
            parts[part.name] = part.default_factory(**{k: str(v) for k, v in values.items()})
        unknown = sorted(set(data or {}) - set(parts))
        if unknown:
            raise ValueError(f"description has unknown section(s) {unknown}; sections: subject, clothing, scene")
        return cls(**parts)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "ReferenceDescription":
        return cls.from_dict(read_mapping(path))

    @classmethod
    def from_preset(cls, name: str) -> "ReferenceDescription":
        return cls.from_yaml(find_preset("descriptions", name))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def fields(self) -> dict:
        """Every attribute by name, with brief forms filled from full ones and the pronouns."""
        flat = {**dataclasses.asdict(self.subject), **dataclasses.asdict(self.clothing), **dataclasses.asdict(self.scene)}
        flat = {name: value.strip() for name, value in flat.items()}
        for brief, full in FALLBACKS.items():
            if not flat[brief]:
                flat[brief] = _ARTICLE.sub("", flat[full]) if brief not in _KEEP_ARTICLE else flat[full]
        flat.update(_pronouns(flat["gender"]))
        return flat


# Brief form -> the full form it falls back to (article dropped unless the brief keeps one).
FALLBACKS = {"hair_brief": "hair", "hairstyle": "hair", "glasses_brief": "glasses", "glasses_shape": "glasses",
              "eye_shape": "eyes", "top_brief": "top", "bottom_brief": "bottom", "bottom_cut": "bottom",
              "bottom_fabric": "bottom", "shoes_brief": "shoes", "background": "setting", "dance": "motion"}
_KEEP_ARTICLE = {"background", "dance"}


def _pronouns(gender: str) -> dict:
    gender = gender.lower()
    if gender in ("man", "boy", "male"):
        he, his = "he", "his"
    elif gender in ("woman", "girl", "female"):
        he, his = "she", "her"
    else:  # 'the person' keeps singular verbs right: "The person has ..."
        he, his = "the person", "their"
    return {"he": he, "He": he[0].upper() + he[1:], "his": his, "His": his[0].upper() + his[1:]}


@dataclass
class PromptTemplate:
    """One prompt variant; YAML presets map 1:1 onto it."""

    name: str
    """Shown in the UI and used as a sweep axis value."""
    template: str
    """Text with {placeholders} and [[optional parts]]."""
    description: str = ""
    """What this variant emphasises."""
    order: int = 100
    """Position in lists (the blog's three come first)."""
    family: str = ""
    """The model family whose words it is written in: empty for Wan (every real model); "toy" for the toy's
    puppet world, whose model reads only that world's words. A page shows a model its own family's first."""

    def __post_init__(self):
        if "," in self.name:  # a sweep's prompt axis lists names with commas between them
            raise ValueError(f"template name {self.name!r} has a comma: names are sweep-axis values, "
                             "which commas separate")
        unknown = sorted(set(placeholders(self.template)) - set(known_placeholders()))
        if unknown:
            raise ValueError(f"template {self.name!r} uses unknown placeholder(s) {unknown}; "
                             f"known: {', '.join(known_placeholders())}")
        if self.template.count("[[") != self.template.count("]]"):
            raise ValueError(f"template {self.name!r} has unbalanced [[ ]]")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "PromptTemplate":
        data = read_mapping(path)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"template preset {Path(path).name} has unknown key(s) {unknown}; known: {sorted(known)}")
        return cls(**data)

    def render(self, values: dict) -> str:
        return render_template(self.template, values)

    def missing(self, values: dict) -> list[str]:
        """Required placeholders (outside [[optional parts]]) that have no value."""
        required = placeholders(_OPTIONAL.sub("", self.template))
        return [name for name in dict.fromkeys(required) if not values.get(name)]


def known_placeholders() -> list[str]:
    attributes = [f.name for part in (Subject, Clothing, Scene) for f in dataclasses.fields(part)]
    return attributes + list(PRONOUN_FIELDS) + list(METADATA_FIELDS)


def placeholders(text: str) -> list[str]:
    try:
        return [name for _, name, _, _ in string.Formatter().parse(text) if name]
    except ValueError as err:
        raise ValueError(f"template is not valid: {err}") from None


def render_template(template: str, values: dict) -> str:
    """Fill placeholders, drop optional parts whose placeholders are empty, tidy spaces and capitals."""

    def optional(match: re.Match) -> str:
        inner = match.group(1)
        return inner.format_map(values) if all(values.get(name) for name in placeholders(inner)) else ""

    text = _OPTIONAL.sub(optional, template).format_map(_Blank(values))
    return tidy(text)


class _Blank(dict):
    """format_map mapping whose missing keys render empty (metadata that is not there)."""

    def __missing__(self, key):
        return ""


def tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    text = re.sub(r",(\s*,)+", ",", text)
    text = re.sub(r",\s*\.", ".", text)
    text = re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", lambda m: m.group(1) + "n ", text)
    # Sentences start with a capital even when a placeholder opened them.
    return re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)


def load_templates(extra_dirs: list[Path] | None = None) -> dict[str, PromptTemplate]:
    """Built-in templates plus any in extra_dirs (a user's own), by name, in display order."""
    templates = {}
    for folder in [TEMPLATES_DIR, *(extra_dirs or [])]:
        for path in sorted(Path(folder).glob("*.yaml")):
            template = PromptTemplate.from_yaml(path)
            templates[template.name] = template
    return dict(sorted(templates.items(), key=lambda item: (item[1].order, item[0])))


def templates_for_family(templates: dict[str, PromptTemplate], family: str) -> dict[str, PromptTemplate]:
    """The templates a model of `family` can read, its own family's first: the toy's ahead of Wan's (which it
    reads as noise, but a student comparing them learns why); a real model's without the toy's."""
    if family == "toy":
        return dict(sorted(templates.items(), key=lambda item: item[1].family != "toy"))
    return {name: template for name, template in templates.items() if template.family != "toy"}


def template_values(description: ReferenceDescription, metadata: dict | None = None) -> dict:
    return {**{name: "" for name in METADATA_FIELDS}, **(metadata or {}), **description.fields()}


def variants_with_gaps(description: ReferenceDescription, metadata: dict | None = None,
                       templates: dict[str, PromptTemplate] | None = None) -> dict[str, tuple[str, list[str]]]:
    """name -> (prompt, required fields it left empty), for showing variants to a person. A variant with an
    empty required field is not rendered (its prompt is ""): half a sentence ("a video of a with skin")
    would read as a prompt and mislead; the missing fields say what to fill."""
    values = template_values(description, metadata)
    variants = {}
    for name, template in (templates or load_templates()).items():
        missing = template.missing(values)
        variants[name] = ("" if missing else template.render(values), missing)
    return variants


def prompt_sets_dir() -> Path:
    from engine.paths import workspace_dir

    return workspace_dir("prompt_sets")


def save_prompt_set(name: str, prompts: dict[str, str]) -> Path:
    """Save named prompts as YAML (a prompt axis for sweeps); the name cannot leave the folder."""
    check_name(name, "prompt set")
    prompts = {str(k): str(v) for k, v in prompts.items() if str(v).strip()}
    with_comma = [k for k in prompts if "," in k]
    if with_comma:
        raise ValueError(f"prompt name(s) {with_comma} have a comma: names are sweep-axis values, which commas "
                         "separate")
    if not prompts:
        raise ValueError("the prompt set is empty: tick at least one variant with text")
    folder = prompt_sets_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(prompts, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
    return path


def load_prompt_set(name_or_path: str) -> dict[str, str]:
    """A saved set by name, or a .yaml (or `prompts variants --json`) file given by path (command line)."""
    path = Path(name_or_path or "")
    if not (path.suffix in (".yaml", ".yml", ".json") and path.is_file()):
        try:
            path = prompt_sets_dir() / f"{check_name(name_or_path, 'prompt set')}.yaml"
        except ValueError:
            raise ValueError(f"prompt set not found: {name_or_path}") from None
        if not path.is_file():
            raise ValueError(f"prompt set not found: {name_or_path}")
    # A variant `prompts variants --json` could not build is there with no text: it is not a prompt.
    return {str(k): str(v) for k, v in read_mapping(path).items() if v and str(v).strip()}


def negative_prompts() -> dict[str, str]:
    """Named negative prompts (Wan's standard one in Chinese and English)."""
    data = read_mapping(PROMPT_PRESETS / "negative.yaml")
    return {str(name): str(text).strip() for name, text in data.items()}
