"""The toy model's scores, checked on answers we know: the true clip scores perfectly, and each score
falls when what it measures is wrong."""

import numpy as np

from engine.toy import evaluate, world


def test_the_true_clip_scores_as_perfect():
    sample = world.make_sample(1_000_003)
    scores = evaluate.score_clip(sample.video, sample)
    assert scores.silhouette_precision > 0.97 and scores.silhouette_recall > 0.97
    assert scores.colour_match > 0.97 and scores.background_distance < 3


def test_an_empty_scene_has_no_figure_and_a_wrong_background_is_far():
    sample = world.make_sample(1_000_004)
    empty = np.broadcast_to(sample.background, sample.video.shape).copy()
    assert evaluate.silhouette_scores(empty, sample)[1] < 0.05
    grey = np.full_like(sample.video, 128)
    assert evaluate.background_distance(grey, sample) > 30 or sample.look.background == "grey"


def test_a_figure_in_the_wrong_place_or_colours_scores_low():
    sample = world.make_sample(1_000_005)
    shifted = np.roll(sample.video, 40, axis=2)
    assert evaluate.silhouette_scores(shifted, sample)[0] < 0.6
    other = world.recoloured(sample, evaluate.other_look(sample.look))
    checks = evaluate.part_colour_checks(other.video, sample)
    assert np.mean(checks) < 0.7  # skin and hair still match; the costume does not


def test_the_unseen_walk_moves_at_its_stated_speed():
    video, hips = evaluate.stick_walk(speed=4.0)
    assert video.shape == (world.NUM_FRAMES, world.HEIGHT, world.WIDTH, 3)
    assert np.allclose(np.diff(hips), 4.0)


def test_placement_ignores_a_wrong_floor_colour_but_not_a_wrong_place():
    sample = world.make_sample(1_000_002)
    figure = (sample.parts > 0)[..., None]
    wrong_floor = np.where(figure, sample.video, sample.background.astype(np.int16) // 3 + 150).astype(np.uint8)
    scores = evaluate.score_clip(wrong_floor, sample)
    assert scores.silhouette_precision < 0.3  # the recoloured floor counts as figure against the true one
    assert scores.placement_precision > 0.9  # ... but the figure is where the skeleton is
    shifted = evaluate.score_clip(np.roll(wrong_floor, 40, axis=2), sample)
    assert shifted.placement_precision < 0.6


def test_figure_speed_reads_a_figure_crossing_a_wrongly_coloured_floor():
    video, hips = evaluate.stick_walk(speed=3.0)
    background = np.full(video.shape[1:], 130, np.uint8)
    frames = np.where(video.max(axis=-1, keepdims=True) > 0, 255, 40).astype(np.uint8)  # dark floor, not grey
    assert abs(evaluate.figure_speed(frames, background, video) - 3.0) < 0.2
    still = np.repeat(frames[:1], len(frames), axis=0)
    assert abs(evaluate.figure_speed(still, background, video)) < 0.2


def test_the_vae_round_trip_scores_the_shipped_vae_under_the_true_clip_and_a_random_one_far_under():
    import torch
    from diffusers import AutoencoderKLWan

    from engine.cpu_conv import use_onednn_conv3d
    from engine.toy.model import TOY_DIR, build_vae

    samples = [world.make_sample(1_000_001, num_frames=9)]  # two latents after the first: enough, and quick
    shipped = AutoencoderKLWan.from_pretrained(TOY_DIR / "vae", torch_dtype=torch.float32)
    torch.manual_seed(0)
    untrained = build_vae()
    for vae in (shipped, untrained):
        use_onednn_conv3d(vae)  # as the engine runs it on a CPU: ten times faster
    poses = [evaluate.pose_round_trip(vae, samples) for vae in (shipped, untrained)]
    shipped, untrained = (evaluate.vae_round_trip(vae, samples) for vae in (shipped, untrained))
    assert shipped["psnr"] > 20 and shipped["silhouette_precision"] > 0.6 and shipped["colour_match"] > 0.15
    assert len(shipped["colour_match_by_frame"]) == 9
    assert untrained["psnr"] < 15 and untrained["colour_match"] < 0.1
    assert len(poses[0]["pose_bones_kept_by_frame"]) == 9
    assert poses[0]["pose_bones_kept"] > 0.2 and poses[1]["pose_bones_kept"] < 0.05


def test_bones_kept_counts_the_bone_pixels_given_back_in_their_colour():
    pose = world.make_sample(1_000_001, num_frames=5).pose_video
    assert evaluate.bones_kept(pose, pose) == [1.0] * 5
    assert evaluate.bones_kept(np.zeros_like(pose), pose) == [0.0] * 5
    greyed = pose.copy()
    greyed[2:] = pose[2:].mean(axis=-1, keepdims=True).astype(pose.dtype)  # the limbs' colours lost from frame 2
    assert evaluate.bones_kept(greyed, pose)[:2] == [1.0, 1.0] and max(evaluate.bones_kept(greyed, pose)[2:]) < 0.5


def test_the_steps_sweep_scores_every_step_count_on_every_clip(tmp_path):
    """PSNR, placement and part colours per step count, averaged over the clips it names (the shipped toy)."""
    from engine.engine import Engine

    samples = [world.make_sample(seed, num_frames=9) for seed in (1_000_001, 1_000_002)]
    result = evaluate.steps_sweep(Engine.from_name("toy"), samples, tmp_path, (1, 4))
    assert result["num_inference_steps"] == [1, 4] and result["clips"] == [1_000_001, 1_000_002]
    for name in ("psnr", "silhouette_precision", "placement_precision", "colour_match"):
        assert len(result[name]) == 2 and all(np.isfinite(result[name]))
    assert result["psnr"][1] > result["psnr"][0]  # one step leaves noise on the frame; four give a figure


def test_the_report_records_how_its_generations_sampled(tmp_path):
    """The eval's numbers hold for the settings it sampled with (the toy preset's, guidance stop included)."""
    from engine.engine import Engine

    engine = Engine.from_name("toy")
    request = engine.default_request(**evaluate.write_inputs(world.make_sample(1_000_001, num_frames=9), tmp_path))
    settings = evaluate.sampling_settings(request)
    assert settings == {"num_inference_steps": 10, "sampler": "unipc", "flow_shift": 3.0, "guidance_scale": 5.0,
                        "guidance_stop": 0.6}
    assert evaluate.ToyReport(sampling=settings).to_dict()["sampling"] == settings
