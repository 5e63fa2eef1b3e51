"""The toy VAE's training: a decoder leg trains the decoder only, so the latents (and with them the
transformer and every latent cache) stay exactly as they were; an encoder leg trains both, holding the
clips' latents near where they were."""

from dataclasses import replace

import numpy as np
import torch

from engine.toy import world
from engine.toy.model import build_vae
from engine.toy.factory.vae_training import VaeTrainConfig, to_tensor, train_decoder, train_encoder

SMALL = VaeTrainConfig(batch_size=1, clip_frames=5, crop_height=32, crop_width=32, checkpoint_every=2)


def latents_of(vae, frames):
    with torch.no_grad():
        return vae.encode(to_tensor(frames)).latent_dist.mode()


def test_a_decoder_leg_changes_the_decoder_and_leaves_the_latents_as_they_were(tmp_path):
    torch.manual_seed(0)
    vae = build_vae()
    clip = world.make_sample(5).video[:5, :32, :32]
    latents, decoder = latents_of(vae, clip), [p.detach().clone() for p in vae.decoder.parameters()]
    encoder = {name: p.detach().clone() for name, p in vae.named_parameters() if not name.startswith(("decoder", "post_quant"))}

    train_decoder(vae, tmp_path, steps=3, learning_rate=1e-3, config=SMALL)

    assert all(torch.equal(p, encoder[name]) for name, p in vae.named_parameters() if name in encoder)
    assert torch.allclose(latents_of(vae, clip), latents, atol=1e-5)  # (the leg runs convolutions on oneDNN)
    assert any(not torch.equal(before, after) for before, after in zip(decoder, vae.decoder.parameters()))
    rows = (tmp_path / "decoder_loss.csv").read_text().splitlines()
    assert rows[0].startswith("step,loss") and len(rows) == 4


class Stop(Exception):
    pass


def stop_at_step_3(step, loss, psnr):
    if step == 3:
        raise Stop  # after step 2's checkpoint, before step 3's


def test_a_stopped_decoder_leg_resumes_from_its_checkpoint(tmp_path):
    torch.manual_seed(0)
    whole = train_decoder(build_vae(), tmp_path / "whole", steps=4, config=SMALL)
    torch.manual_seed(0)
    try:
        train_decoder(build_vae(), tmp_path / "cut", steps=4, config=SMALL, on_log=stop_at_step_3)
    except Stop:
        pass
    torch.manual_seed(0)
    resumed = train_decoder(build_vae(), tmp_path / "cut", steps=4, config=SMALL)

    for a, b in zip(whole.decoder.parameters(), resumed.decoder.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert not all(torch.allclose(a, b) for a, b in zip(whole.decoder.parameters(), build_vae().decoder.parameters()))


def test_decoder_noise_perturbs_what_the_decoder_sees_the_same_way_for_the_same_draw():
    from engine.toy.factory.vae_training import vae_loss

    torch.manual_seed(0)
    vae = build_vae().eval()
    batch = to_tensor(world.make_sample(5).video[:5, :32, :32])
    with torch.no_grad():
        clean = float(vae_loss(vae, batch, 0.0, encoder_frozen=True)[1])
        noisy = [float(vae_loss(vae, batch, 0.0, encoder_frozen=True, latent_noise=0.5,
                                generator=torch.Generator().manual_seed(seed))[1]) for seed in (1, 1, 2)]
    assert noisy[0] == noisy[1] and noisy[0] != noisy[2] and clean not in noisy


def test_an_encoder_leg_trains_the_encoder_and_the_anchor_holds_the_clips_latents(tmp_path):
    clip = world.make_sample(5).video[:5, :32, :32]
    moved = {}
    for anchor in (0.0, 1000.0):
        torch.manual_seed(0)
        vae = build_vae()
        latents, encoder = latents_of(vae, clip), [p.detach().clone() for p in vae.encoder.parameters()]
        train_encoder(vae, tmp_path / f"anchor-{anchor:g}", steps=8, learning_rate=1e-3, encoder_learning_rate=1e-3,
                      anchor_weight=anchor, config=replace(SMALL, warmup_steps=1))
        assert any(not torch.equal(before, after) for before, after in zip(encoder, vae.encoder.parameters()))
        moved[anchor] = float((latents_of(vae, clip) - latents).pow(2).mean())
        rows = (tmp_path / f"anchor-{anchor:g}" / "encoder_loss.csv").read_text().splitlines()
        assert rows[0].startswith("step,loss") and len(rows) == 9
    assert moved[1000.0] < 0.5 * moved[0.0]  # measured: 0.12 free, 0.023 held


def test_the_block_colour_loss_ignores_detail_inside_a_tile_and_counts_a_colour_shift():
    from engine.toy.factory.vae_training import block_colour_error

    batch = torch.rand(1, 3, 2, 8, 8) * 2 - 1
    tiles_flipped = batch.reshape(1, 3, 2, 2, 4, 2, 4).flip(4, 6).reshape(1, 3, 2, 8, 8)  # each 4x4 tile mirrored
    weights = torch.ones(1, 1, 2, 8, 8)
    assert float(block_colour_error(tiles_flipped, batch, weights)) < 1e-6
    assert abs(float(block_colour_error(batch + 0.2, batch, weights)) - 0.2) < 1e-5
    figure_only = torch.zeros_like(weights)
    figure_only[..., :4, :4] = 4.0
    shifted_elsewhere = batch.clone()
    shifted_elsewhere[..., 4:, 4:] += 0.5
    assert float(block_colour_error(shifted_elsewhere, batch, figure_only)) < 1e-6


def test_crops_on_the_figure_hold_its_centre_and_plain_crops_land_anywhere():
    from engine.toy.factory.vae_training import crop_corner

    config = VaeTrainConfig()
    mask = np.zeros((3, world.HEIGHT, world.WIDTH), dtype=bool)
    mask[:, 100:120, 190:200] = True  # a figure low in the right-hand corner
    on_figure = replace(config, crops_on_figure=True)
    rng = np.random.default_rng(0)
    for _ in range(50):
        top, left = crop_corner(rng, on_figure, mask)
        assert top <= 110 < top + config.crop_height and left <= 195 < left + config.crop_width
    corners = {crop_corner(rng, config, mask) for _ in range(50)}
    assert any(left + config.crop_width <= 190 for _, left in corners)  # some plain crops miss the figure
