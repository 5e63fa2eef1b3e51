"""Train tab: widgets -> TrainConfig, and a run end to end over the API (run management has its own tests
in test_train_runs.py)."""

import time
from pathlib import Path

import pytest

from services.train_runs import checkpoint_values, resolve_checkpoint, runs_dir
from ui.train_tab import build_config, checkpoint_choices

DEFAULTS = dict(preset="self-attention", max_steps=2, rank=4, learning_rate=1e-3, sampler="uniform",
                gradient_accumulation=1, checkpoint_every=1, validate_every=0, height=32, width=32, num_frames=5,
                gradient_checkpointing=False, more="")


def config_values(**changes):
    """The Train tab's settings by name (build_config's parameters, which are also the API's names)."""
    return DEFAULTS | changes


def test_widgets_become_a_config_preset_first_then_fields_then_settings():
    config = build_config(**config_values(more="seed=7\nreference_dropout=0.1"))
    assert config.target == "self_attention" and config.rank == 4 and config.lora_alpha == 4.0
    assert config.seed == 7 and config.reference_dropout == 0.1


def test_choosing_a_preset_shows_its_recipe_and_the_shown_values_train_it_exactly():
    from engine.train.config import TrainConfig
    from ui.train_tab import SHOWN_FIELDS, preset_widget_values

    for name in TrainConfig.preset_names():
        shown = dict(zip(SHOWN_FIELDS, preset_widget_values(name)))
        preset = TrainConfig.from_preset(name)
        assert build_config(preset=name, more="", **shown) == preset.with_changes(lora_alpha=float(preset.rank)), name
    toy_blog = dict(zip(SHOWN_FIELDS, preset_widget_values("toy-blog")))
    assert (toy_blog["max_steps"], toy_blog["rank"], toy_blog["learning_rate"]) == (150, 32, 2e-3)


def test_the_toys_one_click_sample_trains_the_toy_blog_recipe_with_validation_videos():
    from engine.train.config import TrainConfig
    from ui.train_tab import SHOWN_FIELDS, toy_sample_widget_values

    shown = dict(zip(SHOWN_FIELDS, toy_sample_widget_values()))
    assert shown["validate_every"] == 50
    config = build_config(preset="toy-blog", more="", **shown)
    assert config == TrainConfig.from_preset("toy-blog").with_changes(validate_every=50, lora_alpha=32.0)


@pytest.mark.parametrize("changes,reason", [
    (dict(num_frames=6), "4n\\+1"),
    (dict(more="rnak=3"), "expected FIELD=VALUE"),
    (dict(preset="../../etc/passwd"), "unknown training preset"),
])
def test_bad_settings_name_the_problem(changes, reason):
    with pytest.raises(ValueError, match=reason):
        build_config(**config_values(**changes))


@pytest.fixture(scope="module")
def first_run(app_url):
    """One run of the sample over the API (two steps, a checkpoint each): its reply and how long it took. Each
    run is a training process of its own, so the tests share it."""
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    assert client.predict(api_name="/train_sample_dataset")[0]["value"] == "sample"
    started = time.time()
    reply = client.predict(dataset="sample", **config_values(), api_name="/train")
    return reply, time.time() - started


def test_train_over_the_api_then_its_checkpoints_feed_a_sweep(client, first_run):
    estimate = client.predict(**config_values(), api_name="/train_estimate")
    assert "Before launch" in estimate and "trainable" in estimate
    (status, plot, validation, log, files, _progress), seconds = first_run
    assert status.startswith("Done"), log
    names = sorted(Path(f).name for f in files)
    assert [name.split("-")[0] for name in names] == ["config", "lora", "lora", "loss", "train"]
    assert names[1].endswith("-self-attention-comfyui.safetensors")  # the same LoRA in ComfyUI naming
    assert names[2].endswith("-self-attention.safetensors")  # lora-<run>.safetensors
    run_dir = next(runs_dir().glob("*-self-attention"))
    values = checkpoint_values(run_dir)
    from engine.lora import list_loras

    assert not any(path.name.startswith("lora-") for path in list_loras())  # downloads are not extra LoRAs
    assert values.count("checkpoint-") == 1 and values.endswith("pytorch_lora_weights.safetensors")
    assert seconds < 120


def test_resume_continues_a_run_from_its_checkpoint(client, first_run):
    from engine.train.trainer import read_loss_csv

    checkpoint = checkpoint_choices()[1][1]  # the newest: <run>/checkpoint-000001
    assert checkpoint.endswith("checkpoint-000001")
    status, *_ = client.predict(dataset="sample", **config_values(max_steps=3), resume_from=checkpoint, api_name="/train")
    assert status.startswith("Done"), status
    steps = [int(row["step"]) for row in read_loss_csv(runs_dir() / checkpoint.split("/")[0])]
    assert steps[-1] == 3 and steps.count(2) == 2  # step 2 again after resuming at 1, then 3
    with pytest.raises(ValueError, match="no checkpoint"):
        resolve_checkpoint("../../etc")


def test_the_estimate_on_a_cpu_gives_this_machines_time_once_a_pass_was_measured(tiny_engine, monkeypatch):
    from engine.train.config import TrainConfig
    from ui.train_tab import estimate_text

    config = TrainConfig.from_preset("self-attention").with_changes(height=64, width=112, num_frames=9, batch_size=2,
                                                                    gradient_accumulation=1,
                                                                    max_steps=100)
    monkeypatch.setattr(type(tiny_engine), "device", property(lambda self: "cpu"))
    monkeypatch.delitem(tiny_engine._pass_seconds, (64, 112, 9), raising=False)  # other tests generate at this size
    assert "generate once at 112x64, 9 frames" in estimate_text(tiny_engine, config)
    monkeypatch.setitem(tiny_engine._pass_seconds, (64, 112, 9), 0.5)
    # 3 passes a sample x 2 samples x 0.5 s = 3 s a step; 100 steps = 5 min
    assert "about 3.0 s a step" in estimate_text(tiny_engine, config) and "5 min for 100 steps" in estimate_text(
        tiny_engine, config)
