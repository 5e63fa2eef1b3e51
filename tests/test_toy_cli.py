"""`python -m experiments toy ...`: the files it writes, and one-line refusals."""

from experiments.cli import main
from experiments.flags import EXIT_BAD_INPUT


def test_toy_sample_writes_the_contract_files(tmp_path, capsys):
    assert main(["toy", "sample", "--seed", "4", "--out", str(tmp_path / "s"), "--frames", "9"]) == 0
    for name in ("video.mp4", "pose.mp4", "reference.png", "prompt.txt", "keypoints.json"):
        assert (tmp_path / "s" / name).is_file()
    assert "a person in a" in capsys.readouterr().out


def test_toy_dataset_writes_a_metadata_csv_the_trainer_reads(tmp_path):
    from engine.train.data import find_samples

    assert main(["toy", "dataset", "--out", str(tmp_path / "d"), "--clips", "2", "--frames", "9"]) == 0
    samples = find_samples(tmp_path / "d")
    assert len(samples) == 2 and all(s.pose_video and s.reference_image and s.prompt for s in samples)


def test_bad_toy_arguments_are_one_line(tmp_path, capsys):
    assert main(["toy", "sample", "--seed", "1", "--out", str(tmp_path), "--frames", "10"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.strip() == "error: --frames must be 4n+1, got 10"
    assert main(["toy", "dataset", "--out", str(tmp_path), "--clips", "0"]) == EXIT_BAD_INPUT
    capsys.readouterr()
    assert main(["toy", "train", "--out", str(tmp_path), "--scene-prompts", "2"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "error: --scene-prompts is a share from 0 to 1, not 2.0"
    assert main(["toy", "train", "--out", str(tmp_path), "--aligned-references", "-0.5"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "error: --aligned-references is a share from 0 to 1, not -0.5"
    assert main(["toy", "train", "--out", str(tmp_path), "--travel", "1.5"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "error: --travel is a share from 0 to 1, not 1.5"
    assert main(["toy", "train", "--out", str(tmp_path), "--latent-channels", "0"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "error: --latent-channels is a number of channels, 1 or more, not 0"
    assert main(["toy", "train", "--out", str(tmp_path), "--from-shipped"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == ("error: --from-shipped starts a leg from the shipped toy: "
                                               "give --more, --decoder-more, --encoder-more, --widen-latent or "
                                               "--reference-encoder STEPS")
    assert main(["toy", "train", "--out", str(tmp_path), "--widen-latent", "5"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == ("error: --widen-latent needs --latent-channels N: how many channels "
                                               "the wider latent has")
    for other in ("--decoder-more", "--encoder-more", "--reference-encoder", "--widen-latent"):
        assert main(["toy", "train", "--out", str(tmp_path), "--more", "5", other, "5"]) == EXIT_BAD_INPUT
        assert "one leg at a time" in capsys.readouterr().err
    assert main(["toy", "train", "--out", str(tmp_path), "--decoder-more", "5", "--decoder-noise", "-1"]) == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip() == "error: --decoder-noise is a number of latent stds, 0 or more, not -1.0"
    for leg in ("--more", "--decoder-more", "--encoder-more", "--reference-encoder", "--widen-latent"):  # need a run
        assert main(["toy", "train", "--out", str(tmp_path / "empty"), leg, "5", "--latent-channels", "24"]) \
            == EXIT_BAD_INPUT
        assert capsys.readouterr().err.strip().endswith(f"run `toy train --out {tmp_path / 'empty'}` first")
