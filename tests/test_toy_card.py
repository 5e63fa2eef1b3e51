"""The toy model's card: every number comes from the run's files, legs included."""

import json

from engine.toy.factory.card import loss_curves, transformer_loss_files, write_card


def write_losses(path, steps, loss=1.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{step},{loss / step:.4f},1e-4,1.0,0.5,{loss / step:.4f},0\n" for step in range(1, steps + 1))
    path.write_text("step,loss,lr,seconds,sigma,sample_loss,bucket\n" + rows)


def test_the_card_lists_each_leg_as_a_recipe_row_with_the_command_that_ran_it(tmp_path):
    record = {"recipe": {"clips": 600, "transformer": {"max_steps": 3000}}, "vae_psnr_db": 23.1,
              "legs": [{"steps": 4000, "clips": 1500, "learning_rate": 3e-4, "foreground_weight": 10.0, "seconds": 4100}],
              "limits": ["the figure stays where the skeleton starts"]}
    report = {"summary": {"silhouette_precision": 0.42}, "thresholds": {"colour_distance": 60}}
    card = write_card(tmp_path, record, report, "python -m experiments toy train --ship").read_text()
    assert "| leg 1 | every weight | 4000 x 4 | 0.0003 | 1500 clips | 68 min | `toy train --more 4000 --clips 1500" in card
    assert "| >= 0.80 | 0.420 |" in card and "23.1 dB" in card
    assert "## Limitations\n\n- the figure stays where the skeleton starts" in card
    assert json.loads((tmp_path / "eval.json").read_text()) == report


def test_the_card_follows_hugging_faces_form_and_stays_short(tmp_path):
    """Metadata first, then the sections a model card has; the shipped record gives at most 150 lines of at
    most 300 characters."""
    from engine.toy.family import TOY_DIR

    record = json.loads((TOY_DIR / "toy_run.json").read_text())
    report = json.loads((TOY_DIR / "eval.json").read_text())
    card = write_card(tmp_path, record, report, "python -m experiments toy train --ship").read_text()
    assert card.startswith("---\nlicense: apache-2.0\nlibrary_name: diffusers\n")
    for heading in ("## Model details", "## How to use", "## How it was made", "## Evaluation", "## Limitations"):
        assert heading in card
    lines = card.splitlines()
    assert len(lines) <= 150 and max(map(len, lines)) <= 300


def test_a_legs_curriculum_options_are_in_its_command():
    from engine.toy.factory.card import leg_row

    leg = {"steps": 800, "clips": 1000, "learning_rate": 3e-4, "batch_size": 4, "foreground_weight": 10.0,
           "scene_prompt_share": 0.8, "aligned_reference_share": 0.5, "travel_share": 0.5, "next_word_text": True,
           "seconds": 1700}
    assert "--batch-size 4 --scene-prompts 0.8 --aligned-references 0.5 --travel 0.5 --next-word-text` |" in leg_row(1, leg)
    assert "--travel 0.5 --reference-tokens 0.5 --next-word-text` |" in leg_row(1, {**leg, "reference_token_share": 0.5})


def test_a_leg_that_started_from_the_shipped_toy_says_so_in_its_command():
    from engine.toy.factory.card import decoder_leg_row, leg_row

    leg = {"from_shipped": True, "steps": 1200, "clips": 400, "learning_rate": 2e-4, "foreground_weight": 10.0,
           "seconds": 1500}
    assert "`toy train --from-shipped --more 1200 --clips 400" in leg_row(1, leg)
    assert "`toy train --more 1200 --clips 400" in leg_row(2, {**leg, "from_shipped": False})
    decoder = decoder_leg_row(1, {"from_shipped": True, "steps": 400, "learning_rate": 3e-4, "seconds": 60})
    assert "`toy train --from-shipped --decoder-more 400" in decoder


def test_the_recipe_rows_run_in_the_order_the_stages_ran(tmp_path):
    """Transformer legs by number; a decoder leg after the leg it followed, an encoder leg before its leg."""
    from engine.toy.factory.card import recipe_rows

    leg = {"steps": 100, "clips": 600, "learning_rate": 3e-4, "seconds": 60}
    vae_leg = {"steps": 400, "learning_rate": 1.5e-4, "encoder_learning_rate": 1e-4, "seconds": 600}
    record = {"legs": [leg] * 3, "decoder_legs": [{**vae_leg, "after_leg": 1}, {**vae_leg, "after_leg": 3}],
              "encoder_legs": [{**vae_leg, "before_leg": 3}]}
    stages = [row.split(" | ")[0].lstrip("| ") for row in recipe_rows(record, "toy train --ship")]
    assert stages == ["VAE", "transformer", "leg 1", "decoder leg 1", "leg 2", "encoder leg 1", "leg 3",
                      "decoder leg 2"]
    record["widen_legs"] = [{**vae_leg, "channels": 48, "before_leg": 4}]  # after the reference leg it followed
    record["reference_legs"] = [{"steps": 4000, "batch_size": 32, "learning_rate": 1e-3, "references": 6000,
                                 "after_leg": 3}]
    rows = recipe_rows(record, "toy train --ship")
    assert [row.split(" | ")[0].lstrip("| ") for row in rows][-3:] == ["decoder leg 2", "reference leg 1",
                                                                       "widen leg 1"]
    assert rows[-1].endswith("`toy train --widen-latent 400 --latent-channels 48` |")


def test_a_further_widen_leg_says_which_channels_it_held():
    from engine.toy.factory.card import widen_leg_row

    leg = {"steps": 700, "learning_rate": 3e-4, "seconds": 1600, "channels": 48, "from_channels": 48,
           "anchored_channels": 16}
    row = widen_leg_row(2, leg)
    assert "whole VAE at 48 latent channels, the first 16 held, the rest free" in row
    assert row.endswith("`toy train --widen-latent 700 --latent-channels 48` |")
    assert "the transformer widened" in widen_leg_row(1, {**leg, "from_channels": 16})


def test_the_card_says_how_the_evals_generations_sampled(tmp_path):
    sampling = {"num_inference_steps": 10, "sampler": "unipc", "flow_shift": 3.0, "guidance_scale": 5.0,
                "guidance_stop": 0.6}
    card = write_card(tmp_path, {}, {"summary": {}, "sampling": sampling}, "toy train --ship").read_text()
    assert "10 steps of unipc at flow shift 3, guidance 5 while the noise level is 0.6 or more." in card
    every_step = write_card(tmp_path, {}, {"summary": {}, "sampling": {**sampling, "guidance_stop": 0.0}},
                            "toy train --ship").read_text()
    assert "guidance 5 on every step." in every_step
    assert "samples as" not in write_card(tmp_path, {}, {"summary": {}}, "toy train --ship").read_text()


def test_the_card_shows_each_steps_measure_and_how_many_clips_it_averaged(tmp_path):
    steps = {"num_inference_steps": [2, 4, 8, 20], "clips": [1, 2, 3], "psnr": [15.0, 18.0, 17.5, 17.4],
             "silhouette_precision": [0.5, 0.7, 0.75, 0.76], "colour_match": [0.2, 0.3, 0.35, 0.36]}
    summary = {"steps_psnr": steps["psnr"], "steps_silhouette_precision": steps["silhouette_precision"],
               "steps_colour_match": steps["colour_match"]}
    card = write_card(tmp_path, {}, {"summary": summary, "steps": steps}, "toy train --ship").read_text()
    assert "| steps 2 / 4 / 8 / 20: PSNR (3 clips) | rises, flattens | 15.0, 18.0, 17.5, 17.4 |" in card
    assert "| ... figure pixels on the true silhouette | rises, flattens | 0.500, 0.700, 0.750, 0.760 |" in card
    assert "| ... part colours matching the reference | rises, flattens | 0.200, 0.300, 0.350, 0.360 |" in card


def test_loss_curves_run_on_through_the_legs(tmp_path):
    (tmp_path / "vae_loss.csv").write_text("step,loss,psnr\n" + "".join(f"{s},0.1,{20 + s / 10}\n" for s in range(1, 60)))
    write_losses(tmp_path / "transformer-run" / "loss.csv", 80)
    write_losses(tmp_path / "leg-2" / "loss.csv", 60)
    write_losses(tmp_path / "leg-1" / "loss.csv", 70)
    assert [p.parent.name for p in transformer_loss_files(tmp_path)] == ["transformer-run", "leg-1", "leg-2"]
    png = loss_curves(tmp_path, tmp_path / "curves.png")
    assert png.stat().st_size > 5000


def test_loss_curves_of_a_run_started_from_the_shipped_toy_show_its_own_legs(tmp_path):
    """No VAE log and no first run there (they are not shipped): the curves start at the folder's first leg."""
    write_losses(tmp_path / "leg-4" / "loss.csv", 70)
    assert [p.parent.name for p in transformer_loss_files(tmp_path)] == ["leg-4"]
    assert loss_curves(tmp_path, tmp_path / "curves.png").stat().st_size > 5000


def test_the_vae_legs_psnr_follows_the_vae_log_in_the_curves_in_the_order_the_legs_ran(tmp_path):
    import os

    from engine.toy.factory.card import vae_loss_files

    (tmp_path / "vae_loss.csv").write_text("step,loss,psnr\n" + "".join(f"{s},0.1,{20 + s / 10}\n" for s in range(1, 60)))
    ran = [("decoder", 1), ("decoder", 2), ("encoder", 1), ("decoder", 3)]  # an encoder leg between decoder legs
    for order, (kind, leg) in enumerate(reversed(ran)):  # made last-first; each log dated when its leg finished
        log = tmp_path / f"{kind}-leg-{leg}" / f"{kind}_loss.csv"
        log.parent.mkdir()
        log.write_text("step,loss,mse,psnr,lr,seconds\n" + "".join(f"{s},0.1,0.01,{26 + s / 100},1e-4,2.0\n" for s in range(1, 40)))
        finished = 1_700_000_000 + 3600 * (len(ran) - order)  # when that leg's log was last written
        os.utime(log, (finished, finished))
    assert [p.parent.name for p in vae_loss_files(tmp_path)] == [
        tmp_path.name, "decoder-leg-1", "decoder-leg-2", "encoder-leg-1", "decoder-leg-3"]
    assert loss_curves(tmp_path, tmp_path / "curves.png").stat().st_size > 5000
