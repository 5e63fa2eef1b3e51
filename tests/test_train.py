"""The LoRA trainer on the tiny model: what changes, that it learns, that its LoRA loads, exact resume."""

from pathlib import Path

import numpy as np
import pytest
import torch

from engine.train.metadata_csv import ClipRow, write_metadata_csv
from engine.train.trainer import Trainer, TrainConfig, TrainingCancelled, list_checkpoints
from tests.helpers import write_video

FAST = dict(height=32, width=32, num_frames=5, learning_rate=5e-3, warmup_steps=2, sampler="uniform",
            checkpoint_every=1000)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """One 9-frame clip with its pose video and a prompt, in metadata.csv form."""
    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    frames = [np.clip(80 + 10 * i + rng.integers(0, 40, (32, 32, 3)), 0, 255).astype(np.uint8) for i in range(9)]
    pose = [np.zeros((32, 32, 3), np.uint8) for _ in range(9)]
    for i, frame in enumerate(pose):
        frame[4:28, 10 + i:14 + i] = (255, 0, 0)
    write_video(folder / "clip.mp4", frames, 16)
    write_video(folder / "clip_pose.mp4", pose, 16)
    write_metadata_csv([ClipRow("clip.mp4", "a person dancing", "clip_pose.mp4", "")], folder / "metadata.csv")
    return folder


def make_trainer(dataset, out, **changes):
    trainer = Trainer(TrainConfig(**(FAST | changes)), dataset, out, model="tiny")
    trainer.load_model()
    trainer.prepare_data()
    return trainer


def test_only_lora_parameters_change(dataset, tmp_path):
    trainer = make_trainer(dataset, tmp_path, max_steps=3)
    before = {name: p.detach().clone() for name, p in trainer.transformer.named_parameters()}
    trainer.run()
    changed = {name for name, p in trainer.transformer.named_parameters() if not torch.equal(p, before[name])}
    assert changed and all("lora_" in name for name in changed)
    assert all(".attn1." in name for name in changed)  # the self_attention target


def test_loss_falls_when_overfitting_one_clip(dataset, tmp_path):
    trainer = make_trainer(dataset, tmp_path, max_steps=40, reference_dropout=0, prompt_dropout=0, rank=16,
                           lora_alpha=16, target="main_blocks")
    trainer.make_optimizer()
    before = trainer.evaluation_loss()
    for step in range(40):
        trainer.train_step(step)
    assert trainer.evaluation_loss() < 0.8 * before


def test_samples_sharing_a_forward_pass_get_the_losses_they_get_alone(dataset, tmp_path):
    """A micro-batch of one shape runs as one forward pass; each sample's loss is what it would be alone."""
    trainer = make_trainer(dataset, tmp_path, max_steps=1)
    trainer.make_optimizer()
    trainer.transformer.eval()
    sample = trainer.encoded[0]
    generator = torch.Generator().manual_seed(0)  # the batch draws its noise in the order the two draw theirs
    with torch.no_grad():
        alone = [float(trainer.batch_losses([sample], [0.3], generator, False, [False])[0]),
                 float(trainer.batch_losses([sample], [0.7], generator, False, [True])[0])]
        together = trainer.batch_losses([sample, sample], [0.3, 0.7], torch.Generator().manual_seed(0), False,
                                        [False, True]).tolist()
    assert together == pytest.approx(alone, rel=1e-4) and alone[0] != pytest.approx(alone[1], rel=1e-3)


def test_the_saved_lora_loads_in_the_engine_and_strength_zero_is_the_base(dataset, tmp_path, tiny_engine,
                                                                          tiny_request):
    trainer = make_trainer(dataset, tmp_path / "run", max_steps=3, learning_rate=5e-2)
    lora = trainer.run()
    assert lora.name == "pytorch_lora_weights.safetensors" and (lora.parent / "config.yaml").is_file()
    from engine.lora import training_prompt
    from engine.train.data import find_samples

    assert training_prompt(lora) == find_samples(dataset)[0].prompt  # Generate shows it beside the LoRA
    base = tiny_engine.generate(tiny_request).frames
    zero = tiny_engine.generate(tiny_request.replace(lora=str(lora), lora_scale=0.0)).frames
    full = tiny_engine.generate(tiny_request.replace(lora=str(lora), lora_scale=1.0)).frames
    assert np.array_equal(base, zero) and not np.array_equal(base, full)


def test_resume_repeats_the_uninterrupted_losses(dataset, tmp_path):
    straight = make_trainer(dataset, tmp_path / "a", max_steps=6, checkpoint_every=3, reference_dropout=0.5,
                            prompt_dropout=0.5)
    straight.run()
    first = make_trainer(dataset, tmp_path / "b", max_steps=6, checkpoint_every=3, reference_dropout=0.5,
                         prompt_dropout=0.5)
    with pytest.raises(TrainingCancelled, match="stopped at step 3"):
        first.run(should_stop=lambda: len(first.losses) == 3)
    checkpoint = list_checkpoints(tmp_path / "b")[-1].parent
    resumed = make_trainer(dataset, tmp_path / "b", max_steps=6, checkpoint_every=3, reference_dropout=0.5,
                           prompt_dropout=0.5)
    resumed.run(resume=checkpoint)
    expected = [record["loss"] for record in straight.losses]
    got = [record["loss"] for record in first.losses] + [record["loss"] for record in resumed.losses]
    assert got == pytest.approx(expected, rel=1e-5)


def test_dropout_rates_are_what_the_config_says(dataset, tmp_path):
    trainer = make_trainer(dataset, tmp_path, reference_dropout=0.3, prompt_dropout=0.1, max_steps=1)
    drops = [draw for step in range(2000) for draw in trainer.draws(1, step, trainer.step_generator(step))]
    reference_rate = np.mean([d.drop_reference for d in drops])
    prompt_rate = np.mean([d.drop_prompt for d in drops])
    assert abs(reference_rate - 0.3) < 0.035 and abs(prompt_rate - 0.1) < 0.025


def test_the_config_sits_beside_every_checkpoint(dataset, tmp_path):
    trainer = make_trainer(dataset, tmp_path, max_steps=4, checkpoint_every=2)
    trainer.run()
    checkpoints = list_checkpoints(tmp_path)
    assert [Path(c).parent.name for c in checkpoints] == ["checkpoint-000002"]
    assert (checkpoints[0].parent / "config.yaml").is_file() and (tmp_path / "loss.csv").is_file()


def test_two_cpu_processes_train_one_lora_with_accelerate(dataset, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "-m", "experiments", "train", "self-attention", "--data", str(dataset), "--out", str(tmp_path),
               "--model", "tiny", "--set", "height=32", "--set", "width=32", "--set", "num_frames=5",
               "--set", "max_steps=4", "--set", "checkpoint_every=2", "--set", "gradient_accumulation=1"]
    result = subprocess.run(command, cwd=REPO, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "pytorch_lora_weights.safetensors").is_file()
    assert (tmp_path / "checkpoint-000002" / "training_state.pt").is_file()
    rows = (tmp_path / "loss.csv").read_text().strip().splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["1", "2", "3", "4"]  # one writer, one row per step
    assert rows[0].split(",")[2] == "2.000e-05"  # the schedule counts optimizer steps, not processes


def test_validation_videos_at_a_fixed_seed_and_the_estimate(dataset, tmp_path):
    trainer = make_trainer(dataset, tmp_path, max_steps=2, validate_every=1)
    trainer.run()
    videos = sorted(tmp_path.glob("validation/step-*/video.mp4"))
    assert [v.parent.name for v in videos] == ["step-000000", "step-000001", "step-000002"]  # from before training
    estimate = trainer.estimate()  # 2 latent frames + the reference, 2 x 2 patches
    assert estimate.tokens == 3 * 2 * 2 and estimate.trainable_parameters == trainer.trainable_parameters
