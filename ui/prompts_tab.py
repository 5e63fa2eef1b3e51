"""Prompts tab: describe the reference, build variants side by side, count tokens, caption and rewrite."""

from __future__ import annotations

import dataclasses

import gradio as gr

from engine.pose.aist import parse_aist_name
from engine.prompts.captioning import CAPTIONER_ID, REWRITER_ID, Captioner, Rewriter
from engine.paths import workspace_dir
from engine.prompts.variants import (DESCRIPTIONS_DIR, FALLBACKS, Clothing, ReferenceDescription, Scene, Subject,
                            load_prompt_set, load_templates, save_prompt_set, templates_for_family,
                            variants_with_gaps)
from ui.common import CUSTOM, NONE, user_errors, with_named_inputs

SECTIONS = {"subject": Subject, "clothing": Clothing, "scene": Scene}
REWRITTEN = "LLM rewrite"


def field_help(name: str, example: str = "") -> str:
    if name in FALLBACKS:
        return f"Short form some templates use; left empty, it comes from '{FALLBACKS[name]}'."
    return f"e.g. {example}" if example else "What the picture shows; leave empty if it does not show it."


def field_names() -> list[tuple[str, str]]:
    return [(section, f.name) for section, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def api_names() -> list[str]:
    """The API's name for each description field: the field's own, or section_field where two share one."""
    plain = [name for _, name in field_names()]
    return [name if plain.count(name) == 1 else f"{section}_{name}" for section, name in field_names()]


def description_from(values) -> ReferenceDescription:
    data: dict = {section: {} for section in SECTIONS}
    for (section, name), value in zip(field_names(), values):
        data[section][name] = value or ""
    return ReferenceDescription.from_dict(data)


def metadata_from(clip_name: str, caption: str) -> tuple[dict, str]:
    """Metadata words from an AIST clip name, and a table of what the name says."""
    metadata = {"caption": caption or ""}
    if not (clip_name or "").strip():
        return metadata, ""
    clip = parse_aist_name(clip_name.strip())
    metadata.update(clip.words())
    rows = "\n".join(f"| {field} | {value} |" for field, value in clip.table())
    return metadata, f"| from the name | |\n|---|---|\n{rows}"


def token_note(engine, text: str, missing: list[str]) -> str:
    if missing:
        return f"Not built: fill {', '.join(missing)} (this variant needs them)."
    limit = engine.spec.max_sequence_length
    tokens = engine.count_tokens(text) if text.strip() else 0
    note = f"{tokens} / {limit} tokens" + (" — **truncated**: the end is cut off" if tokens > limit else "")
    return note + unknown_words_note(engine, text)


def unknown_words_note(engine, text: str) -> str:
    """On the toy, the words of a prompt it never learned (it reads them as stray letters); else ''."""
    if engine.spec.family != "toy":
        return ""
    from engine.toy.model import listed, unknown_words

    unknown = unknown_words(text)
    return f" · words the toy never learned: {listed(unknown, 8)}" if unknown else " · every word is one the toy knows"


def start_preset(engine) -> str:
    """The description shown and loaded when the page opens: the toy's sample puppet on the toy."""
    return "toy-sample" if engine.spec.family == "toy" else "lab-sample"


def ticked_at_start(templates: dict, family: str) -> list[str]:
    """Variants ticked for saving when the page opens: the toy's own on the toy, else the blog's three."""
    if family == "toy":
        return [name for name, template in templates.items() if template.family == "toy"]
    return list(templates)[:3]


def build_prompts_tab(engine, links: dict):
    templates = templates_for_family(load_templates([workspace_dir("prompt_templates")]), engine.spec.family)
    blog = ReferenceDescription.from_preset("blog-reference").fields()
    if engine.spec.family == "toy":
        gr.Markdown("The toy reads only its puppet world's words (\"a person in a red top and blue trousers dances "
                    "on a striped grey background\"): the *Toy* variants are written in them, from the sample "
                    "puppet's description; save them as a prompt set and sweep it to see what each word does. "
                    "The other variants are written for Wan: the toy reads them as noise, and each note names the "
                    "words it never learned (its tokenizer splits them into letters, so their token counts are "
                    "higher than Wan's umt5 gives).")
    elif engine.family.small:
        gr.Markdown(f"Token counts use the {engine.spec.name} engine's tokenizer, which splits unknown words into "
                    "letters: real counts with Wan's umt5 tokenizer are lower.")
    with gr.Row():
        with gr.Column(scale=2):
            with gr.Row():
                preset = gr.Dropdown(sorted(p.stem for p in DESCRIPTIONS_DIR.glob("*.yaml")), value=start_preset(engine),
                                     label="Description preset", info="Fill the fields from a saved description.")
                load_button = gr.Button("Load preset")
            gr.Markdown("Describe the reference picture. Grey examples are the blog's reference; leave empty "
                        "what the picture does not show.")
            field_boxes = []
            start = ReferenceDescription.from_preset(start_preset(engine)).to_dict()  # the preset the dropdown shows
            for section, cls in SECTIONS.items():
                with gr.Accordion(section.capitalize(), open=section == "subject"):
                    for f in dataclasses.fields(cls):
                        field_boxes.append(gr.Textbox(label=f.name.replace("_", " "), max_lines=1,
                                                      value=start[section][f.name],
                                                      placeholder=blog.get(f.name, ""),
                                                      info=field_help(f.name, blog.get(f.name, ""))))
            with gr.Accordion("Clip metadata and caption", open=True):
                clip_name = gr.Textbox(label="Clip file name", placeholder="gBR_sBM_c01_d04_mBR0_ch01.mp4",
                                       info="AIST++ names add genre, situation, camera and dancers.")
                clip_table = gr.Markdown(label="Clip metadata")
                reference = gr.Image(label="Reference to caption", type="filepath", sources=["upload"], height=200)
                caption = gr.Textbox(label="Caption", lines=3,
                                     info=f"Type one, or caption the picture with {CAPTIONER_ID} (downloads its weights).")
                with gr.Row():
                    caption_button = gr.Button("Caption the picture")
                    rewrite_button = gr.Button("Rewrite caption + metadata")
        with gr.Column(scale=3):
            build_button = gr.Button("Build variants", variant="primary")
            include, boxes, notes = [], [], []
            ticked = ticked_at_start(templates, engine.spec.family)
            # Built from the preset the fields show, so the ticked variants can be swept at once (empty, the
            # first click on "Sweep ticked prompts" said the set was empty).
            built = variants_with_gaps(ReferenceDescription.from_dict(start), {"caption": ""}, templates)
            for name, template in [*templates.items(), (REWRITTEN, None)]:
                with gr.Group():
                    include.append(gr.Checkbox(value=name in ticked, label=f"include {name}",
                                               info="ticked variants are saved as a prompt set"))
                    info = template.description if template else f"Caption + metadata rewritten by {REWRITER_ID}."
                    boxes.append(gr.Textbox(built.get(name, ("", []))[0], label=name, info=info, lines=3,
                                            interactive=True))
                    notes.append(gr.Markdown(label=f"{name}: tokens"))
            with gr.Row():
                recount_button = gr.Button("Recount tokens")
                set_name = gr.Textbox(label="Prompt set name", value="my-prompts", max_lines=1,
                                      info="Saved for sweeps as a prompt axis: letters, digits, - and _.")
                save_button = gr.Button("Save ticked prompts")
                sweep_button = gr.Button("Sweep ticked prompts", elem_id="prompts-to-sweep")
            saved = gr.File(label="Saved prompt set")
            with gr.Row():
                chosen = gr.Dropdown([*templates, REWRITTEN], value=next(iter(templates)), label="Variant to use",
                                     info="the variant 'Use in Generate' sends")
                send_button = gr.Button("Use in Generate")

    names = [*templates, REWRITTEN]

    @user_errors
    def on_load(name):
        values = ReferenceDescription.from_preset(name).to_dict()
        return [values[section][field] for section, field in field_names()]

    @user_errors
    def on_build(*values):
        *fields, clip, caption_text = values
        metadata, table = metadata_from(clip, caption_text)
        variants = variants_with_gaps(description_from(fields), metadata, templates)
        texts = [text for text, _ in variants.values()]
        token_notes = [token_note(engine, text, missing) for text, missing in variants.values()]
        return [table, *texts, *token_notes]

    @user_errors
    def on_recount(*texts):
        return [token_note(engine, text or "", []) for text in texts]

    @user_errors
    def on_caption(image_path):
        if not image_path:
            raise ValueError("add a picture to caption first")
        from engine import media

        return Captioner().caption(media.load_image(image_path))

    @user_errors
    def on_rewrite(clip, caption_text):
        metadata, _ = metadata_from(clip, caption_text)
        text = Rewriter().rewrite(caption_text or "", metadata)
        return text, token_note(engine, text, [])

    @user_errors
    def on_save(name, *values):
        ticks, texts = values[: len(names)], values[len(names):]
        path = save_prompt_set(name, {n: t for n, tick, t in zip(names, ticks, texts) if tick})
        gr.Info(f"Saved {path.name}: sweeps can use it as a prompt axis.")
        return str(path)

    @user_errors
    def on_sweep(name, *values):
        """Save the ticked prompts, then open the Sweep tab with them on its X axis."""
        path = on_save(name, *values)
        names = ", ".join(load_prompt_set(path))
        return CUSTOM, "prompt", names, NONE, "", NONE, "", name, gr.Tabs(selected="sweep")

    def on_send(name, *texts):
        return texts[names.index(name)], gr.Tabs(selected="generate")

    load_button.click(on_load, preset, field_boxes, queue=False, api_visibility="private")
    with_named_inputs(on_build, [*api_names(), "clip_name", "caption"], [*field_boxes, clip_name, caption])
    build_button.click(on_build, [*field_boxes, clip_name, caption], [clip_table, *boxes[:-1], *notes[:-1]],
                       api_name="prompt_variants", concurrency_id="inspect")
    recount_button.click(on_recount, boxes, notes, api_name="count_tokens", concurrency_id="inspect")
    caption_button.click(on_caption, reference, caption, api_name="caption", concurrency_id="model")
    rewrite_button.click(on_rewrite, [clip_name, caption], [boxes[-1], notes[-1]], api_name="rewrite",
                         concurrency_id="model")
    save_button.click(on_save, [set_name, *include, *boxes], saved, api_name="save_prompt_set")

    def connect_sweep():  # the Sweep tab is built after this one
        sweep = links["sweep"]
        (x_field, x_values), (y_field, y_values), (z_field, z_values) = (sweep["axes"][n] for n in ("x", "y", "z"))
        sweep_button.click(on_sweep, [set_name, *include, *boxes],
                           [sweep["preset"], x_field, x_values, y_field, y_values, z_field, z_values,
                            sweep["prompt_set"], links["tabs"]], queue=False, api_visibility="private")

    links.setdefault("after_build", []).append(connect_sweep)
    send_button.click(on_send, [chosen, *boxes], [links["generate"]["prompt"], links["tabs"]],
                      api_visibility="private")
    return {}
