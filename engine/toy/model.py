"""The toy WanVACE model: the real diffusers classes at a size a CPU trains and runs.

    AutoencoderKLWan         encoder 16 / decoder 24 channels, residual resampling, z 16, 4x spatial and 4x
                             temporal compression
    WanVACETransformer3DModel  4 blocks of 8 heads x 32, patches of 4x4 latents, VACE hints into blocks 0, 2
    UMT5EncoderModel          2 small layers over a word-level vocabulary of the puppet world (frozen, random;
                             optionally its first attention set to add each word's right-hand neighbour to it)

The shipped weights live in assets/toy/ (safetensors, with a model card); `python -m experiments toy train`
re-creates them. Sizes match the world: 128x224, 17 frames at 16 fps -> latents 5x32x56 -> 560 tokens. A run
may use a wider latent (z 48 in the shipped toy, grown from z 16 by engine/toy/factory/widen.py); the tokens
stay the same.
"""

from __future__ import annotations

import re
import string

from engine.toy import world

TEXT_DIM = 64

# is_residual (Wan 2.2's variant: average-pool / duplicate shortcuts around each resampling) learns several
# times faster from scratch than the plain layout: 23.5 dB against 17.8 dB after 100 steps on a fixed batch.
#
# 4x spatial compression, not Wan's 8x: the puppet's limbs are 2-4 pixels wide at 128x224 and the pose video's
# bones 2 pixels, so at 8x both fell inside one latent and were lost. The first 8x VAE reconstructed pose videos
# as black frames and the figure as a blur, and a transformer trained on its latents ignored the control.
# Patches of 4x4 latents keep the transformer's token count where 8x with 2x2 patches had it.
VAE_CONFIG = dict(base_dim=16, decoder_base_dim=24, z_dim=16, dim_mult=[1, 2, 2], num_res_blocks=1,
                  temperal_downsample=[True, True], is_residual=True)
# Tokens at least as wide as a patch (16 latent channels x 4 x 4 = 256): near sigma 1 the velocity the model
# outputs is mostly the noise itself, and 128-wide tokens could not carry it (the second run's x0 error from
# pure noise stayed at 1.23, above each clip's own spread of 0.58). 4 blocks keep a step near 1.3 s on 2 cores
# (research/toy_widths.py).
TRANSFORMER_CONFIG = dict(
    patch_size=(1, 4, 4), num_attention_heads=8, attention_head_dim=32, in_channels=16, out_channels=16,
    text_dim=TEXT_DIM, freq_dim=256, ffn_dim=1024, num_layers=4, cross_attn_norm=True,
    qk_norm="rms_norm_across_heads", rope_max_seq_len=64, vace_layers=[0, 2], vace_in_channels=48,  # 2 x 16 latent + 4x4 mask channels
)
TEXT_CONFIG = dict(d_model=TEXT_DIM, d_kv=16, d_ff=128, num_layers=2, num_heads=4, relative_attention_num_buckets=8)

# Every word a toy prompt can use, so each is one token; anything else falls back to characters.
_EXTRA_WORDS = "a an the person in on of and with top background video high quality dancing figure".split()


def toy_vocabulary() -> list[str]:
    words = set(_EXTRA_WORDS)
    words.update(world.COLOURS, world.SKINS, world.HAIRS, world.BOTTOMS, world.PATTERNS)
    for verb in world.VERBS.values():
        words.update(verb.split())
    return sorted(words)


def words_as_read(text: str) -> str:
    """A prompt as the toy reads it: lower-case words, anything but letters a space. "A Red top, dancing." then
    reads as the world's own words, where the capital A and the comma were letter pieces its text encoder never
    saw in a training prompt. The world's prompts (lower-case words only) are left as they are."""
    return " ".join(re.sub("[^a-z]+", " ", text.lower()).split())


def unknown_words(text: str) -> list[str]:
    """The words of a prompt the toy's vocabulary lacks, each once: it reads them as letters it never saw."""
    known = set(toy_vocabulary())
    return list(dict.fromkeys(word for word in words_as_read(text).split() if word not in known))


def listed(words: list[str], most: int = 12) -> str:
    """Words for a note: "a, b, c", the first `most` of them and how many more."""
    return ", ".join(words[:most]) + (f" and {len(words) - most} more" if len(words) > most else "")


def unknown_word_notes(prompts: dict[str, str]) -> list[str]:
    """A note for each named prompt ({"prompt": ..., "negative prompt": ...}) with words the toy never learned."""
    notes = []
    for name, text in prompts.items():
        unknown = unknown_words(text)
        if unknown:
            notes.append(f"The toy knows only its puppet world's words; in the {name} it has never seen: "
                         f"{listed(unknown)}. It reads them as letters it never saw in training (the sample's prompt "
                         "uses only words it knows).")
    return notes


def build_tokenizer():
    from transformers import T5Tokenizer

    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    pieces += [("\u2581" + word, -1.0) for word in toy_vocabulary()]
    pieces += [("\u2581", -3.0)]
    pieces += [(ch, -5.0) for ch in string.ascii_letters + string.digits + string.punctuation]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def build_vae(**changes):
    """The toy's VAE, untrained; `changes` override VAE_CONFIG (a wider latent, research pilots of other
    geometries). Its latent statistics start neutral, one per channel, until training measures them."""
    from diffusers import AutoencoderKLWan

    config = {**VAE_CONFIG, **changes}
    neutral = {"latents_mean": [0.0] * config["z_dim"], "latents_std": [1.0] * config["z_dim"]}
    return AutoencoderKLWan(**{**neutral, **config})


def load_cpu_vae(folder):
    """A saved toy VAE (a pipeline's `vae` folder) in float32 with its 3D convolutions on oneDNN: on a CPU,
    PyTorch's own kernel choice sends them to its slow reference kernel (engine/cpu_conv.py)."""
    import torch
    from diffusers import AutoencoderKLWan

    from engine.cpu_conv import use_onednn_conv3d

    vae = AutoencoderKLWan.from_pretrained(folder, torch_dtype=torch.float32)
    use_onednn_conv3d(vae)
    return vae


def build_text_encoder(tokenizer):
    import torch
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(0)  # frozen and random: the transformer learns to read it
    return UMT5EncoderModel(UMT5Config(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                                       eos_token_id=tokenizer.eos_token_id,
                                       decoder_start_token_id=tokenizer.pad_token_id, **TEXT_CONFIG))


# How much of its right-hand neighbour mix_in_next_word adds to each word. At 0.5 a colour word's feature naming
# the top and naming the background have cosine 0.70, two colour words naming the background 0.22: the word
# still says which colour, and now also what it colours (research/toy_text_roles.py; 1.00 and 0.07 without).
NEXT_WORD_SHARE = 0.5
_NEXT_WORD_BIAS = 30.0  # an attention logit this far above the rest puts all of a head's weight on one word


def mix_in_next_word(text_encoder, share: float = NEXT_WORD_SHARE):
    """Set the text encoder's first self-attention so each token adds `share` of its right-hand neighbour.

    Wan's cross-attention sees the prompt's tokens without their order, and a frozen random encoder gives
    "red" the same feature in "a red top" as in "a red background", so the transformer reads a bag of words
    and cannot tell which colour is the floor's. Every toy prompt puts a colour right before what it colours,
    so one head pattern is enough: no query or key (scores come from position alone), the bias of relative
    position +1 far above the rest, values passed through and scaled by `share`. The rest stays random."""
    import torch

    attention = text_encoder.encoder.block[0].layer[0].SelfAttention
    width = attention.v.weight.shape[0]
    next_word = int(attention._relative_position_bucket(torch.tensor([1])))
    with torch.no_grad():
        attention.q.weight.zero_()
        attention.k.weight.zero_()
        attention.v.weight.copy_(torch.eye(width))
        attention.o.weight.copy_(torch.eye(width) * share)
        attention.relative_attention_bias.weight.zero_()
        attention.relative_attention_bias.weight[next_word] = _NEXT_WORD_BIAS
    return text_encoder


def reads_next_word(text_encoder) -> bool:
    """Whether mix_in_next_word set this encoder (its first attention has no query weights at all)."""
    return not bool(text_encoder.encoder.block[0].layer[0].SelfAttention.q.weight.any())


def build_transformer(latent_channels: int = TRANSFORMER_CONFIG["in_channels"]):
    """The toy's transformer, untrained, for a VAE of `latent_channels` (its z_dim): the patch embedding, the
    output projection and the VACE patch embedding (2 x latent channels + the 4x4 mask's 16) take that width;
    the tokens do not change."""
    from diffusers import WanVACETransformer3DModel

    return WanVACETransformer3DModel(**transformer_config(latent_channels))


def transformer_config(latent_channels: int) -> dict:
    """TRANSFORMER_CONFIG for latents of `latent_channels`, the mask's channels kept."""
    mask_channels = TRANSFORMER_CONFIG["vace_in_channels"] - 2 * TRANSFORMER_CONFIG["in_channels"]
    return {**TRANSFORMER_CONFIG, "in_channels": latent_channels, "out_channels": latent_channels,
            "vace_in_channels": 2 * latent_channels + mask_channels}


def build_scheduler():
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)


def assemble_pipeline(vae, transformer, text_encoder=None, tokenizer=None):
    from diffusers import WanVACEPipeline

    tokenizer = tokenizer or build_tokenizer()
    text_encoder = text_encoder or build_text_encoder(tokenizer)
    return WanVACEPipeline(tokenizer=tokenizer, text_encoder=text_encoder, transformer=transformer, vae=vae,
                           scheduler=build_scheduler())
