from ui.plots import metric_figure, sweep_figures


def rows():
    # guidance on X, lora on Y, two seeds each: motion rises with guidance, seeds disagree by 1.
    data = []
    for lora in ("none", "mine"):
        for cfg in ("3.0", "5.0", "7.5"):
            for seed, noise in (("1", -0.5), ("2", 0.5)):
                data.append({"guidance_scale": cfg, "lora": lora, "seed": seed, "status": "done",
                             "motion": str(float(cfg) + noise + (1 if lora == "mine" else 0)), "seconds": "2.0",
                             "temporal_consistency": "0.9", "reference_similarity": "0.5"})
    data.append({"guidance_scale": "3.0", "lora": "none", "seed": "3", "status": "failed", "motion": ""})
    return data


def test_one_line_per_y_value_with_mean_and_spread_over_seeds():
    figure = metric_figure(rows(), "motion", "guidance_scale", "lora")
    assert [trace.name for trace in figure.data] == ["Pretrained", "LoRA mine"]  # as the grid labels them
    none = figure.data[0]
    assert list(none.x) == [3.0, 5.0, 7.5] and list(none.y) == [3.0, 5.0, 7.5]
    assert list(none.error_y.array) == [0.5, 0.5, 0.5]
    assert list(figure.data[1].y) == [4.0, 6.0, 8.5]


def test_sweep_figures_use_seeds_as_spread_and_skip_without_x():
    figures = sweep_figures(rows(), {"x": "guidance_scale", "y": "lora", "z": "seed"})
    assert set(figures) == {"temporal_consistency", "motion", "reference_similarity", "seconds"}
    assert len(figures["motion"].data) == 2
    assert sweep_figures(rows(), {}) == {}
    steps = sweep_figures([{"num_inference_steps": "20", "guidance_scale": "5.0", "status": "done", "seconds": "4"}],
                          {"x": "guidance_scale", "y": "num_inference_steps"})
    assert "runtime_vs_steps" in steps


def test_file_values_read_as_file_names_and_axes_have_their_labels():
    data = [{"reference": f"/long/path/to/{name}.png", "lora": "/a/very/long/folder/run/lora.safetensors",
             "status": "done", "motion": "1.0"} for name in ("first", "second")]
    figure = metric_figure(data, "motion", "reference", "lora")
    assert [str(x) for x in figure.data[0].x] == ["Ref: first.png", "Ref: second.png"]
    assert "/long/path" not in figure.data[0].name and figure.layout.xaxis.title.text == "Reference image"
    assert figure.layout.xaxis.automargin and figure.layout.yaxis.automargin
