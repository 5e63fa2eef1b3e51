from experiments.cli import main


def test_inspect_names_the_format_and_checks_the_fit(lora_files, capsys):
    assert main(["lora", "inspect", str(lora_files["vace_diffsynth_trainer"]), "--model", "tiny"]) == 0
    out = capsys.readouterr().out
    assert "DiffSynth-Studio trainer: 23 layers (VACE branch), rank 4" in out and "fits tiny" in out


def test_inspect_of_a_file_for_another_model_is_one_line(lora_files, capsys):
    assert main(["lora", "inspect", str(lora_files["other_size"]), "--model", "tiny"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: other_size.safetensors: a ComfyUI / Kohya") and "\n" not in err


def test_export_writes_comfyui_names_that_inspect_reads_back(lora_files, tmp_path, capsys):
    out = tmp_path / "for_comfy.safetensors"
    assert main(["lora", "export", str(lora_files["diffusers"]), "--out", str(out)]) == 0
    assert main(["lora", "inspect", str(out)]) == 0
    assert "ComfyUI / Kohya (lora_down / lora_up): 30 layers (main blocks), rank 4" in capsys.readouterr().out
    assert main(["lora", "export", str(lora_files["diffusers"]), "--out", str(tmp_path / "x.pt")]) == 2
    assert "--out must end in .safetensors" in capsys.readouterr().err
