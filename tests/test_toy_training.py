"""The toy model's training stages: the world encodes exactly as the pipeline prepares it, and the lab's
trainer trains every weight with target full (checked on the tiny pipeline: fast, same classes)."""

import numpy as np
import pytest
import torch
from PIL import Image

from engine.toy import world
from engine.toy.world import training_seeds
from engine.toy.factory.training import WorldEncoder
from engine.toy.world import HELDOUT_SEED_START


@pytest.fixture(scope="module")
def tiny_pipe():
    from engine.tiny import build_tiny_pipeline

    return build_tiny_pipeline()


def test_world_encoding_equals_the_pipelines_own_preparation(tiny_pipe):
    pipe = tiny_pipe
    sample = world.make_sample(3, num_frames=5, height=64, width=112)
    encoder = WorldEncoder(pipe, num_frames=5, height=64, width=112)
    [ours] = encoder.encode_samples([sample])
    video, mask, references = pipe.preprocess_conditions(
        [Image.fromarray(f) for f in sample.pose_video], None, Image.fromarray(sample.reference), 1, 64, 112, 5,
        torch.float32, torch.device("cpu"))
    with torch.no_grad():
        latents = pipe.prepare_video_latents(video, mask, references, None, torch.device("cpu"))
    expected = torch.cat([latents, pipe.prepare_masks(mask, references, None)], dim=1).float()
    torch.testing.assert_close(ours["conditioning"], expected, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(ours["conditioning_without_reference"], expected[:, :, 1:], atol=1e-5, rtol=1e-4)
    assert ours["target"].shape[2] == ours["conditioning"].shape[2]  # reference latent + clip latents


def test_training_seeds_are_distinct_and_never_held_out():
    seeds = training_seeds(500)
    assert len(set(seeds)) == 500 and max(seeds) < HELDOUT_SEED_START
    assert seeds == training_seeds(500)


def test_figure_weights_cover_the_figure_on_the_latent_grid():
    from engine.toy.factory.training import figure_weight

    sample = world.make_sample(4)
    weight = figure_weight(sample.parts, 10.0)
    assert tuple(weight.shape) == (1, 1, 5, 32, 56)  # 17 frames: 1 + 16 / 4 latent frames, 4x smaller
    assert set(weight.unique().tolist()) == {1.0, 10.0}
    rows, cols = (sample.parts[0] > 0).nonzero()
    assert weight[0, 0, 0, rows // 4, cols // 4].eq(10.0).all()  # every figure pixel of frame 0 is weighted
    assert 0.05 < float((weight > 1).float().mean()) < 0.4  # the figure, not the frame


def test_a_loss_weight_focuses_the_training_loss():
    """Uniform weights give the plain loss; a weight on one position gives that position's error."""
    from engine.train.trainer import weighted_mse

    target = torch.zeros(1, 16, 2, 4, 4)
    prediction = torch.zeros(1, 16, 2, 4, 4)
    prediction[:, :, 1, 0, 0] = 3.0  # wrong at one position only
    plain = weighted_mse(prediction, target)
    assert float(weighted_mse(prediction, target, torch.full((1, 1, 2, 4, 4), 5.0))) == pytest.approx(float(plain))
    focused = torch.zeros(1, 1, 2, 4, 4)
    focused[:, :, 1, 0, 0] = 1.0
    assert float(weighted_mse(prediction, target, focused)) == pytest.approx(9.0)
    assert float(plain) == pytest.approx(9.0 / 32)


def test_a_training_leg_goes_on_from_a_finished_run_and_records_itself(tiny_pipe, tmp_path):
    """`toy train --more`: the transformer trains on from the finished pipeline, the pipeline it started from
    is kept, and the run record lists the leg (the model card reads it)."""
    import json

    from engine.toy.factory.build import ToyRecipe, extend_toy_model

    with pytest.raises(FileNotFoundError, match="no finished pipeline"):
        extend_toy_model(tmp_path, steps=2)
    tiny_pipe.save_pretrained(tmp_path / "pipeline")
    (tmp_path / "toy_run.json").write_text(json.dumps({"recipe": {"clips": 2}}))
    recipe = ToyRecipe(foreground_weight=1.0)  # the tiny VAE's latent grid is not the toy's
    recipe.transformer = recipe.transformer.with_changes(batch_size=1)
    before = {name: value.clone() for name, value in tiny_pipe.transformer.state_dict().items()}

    final = extend_toy_model(tmp_path, steps=2, recipe=recipe)

    record = json.loads((final / "toy_run.json").read_text())
    assert [(leg["steps"], leg["clips"]) for leg in record["legs"]] == [(2, 2)]
    assert (tmp_path / "pipeline-before-leg-1" / "model_index.json").is_file()
    from safetensors.torch import load_file

    [weights] = (final / "transformer").glob("*.safetensors")
    after = load_file(weights)
    assert any(not torch.equal(after[name].float(), before[name].half().float()) for name in before)


def test_a_leg_goes_on_from_the_shipped_model_in_a_fresh_folder(tiny_pipe, tmp_path):
    """`toy train --from-shipped --more N`: where the run that made the shipped toy is not at hand (a fresh
    clone, a GPU machine), a leg starts from the shipped pipeline and numbers itself after its legs."""
    import json

    from engine.toy.factory.build import ToyRecipe, extend_toy_model, start_from_shipped

    shipped = tmp_path / "assets-toy"
    tiny_pipe.save_pretrained(shipped)
    (shipped / "toy_run.json").write_text(json.dumps({"recipe": {"clips": 2}, "legs": [
        {"steps": 5, "clips": 2, "learning_rate": 1e-4, "foreground_weight": 1.0, "seconds": 1}]}))
    run = tmp_path / "run"
    final = start_from_shipped(run, source=shipped)
    assert (final / "transformer" / "config.json").is_file() and (run / "toy_run.json").is_file()
    recipe = ToyRecipe(foreground_weight=1.0)  # the tiny VAE's latent grid is not the toy's
    recipe.transformer = recipe.transformer.with_changes(batch_size=1)

    extend_toy_model(run, steps=2, recipe=recipe)

    record = json.loads((run / "toy_run.json").read_text())
    assert [leg["steps"] for leg in record["legs"]] == [5, 2] and (run / "leg-2" / "loss.csv").is_file()
    assert record["legs"][-1]["from_shipped"] and "started_from_shipped" not in record  # the card's --from-shipped
    assert start_from_shipped(run, source=shipped) == final  # a stopped leg resumes: nothing copied over it
    assert json.loads((run / "toy_run.json").read_text())["legs"][-1]["steps"] == 2
    with pytest.raises(FileNotFoundError, match="is not a toy pipeline"):
        start_from_shipped(tmp_path / "other", source=tmp_path / "nothing")


def test_a_leg_keeps_the_runs_reference_encoder_unless_it_changes_the_text_encoder_under_it(tiny_pipe, tmp_path):
    """The reference encoder is fitted to the text encoder's words: a leg that trains the transformer leaves it
    valid and keeps it; a --next-word-text leg would change those words, and is refused in one line."""
    import json

    from engine.reference_tokens import FOLDER, ReferenceTokenEncoder
    from engine.toy.factory.build import ToyRecipe, extend_toy_model

    tiny_pipe.save_pretrained(tmp_path / "pipeline")
    ReferenceTokenEncoder(num_tokens=2, token_dim=tiny_pipe.transformer.config.text_dim, channels=4,
                          hidden=8).save_pretrained(tmp_path / "pipeline" / FOLDER)
    (tmp_path / "toy_run.json").write_text(json.dumps({"recipe": {"clips": 1}}))
    recipe = ToyRecipe(foreground_weight=1.0, reference_token_share=1.0)
    recipe.transformer = recipe.transformer.with_changes(batch_size=1)

    with pytest.raises(ValueError, match="--next-word-text would change"):
        extend_toy_model(tmp_path, steps=1, recipe=ToyRecipe(next_word_text=True))
    final = extend_toy_model(tmp_path, steps=1, recipe=recipe)

    assert (final / FOLDER / "config.json").is_file()
    assert json.loads((final / "toy_run.json").read_text())["legs"][-1]["reference_token_share"] == 1.0


def test_a_leg_keeps_the_runs_own_clips_and_adds_new_ones():
    from engine.toy.factory.build import leg_seeds

    seeds = leg_seeds(trained_on=50, clips=120)
    assert seeds[:50] == training_seeds(50) and len(set(seeds)) == 120
    assert leg_seeds(trained_on=50, clips=20) == training_seeds(50)[:20]


def test_a_later_leg_trains_on_the_earlier_legs_clips_first():
    """Seeds drawn for 120 clips are not a prefix of those drawn for 150: without the earlier legs' counts a
    second leg would encode new clips in place of the cached ones."""
    from engine.toy.factory.build import leg_seeds

    first = leg_seeds(trained_on=50, clips=120)
    second = leg_seeds(trained_on=50, clips=150, earlier=(120,))
    assert second[:120] == first and len(set(second)) == 150
    assert leg_seeds(trained_on=50, clips=150)[:120] != first  # what the earlier legs' counts are for


def test_a_finished_run_is_returned_as_it_is_not_trained_again(tmp_path):
    from engine.toy.factory.build import build_toy_model

    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "model_index.json").write_text("{}")
    messages = []
    assert build_toy_model(tmp_path, on_log=messages.append) == tmp_path / "pipeline"
    assert "--more" in messages[0] and not (tmp_path / "vae").exists()


def test_a_toy_run_folder_or_a_model_name_gives_an_engine(tmp_path):
    from engine.toy.factory.build import engine_for

    (tmp_path / "model_index.json").write_text("{}")
    (tmp_path / "toy_run.json").write_text("{}")
    assert engine_for(str(tmp_path)).spec.source == str(tmp_path)
    assert engine_for("tiny").spec.name == "tiny"


def test_clips_drawn_by_several_processes_are_the_clips_drawn_in_order():
    from engine.toy.factory.training import render_in_batches

    seeds = [3, 1, 4, 15, 9]
    serial = [s for batch in render_in_batches(seeds, 2, workers=1) for s in batch]
    batches = list(render_in_batches(seeds, 2, workers=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    parallel = [s for batch in batches for s in batch]
    assert [s.seed for s in parallel] == seeds
    assert all(np.array_equal(a.video, b.video) and a.prompt == b.prompt for a, b in zip(serial, parallel))


def test_the_scene_prompt_share_picks_the_same_clips_every_time():
    from engine.toy.factory.training import uses_scene_prompt

    seeds = training_seeds(400)
    assert not any(uses_scene_prompt(seed, 0.0) for seed in seeds)
    assert all(uses_scene_prompt(seed, 1.0) for seed in seeds)
    half = [uses_scene_prompt(seed, 0.5) for seed in seeds]
    assert 0.4 < np.mean(half) < 0.6 and half == [uses_scene_prompt(seed, 0.5) for seed in seeds]


def test_a_clip_drawn_for_the_scene_prompt_trains_on_it(tiny_pipe, tmp_path):
    """Its prompt embedding is the one of the prompt without the clothes; the cache keeps both, so a later
    leg with another share needs no encoding."""
    from engine.engine import Engine
    from engine.toy.factory.build import toy_spec
    from engine.toy.factory.training import encode_world

    tiny_pipe.save_pretrained(tmp_path / "pipe")
    engine = Engine(toy_spec(str(tmp_path / "pipe")), device="cpu")
    seed = training_seeds(1)[0]
    sample = world.make_sample(seed)
    cache = tmp_path / "encoded.safetensors"
    [full] = encode_world(engine, [seed], cache=cache)
    [scene] = encode_world(engine, [seed], cache=cache, scene_prompt_share=1.0)
    scene_prompt = engine.prompt_embedding(world.scene_prompt(sample.look, sample.motion)).half().float()
    torch.testing.assert_close(scene.prompt_embeds, scene_prompt)
    torch.testing.assert_close(full.prompt_embeds, engine.prompt_embedding(sample.prompt).half().float())
    assert not torch.equal(full.prompt_embeds, scene.prompt_embeds)


def test_a_clip_drawn_for_the_reference_tokens_trains_on_the_scene_prompt_with_its_references_tokens(tiny_pipe,
                                                                                                       tmp_path):
    """As a generation gets them: the scene prompt, the reference encoder's tokens in its first padding positions.
    Another reference encoder makes them again; a pipeline without one is refused in one line."""
    from PIL import Image

    from engine.engine import Engine
    from engine.reference_tokens import ReferenceTokenEncoder
    from engine.toy.factory.build import toy_spec
    from engine.toy.factory.training import encode_world

    tiny_pipe.save_pretrained(tmp_path / "pipe")
    engine = Engine(toy_spec(str(tmp_path / "pipe")), device="cpu")
    seed = training_seeds(1)[0]
    sample = world.make_sample(seed)
    cache = tmp_path / "encoded.safetensors"
    with pytest.raises(ValueError, match="needs a pipeline with a reference encoder"):
        encode_world(engine, [seed], cache=cache, reference_token_share=1.0)
    width = engine.load().transformer.config.text_dim
    for bias in (1.0, 2.0):  # two encoders: the second's tokens replace the first's in the cache
        torch.manual_seed(0)
        encoder = ReferenceTokenEncoder(num_tokens=4, token_dim=width, channels=8, hidden=16)
        with torch.no_grad():
            encoder.readout[-1].bias.fill_(bias)
        engine.load().lab_reference_encoder = encoder
        [tokened] = encode_world(engine, [seed], cache=cache, reference_token_share=1.0)
        scene = engine.prompt_embedding(world.scene_prompt(sample.look, sample.motion)).half().float()
        expected = engine.with_reference_tokens(scene, Image.fromarray(sample.reference)).half().float()
        torch.testing.assert_close(tokened.prompt_embeds, expected)
    [full] = encode_world(engine, [seed], cache=cache)
    torch.testing.assert_close(full.prompt_embeds, engine.prompt_embedding(sample.prompt).half().float())


def test_an_aligned_reference_replaces_the_reference_latent_in_target_and_conditioning(tiny_pipe, tmp_path):
    """The clip's latents stay; the reference slot holds the encode of the figure cut from one of its frames,
    in the first latent channels of the conditioning's first frame, where the pipeline puts a reference."""
    from engine.engine import Engine
    from engine.toy.factory.build import toy_spec
    from engine.toy.factory.training import aligned_sample, encode_world

    tiny_pipe.save_pretrained(tmp_path / "pipe")
    engine = Engine(toy_spec(str(tmp_path / "pipe")), device="cpu")
    seed = training_seeds(1)[0]
    cache = tmp_path / "encoded.safetensors"
    [plain] = encode_world(engine, [seed], cache=cache)
    [aligned] = encode_world(engine, [seed], cache=cache, aligned_reference_share=1.0)
    z = plain.target.shape[1]
    torch.testing.assert_close(aligned.target[:, :, 1:], plain.target[:, :, 1:])
    torch.testing.assert_close(aligned.conditioning[:, :, 1:], plain.conditioning[:, :, 1:])
    torch.testing.assert_close(aligned.conditioning[:, z:, :1], plain.conditioning[:, z:, :1])
    torch.testing.assert_close(aligned.conditioning[:, :z, :1], aligned.target[:, :, :1])
    expected = WorldEncoder(engine.load()).encode(aligned_sample(seed).reference[None, None]).half().float()
    torch.testing.assert_close(aligned.target[:, :, :1], expected)
    assert not torch.allclose(aligned.target[:, :, :1], plain.target[:, :, :1])
    [again] = encode_world(engine, [seed], cache=cache, aligned_reference_share=1.0)  # read from the cache
    torch.testing.assert_close(again.target, aligned.target)


def test_a_cache_from_another_text_encoder_has_its_prompts_embedded_again(tiny_pipe, tmp_path):
    """A leg that changes the text encoder (`--next-word-text`) reads the clips' latents from the cache but not
    their prompt features, which the old encoder made."""
    from engine.engine import Engine
    from engine.toy.factory.build import toy_spec
    from engine.toy.factory.training import encode_world

    tiny_pipe.save_pretrained(tmp_path / "pipe")
    seed = training_seeds(1)[0]
    cache = tmp_path / "encoded.safetensors"
    [before] = encode_world(Engine(toy_spec(str(tmp_path / "pipe")), device="cpu"), [seed], cache=cache)
    engine = Engine(toy_spec(str(tmp_path / "pipe")), device="cpu")
    with torch.no_grad():
        engine.load().text_encoder.shared.weight.mul_(-1)

    [after] = encode_world(engine, [seed], cache=cache)

    torch.testing.assert_close(after.prompt_embeds, engine.prompt_embedding(world.make_sample(seed).prompt).half().float())
    assert not torch.allclose(after.prompt_embeds, before.prompt_embeds)
    torch.testing.assert_close(after.target, before.target)


def test_a_travelling_clip_trains_beside_its_plain_clip_under_its_own_name(tiny_pipe, tmp_path):
    """A travel share picks clips by a fixed draw per seed; a picked clip's latents are those of the clip
    crossing the frame, cached under its own key, so the plain clip stays cached for other legs."""
    from engine.engine import Engine
    from engine.toy.factory.build import toy_spec
    from engine.toy.factory.training import (WorldEncoder, encode_world, travel_speed, travelling_sample, uses_travel)

    seeds = training_seeds(40)
    assert [uses_travel(s, 0.5) for s in seeds] == [uses_travel(s, 0.5) for s in seeds]
    assert 10 < sum(uses_travel(s, 0.5) for s in seeds) < 30
    assert all(2.0 <= abs(travel_speed(s)) <= 5.0 for s in seeds)

    tiny_pipe.save_pretrained(tmp_path / "pipe")
    engine = Engine(toy_spec(str(tmp_path / "pipe")), device="cpu")
    seed = seeds[0]
    cache = tmp_path / "encoded.safetensors"
    [plain] = encode_world(engine, [seed], cache=cache)
    [moving] = encode_world(engine, [seed], cache=cache, travel_share=1.0)
    expected = WorldEncoder(engine.load()).encode(travelling_sample(seed).video[None]).half().float()
    torch.testing.assert_close(moving.target[:, :, 1:], expected)
    assert not torch.allclose(moving.target[:, :, 1:], plain.target[:, :, 1:])
    torch.testing.assert_close(moving.target[:, :, :1], plain.target[:, :, :1])  # the same neutral reference
    assert moving.name == f"world-{seed}.travelling"
    [again] = encode_world(engine, [seed], cache=cache)  # the plain clip, still from the cache
    torch.testing.assert_close(again.target, plain.target)


def test_a_wider_latent_gets_a_pipeline_that_encodes_trains_and_generates_at_its_width():
    from engine.toy.factory.training import initial_pipeline
    from engine.toy.model import build_vae

    pipe = initial_pipeline(build_vae(z_dim=24))
    assert (pipe.transformer.config.in_channels, pipe.transformer.config.vace_in_channels) == (24, 2 * 24 + 16)
    sample = world.make_sample(3, num_frames=5, height=64, width=112)
    [encoded] = WorldEncoder(pipe, num_frames=5, height=64, width=112).encode_samples([sample])
    assert encoded["target"].shape[1] == 24 and encoded["conditioning"].shape[1] == 2 * 24 + 16
    frames = pipe(video=[Image.fromarray(f) for f in sample.pose_video],
                  reference_images=[Image.fromarray(sample.reference)], prompt="a figure dances", height=64,
                  width=112, num_frames=5, num_inference_steps=1, output_type="np").frames
    assert frames.shape == (1, 5, 64, 112, 3)
