"""The VAE alone on the toy world: the shipped VAE gives the clips and pose videos back, a random one does not."""

import numpy as np

from engine.toy.factory import round_trips
from engine.toy import world


def test_the_vae_round_trip_scores_the_shipped_vae_under_the_true_clip_and_a_random_one_far_under():
    import torch
    from diffusers import AutoencoderKLWan

    from engine.cpu_conv import use_onednn_conv3d
    from engine.toy.family import TOY_DIR
    from engine.toy.model import build_vae

    samples = [world.make_sample(1_000_001, num_frames=9)]  # two latents after the first: enough, and quick
    shipped = AutoencoderKLWan.from_pretrained(TOY_DIR / "vae", torch_dtype=torch.float32)
    torch.manual_seed(0)
    untrained = build_vae()
    for vae in (shipped, untrained):
        use_onednn_conv3d(vae)  # as the engine runs it on a CPU: ten times faster
    poses = [round_trips.pose_round_trip(vae, samples) for vae in (shipped, untrained)]
    shipped, untrained = (round_trips.vae_round_trip(vae, samples) for vae in (shipped, untrained))
    assert shipped["psnr"] > 20 and shipped["silhouette_precision"] > 0.6 and shipped["colour_match"] > 0.15
    assert len(shipped["colour_match_by_frame"]) == 9
    assert untrained["psnr"] < 15 and untrained["colour_match"] < 0.1
    assert len(poses[0]["pose_bones_kept_by_frame"]) == 9
    assert poses[0]["pose_bones_kept"] > 0.2 and poses[1]["pose_bones_kept"] < 0.05


def test_bones_kept_counts_the_bone_pixels_given_back_in_their_colour():
    pose = world.make_sample(1_000_001, num_frames=5).pose_video
    assert round_trips.bones_kept(pose, pose) == [1.0] * 5
    assert round_trips.bones_kept(np.zeros_like(pose), pose) == [0.0] * 5
    greyed = pose.copy()
    greyed[2:] = pose[2:].mean(axis=-1, keepdims=True).astype(pose.dtype)  # the limbs' colours lost from frame 2
    assert round_trips.bones_kept(greyed, pose)[:2] == [1.0, 1.0] and max(round_trips.bones_kept(greyed, pose)[2:]) < 0.5
