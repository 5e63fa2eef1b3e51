"""The Sweep tab through Gradio's queue and HTTP API."""

import pytest
from PIL import Image

from ui.sweep_tab import axis_widgets_for


def sweep_inputs(preset="(custom)", x=("seed", "1,2"), y=("", ""), z=("", ""), overrides="num_inference_steps=2\nnum_frames=9"):
    """The Sweep tab's inputs by name (the API's parameter names)."""
    return dict(preset=preset, x_field=x[0], x_values=x[1], y_field=y[0], y_values=y[1], z_field=z[0], z_values=z[1],
                settings=overrides)


def test_presets_fill_the_axis_widgets():
    assert axis_widgets_for("blog-guidance")[:4] == ["guidance_scale", "3, 5, 7.5", "lora", "none, $lora"]
    assert axis_widgets_for("(custom)") == ["", ""] * 3


def test_a_blog_preset_on_the_toy_runs_in_the_toys_words_and_the_settings_box_still_wins(tmp_path):
    from engine.engine import Engine
    from services.runner import SweepRunner
    from ui.sweep_tab import plan_summary, spec_from_widgets

    toy = Engine.from_name("toy")  # nothing loads: the spec needs the model's family and sample files only
    axes = {"x": ("seed", "1, 2"), "y": ("none", ""), "z": ("none", "")}
    spec, note = spec_from_widgets(toy, "seeds", axes, "", None, None, None)
    assert spec.base["prompt"] == toy.sample_inputs()["prompt"] and "puppet world's words" in note
    spec, _ = spec_from_widgets(toy, "seeds", axes, "prompt=a person waves", None, None, None)
    assert spec.base["prompt"] == "a person waves"
    # What the preset fixes for every cell is said on the page (the settings box shows only what was typed); the
    # seed varies along X, so it is not among them.
    runner = SweepRunner(toy, spec, tmp_path)
    every_cell = plan_summary(runner, runner.plan()).split("\n\n")[1]
    assert every_cell.startswith("Every cell: model toy · Steps 50 · CFG 5 · Shift 3 · ")
    assert every_cell.endswith('prompt "a person waves"') and "Seed" not in every_cell


def test_choosing_a_prompt_set_puts_its_names_on_a_prompt_axis_that_sweeps_them(tmp_path):
    from engine.engine import Engine
    from engine.prompts.variants import save_prompt_set
    from services.runner import SweepRunner
    from ui.sweep_tab import axes_with_prompt_set, spec_from_widgets

    prompts = {"Toy: clothes and floor": "a person in a red top and blue trousers dances on a grey background",
               "Toy: floor only": "a person dances on a grey background"}
    save_prompt_set("toy-words", prompts)
    names = "Toy: clothes and floor, Toy: floor only"
    assert axes_with_prompt_set("toy-words", ["seed", "1, 2", "", "", "", ""]) == ["seed", "1, 2", "prompt", names, "", ""]
    assert axes_with_prompt_set("toy-words", ["seed", "1", "prompt", "x", "", ""])[2:4] == ["prompt", names]
    assert axes_with_prompt_set("", ["seed", "1", "", "", "", ""]) == ["seed", "1", "", "", "", ""]
    x_field, x_values, *_ = axes_with_prompt_set("toy-words", ["", "", "", "", "", ""])
    toy = Engine.from_name("toy")
    spec, _ = spec_from_widgets(toy, "(custom)", {"x": (x_field, x_values), "y": ("", ""), "z": ("", "")}, "",
                                "toy-words", None, None)
    cells = SweepRunner(toy, spec, tmp_path).cells
    assert [cell.request.prompt for cell in cells] == list(prompts.values())


def test_plan_then_run_gives_the_grid_and_named_downloads(client):
    plan = client.predict(**sweep_inputs(), api_name="/sweep_plan")
    assert "2 cells (0 already finished), 4 denoising steps" in plan and "s/step" in plan
    header, status, cells, gif, sheet, table, files, plot, metric, note = client.predict(tile_scale=0.5, **sweep_inputs(),
                                                                                        api_name="/sweep")
    assert status.startswith("Done.") and len(cells) == 2
    with Image.open(gif) as image:
        assert image.n_frames == 9
    names = [path.rsplit("/", 1)[-1] for path in files]
    assert any(n.startswith("sweep-seed-") and n.endswith(".gif") for n in names)
    assert {"cells.csv", "manifest.json"} <= set(names) and any(n.endswith(".zip") for n in names)
    assert table["headers"][:3] == ["cell", "Seed", "status"]  # short words: no header wraps letter by letter
    assert "error" not in table["headers"]  # no cell failed: the empty column is left out
    from services.metrics import default_plot, label

    measured = [key for _, key in metric["choices"]]
    assert "pose_adherence" not in measured  # only what was measured
    assert metric["value"] == default_plot(measured) != "motion"  # the most telling metric, plotted first
    assert [name for name, _ in metric["choices"]] == [label(key) for key in measured]  # by the table's names
    assert plot and label(metric["value"]) in str(plot)
    assert f"Not measured, {label('pose_adherence')}: the control video has no keypoints.json" in note  # beside the plot
    assert label("toy_figure_f1") not in note  # the tiny model could never measure the toy's scores


def test_a_blog_preset_without_a_lora_plans_its_pretrained_half(client):
    plan = client.predict(**sweep_inputs(preset="blog-guidance", x=("guidance_scale", "3,5"), y=("lora", "none, $lora")),
                          api_name="/sweep_plan")
    assert plan.startswith("**Plan:** 2 cells") and "running the pretrained half only" in plan


def test_sweep_errors_are_one_line(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="this sweep uses a LoRA: choose one"):
        client.predict(**sweep_inputs(preset="blog-lora-strength", x=("lora_scale", "0.5, 1")), api_name="/sweep_plan")
    with pytest.raises(AppError, match="'x' is not a number or range"):
        client.predict(**sweep_inputs(x=("guidance_scale", "3,x")), api_name="/sweep_plan")
    with pytest.raises(AppError, match="more than max_cells=64; use fewer values; the cap is raised only on the command line"):
        client.predict(**sweep_inputs(x=("seed", "1-20"), y=("guidance_scale", "1-10")), api_name="/sweep_plan")


def test_history_reopens_a_sweep_compares_cells_and_reruns_one(client):
    client.predict(frame_step=2, **sweep_inputs(x=("seed", "1,2")), api_name="/sweep")
    from ui.history_tab import run_names

    name = run_names()[0]
    summary, gif, sheet, table, first, second, files = client.predict(name, api_name="/history_open")
    assert "2 cells (2 done)" in summary and gif.endswith(".gif")
    difference = client.predict(name, "x00", "x01", api_name="/history_diff")
    assert "| Seed | 1 | 2 |" in difference  # by the name the table gives it
    summary, *_ = client.predict(name, "x01", api_name="/history_rerun")
    assert "2 cells (2 done)" in summary


def test_a_prompt_set_saved_in_the_prompts_tab_feeds_a_prompt_axis(client):
    ticks = [True, True] + [False] * 6
    texts = ["a man dancing in a studio", "a man dancing on a beach"] + [""] * 6
    client.predict("two-settings", *ticks, *texts, api_name="/save_prompt_set")
    inputs = sweep_inputs(x=("prompt", "Detailed Default, Lighting & Quality"))
    plan = client.predict(**inputs, prompt_set="two-settings", api_name="/sweep_plan")
    assert plan.startswith("**Plan:** 2 cells")
