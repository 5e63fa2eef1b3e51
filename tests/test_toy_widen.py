"""Widening a trained toy's latent (engine/toy/factory/widen.py): the wider VAE and transformer start out doing
exactly what the old ones did, and a widen leg trains the new channels while holding the old ones."""

import pytest
import torch

from engine.toy import world
from engine.toy.factory.build import anchored_widen_channels
from engine.toy.factory.vae_training import VaeTrainConfig, to_tensor
from engine.toy.factory.widen import train_widened_vae, widen_transformer, widen_vae
from engine.toy.model import build_transformer, build_vae


@pytest.fixture(scope="module")
def small_clip():
    return to_tensor(world.make_sample(5, num_frames=5, height=32, width=56).video)


def test_a_widened_vae_keeps_the_old_latents_and_decodes_as_before(small_clip):
    torch.manual_seed(0)
    old = build_vae().eval()
    wide = widen_vae(old, 24).eval()
    with torch.no_grad():
        old_latents = old.encode(small_clip).latent_dist.mode()
        wide_latents = wide.encode(small_clip).latent_dist.mode()
        assert wide_latents.shape[1] == 24
        assert torch.allclose(wide_latents[:, :16], old_latents, atol=1e-4)
        assert wide_latents[:, 16:].std() > 0.1  # the new channels carry something from the start
        assert torch.allclose(wide.decode(wide_latents).sample, old.decode(old_latents).sample, atol=1e-4)
    assert list(wide.config.latents_std[:16]) == list(old.config.latents_std)


def test_a_widened_transformer_draws_the_old_channels_as_before_and_nothing_in_the_new():
    torch.manual_seed(0)
    old = build_transformer().eval()
    wide = widen_transformer(old, 24).eval()
    assert (wide.config.in_channels, wide.config.vace_in_channels) == (24, 2 * 24 + 16)
    latents, control = torch.randn(1, 16, 2, 8, 8), torch.randn(1, 48, 2, 8, 8)
    extra = lambda: torch.randn(1, 8, 2, 8, 8)  # noqa: E731
    wide_control = torch.cat([control[:, :16], extra(), control[:, 16:32], extra(), control[:, 32:]], dim=1)
    text, timestep = torch.randn(1, 4, 64), torch.tensor([500])
    with torch.no_grad():
        before = old(latents, timestep, text, control_hidden_states=control).sample
        after = wide(torch.cat([latents, extra()], dim=1), timestep, text, control_hidden_states=wide_control).sample
    assert torch.allclose(after[:, :16], before, atol=1e-5)
    assert after[:, 16:].abs().max() == 0


def test_widening_to_no_more_channels_is_refused():
    with pytest.raises(ValueError, match="more than the VAE's 16 channels, not 16"):
        widen_vae(build_vae(), 16)
    with pytest.raises(ValueError, match="more than the transformer's 16 channels, not 8"):
        widen_transformer(build_transformer(), 8)


def test_a_widen_leg_trains_the_new_channels_and_holds_the_old_latents(small_clip, tmp_path):
    torch.manual_seed(0)
    old = build_vae().eval()
    wide = widen_vae(old, 24)
    config = VaeTrainConfig(crops_on_figure=True, batch_size=1, clip_frames=5, crop_height=32, crop_width=56,
                            stats_clips=2, warmup_steps=1)

    train_widened_vae(wide, old, tmp_path, steps=2, config=config)

    assert wide.decoder.conv_in.weight[:, 16:].abs().max() > 0  # the decoder reads the new channels now
    assert (tmp_path / "widen_loss.csv").read_text().count("\n") == 3 and (tmp_path / "widen-checkpoint.pt").is_file()
    assert len(wide.config.latents_mean) == 24 and list(wide.config.latents_std[:16]) == list(old.config.latents_std)
    with torch.no_grad():
        moved = wide.encode(small_clip).latent_dist.mode()[:, :16] - old.encode(small_clip).latent_dist.mode()
    assert moved.abs().mean() < 0.05 * torch.tensor(old.config.latents_std).mean()


def test_a_further_widen_leg_holds_the_first_legs_channels_and_frees_the_rest(small_clip, tmp_path):
    torch.manual_seed(0)
    wide = widen_vae(build_vae().eval(), 24).eval()
    again = widen_vae(build_vae().eval(), 24)
    again.load_state_dict(wide.state_dict())
    config = VaeTrainConfig(crops_on_figure=True, batch_size=1, clip_frames=5, crop_height=32, crop_width=56,
                            stats_clips=2, warmup_steps=1)

    train_widened_vae(again, wide, tmp_path, steps=2, config=config, anchored_channels=16, leg=2)

    assert list(again.config.latents_std[:16]) == list(wide.config.latents_std[:16])
    assert list(again.config.latents_std[16:]) != list(wide.config.latents_std[16:])  # measured again
    with torch.no_grad():
        moved = (again.encode(small_clip).latent_dist.mode() - wide.encode(small_clip).latent_dist.mode()).abs()
    assert moved[:, :16].mean() < moved[:, 16:].mean()  # the held channels move less than the free ones


def test_a_widen_leg_holds_the_old_channels_or_on_a_wide_latent_the_first_legs():
    assert anchored_widen_channels([], 16, 48) == 16
    assert anchored_widen_channels([{"channels": 48, "from_channels": 16}], 48, 48) == 16
    with pytest.raises(ValueError, match="no earlier widen leg says which were there first"):
        anchored_widen_channels([{"channels": 48}], 48, 48)
    with pytest.raises(ValueError, match="cannot narrow it to 32"):
        anchored_widen_channels([], 48, 32)
