import hashlib

import torch

from engine import tiny


def _weights_digest(module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


def test_tiny_pipeline_is_built_deterministically():
    first, second = tiny.build_tiny_pipeline(), tiny.build_tiny_pipeline()
    for component in ("transformer", "vae", "text_encoder"):
        assert _weights_digest(getattr(first, component)) == _weights_digest(getattr(second, component))


def test_tiny_pipeline_goes_through_save_and_from_pretrained():
    from diffusers import WanVACEPipeline

    folder = tiny.ensure_tiny_pipeline()
    assert (folder / "model_index.json").is_file()
    assert (folder / "transformer" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = WanVACEPipeline.from_pretrained(folder)
    assert _weights_digest(loaded.transformer) == _weights_digest(tiny.build_tiny_pipeline().transformer)
    assert loaded.transformer.config.vace_layers == [0, 2]
    assert loaded.scheduler.config.flow_shift == 3.0


def test_tiny_tokenizer_tokenizes_any_text():
    tokenizer = tiny.build_tiny_tokenizer()
    ids = tokenizer("A young man dances; zebra-crossing #42!", add_special_tokens=True).input_ids
    assert ids[-1] == tokenizer.eos_token_id
    assert tokenizer.unk_token_id not in ids
    assert len(tokenizer("the man", add_special_tokens=True).input_ids) == 3  # two words + end token


def test_tiny_transformer_runs_a_forward_pass():
    model = tiny.build_tiny_pipeline().transformer
    out = model(
        hidden_states=torch.randn(1, 16, 2, 8, 8), timestep=torch.tensor([500]),
        encoder_hidden_states=torch.randn(1, 4, tiny.TEXT_DIM), control_hidden_states=torch.randn(1, 96, 2, 8, 8),
        return_dict=False,
    )[0]
    assert out.shape == (1, 16, 2, 8, 8)
