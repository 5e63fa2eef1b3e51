"""The toy model's card: every number comes from the run's files, legs included."""

import json

from engine.toy.factory.card import loss_curves, transformer_loss_files, write_card


def write_losses(path, steps, loss=1.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{step},{loss / step:.4f},1e-4,1.0,0.5,{loss / step:.4f},0\n" for step in range(1, steps + 1))
    path.write_text("step,loss,lr,seconds,sigma,sample_loss,bucket\n" + rows)


def test_the_card_lists_each_leg_with_the_command_that_ran_it(tmp_path):
    record = {"recipe": {"clips": 600, "transformer": {"max_steps": 3000}}, "vae_psnr_db": 23.1,
              "legs": [{"steps": 4000, "clips": 1500, "learning_rate": 3e-4, "foreground_weight": 10.0, "seconds": 4100}],
              "limits": ["the figure stays where the skeleton starts"]}
    report = {"summary": {"silhouette_precision": 0.42}, "thresholds": {"colour_distance": 60}}
    card = write_card(tmp_path, record, report, "python -m experiments toy train --ship").read_text()
    assert "toy train --more 4000 --clips 1500 --learning-rate 0.0003" in card
    assert "| >= 0.80 | 0.420 |" in card and "23.1 dB" in card
    assert "## What it gets wrong, and why\n\n- the figure stays where the skeleton starts" in card
    assert json.loads((tmp_path / "eval.json").read_text()) == report


def test_a_legs_curriculum_options_are_in_its_command():
    from engine.toy.factory.card import leg_lines

    leg = {"steps": 800, "clips": 1000, "learning_rate": 3e-4, "batch_size": 4, "foreground_weight": 10.0,
           "scene_prompt_share": 0.8, "aligned_reference_share": 0.5, "travel_share": 0.5, "next_word_text": True,
           "seconds": 1700}
    [line] = leg_lines({"legs": [leg]})
    assert "--batch-size 4 --scene-prompts 0.8 --aligned-references 0.5 --travel 0.5 --next-word-text`" in line


def test_a_leg_that_started_from_the_shipped_toy_says_so_in_its_command():
    from engine.toy.factory.card import decoder_leg_lines, leg_lines

    leg = {"from_shipped": True, "steps": 1200, "clips": 400, "learning_rate": 2e-4, "foreground_weight": 10.0,
           "seconds": 1500}
    first, second = leg_lines({"legs": [leg, {**leg, "from_shipped": False}]})
    assert "toy train --from-shipped --more 1200 --clips 400" in first
    assert "toy train --more 1200 --clips 400" in second
    round_trip = {"psnr": 23.0, "silhouette_precision": 0.8, "colour_match": 0.6}
    [decoder] = decoder_leg_lines({"decoder_legs": [{"from_shipped": True, "steps": 400, "learning_rate": 3e-4,
                                                     "seconds": 60, "device": "cpu", "round_trip_before": round_trip,
                                                     "round_trip_after": round_trip}]})
    assert "toy train --from-shipped --decoder-more 400" in decoder


def test_a_decoder_leg_names_the_transformer_leg_it_followed():
    """Decoder, encoder and transformer legs are listed by kind; each VAE leg says where it fell among the rest."""
    from engine.toy.factory.card import decoder_leg_lines

    round_trip = {"psnr": 23.0, "silhouette_precision": 0.8, "colour_match": 0.6}
    leg = {"steps": 400, "learning_rate": 1.5e-4, "seconds": 600, "device": "cpu", "round_trip_before": round_trip,
           "round_trip_after": round_trip}
    unplaced, placed = decoder_leg_lines({"decoder_legs": [leg, {**leg, "after_leg": 8}]})
    assert unplaced.startswith("- decoder leg 1: `python -m experiments toy train --decoder-more 400")
    assert placed.startswith("- decoder leg 2 (after leg 8): `python -m experiments toy train --decoder-more 400")


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


def test_the_card_lists_a_decoder_leg_with_the_vae_round_trip_around_it(tmp_path):
    around = lambda precision, colours, psnr: {"silhouette_precision": precision, "colour_match": colours, "psnr": psnr}  # noqa: E731
    record = {"recipe": {"clips": 600}, "vae_psnr_db": 23.0,
              "decoder_legs": [{"steps": 1000, "learning_rate": 3e-4, "seconds": 2500, "device": "cpu, 2 cores",
                                "round_trip_before": around(0.788, 0.471, 23.07),
                                "round_trip_after": around(0.80, 0.55, 23.0)}]}
    report = {"summary": {"vae_colour_match": 0.55, "vae_silhouette_precision": 0.8, "vae_pose_bones_kept": 0.41},
              "thresholds": {}}
    card = write_card(tmp_path, record, report, "python -m experiments toy train --ship").read_text()
    assert "toy train --decoder-more 1000 --learning-rate 0.0003`" in card
    assert "part colours 0.471, PSNR 23.07 dB before, silhouette precision 0.800, part colours 0.550" in card
    assert "through the VAE alone: part colours matching | | 0.550 |" in card
    assert "pose videos through the VAE alone: bone pixels given back in their colour | | 0.410 |" in card


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


def test_the_card_lists_an_encoder_leg_with_both_round_trips_and_the_leg_it_came_before(tmp_path):
    around = lambda bones, precision: {"pose_bones_kept": bones, "silhouette_precision": precision,  # noqa: E731
                                       "colour_match": 0.6, "psnr": 23.0}
    record = {"recipe": {"clips": 600}, "vae_psnr_db": 23.0,
              "encoder_legs": [{"from_shipped": True, "steps": 600, "learning_rate": 2e-4, "encoder_learning_rate": 1e-4,
                                "anchor_weight": 10.0, "before_leg": 7, "seconds": 1500, "device": "cpu, 2 cores",
                                "round_trip_before": around(0.41, 0.83), "round_trip_after": around(0.6, 0.8)}]}
    card = write_card(tmp_path, record, {"summary": {}, "thresholds": {}}, "python -m experiments toy train --ship").read_text()
    assert "- encoder leg 1 (before leg 7): `python -m experiments toy train --from-shipped --encoder-more 600" in card
    assert "before: pose bones kept 0.410, clips silhouette precision 0.830" in card
    assert "after: pose bones kept 0.600, clips silhouette precision 0.800" in card
