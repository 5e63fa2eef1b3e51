"""Before launching: how big is one training step? Tokens, FLOPs, memory, and a time floor.

The model is counted, not guessed: the transformer is built from its config on the meta device (no
memory, no download). FLOPs per forward are 2 N T for the weights plus 4 T^2 d per attention layer
(QK^T and AV); a LoRA step is about three forwards. At 480x832x81 that gives about 430 TFLOP per 1.3B
forward, the figure in BENCHMARKS.md. Activation memory uses the usual 34 bytes x tokens x width per layer
in bf16 (Korthikanti et al., attention scores not stored, as with flash / SDPA kernels); gradient
checkpointing keeps only each block's input plus one block's activations. These are estimates to choose
a size with; the trainer measures the real s/step and peak memory as it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

PEAK_TFLOPS = 800.0  # bf16 dense, an H100 at realistic clocks (BENCHMARKS.md's floor)
TYPICAL_FRACTION = 1 / 3  # published Wan runs reach about a third of it
BYTES_PER_ACTIVATION = 34  # per token, per unit of width, per block (bf16)


@dataclass
class StepEstimate:
    tokens: int
    transformer_parameters: int
    trainable_parameters: int
    tflop_per_step: float
    weights_gb: float
    optimizer_gb: float
    activations_gb: float
    floor_seconds: float
    typical_seconds: float

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.optimizer_gb + self.activations_gb

    def summary(self) -> str:
        return (f"{self.tokens:,} tokens; {self.trainable_parameters:,} trainable of "
                f"{readable_count(self.transformer_parameters)} parameters; about "
                f"{readable_flop(self.tflop_per_step * 1e12)} per sample-step; memory about "
                f"{readable_bytes(self.total_gb)} (weights {readable_bytes(self.weights_gb)}, optimizer "
                f"{readable_bytes(self.optimizer_gb)}, activations {readable_bytes(self.activations_gb)}); on a GPU "
                f"at {PEAK_TFLOPS:.0f} TFLOP/s at least {readable_seconds(self.floor_seconds)} per sample-step, "
                f"typically {readable_seconds(self.typical_seconds)}")


# Small models (tiny, toy) are millions of parameters and GFLOP, not "0.00 B" and "0 TFLOP".
def readable_count(value: float) -> str:
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= size:
            return f"{value / size:.2f} {unit}"
    return f"{value:.0f}"


def readable_flop(value: float) -> str:
    for size, unit in ((1e12, "TFLOP"), (1e9, "GFLOP"), (1e6, "MFLOP")):
        if value >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} FLOP"


def readable_bytes(gigabytes: float) -> str:
    if gigabytes >= 1:
        return f"{gigabytes:.1f} GB"
    if gigabytes >= 1e-3:
        return f"{gigabytes * 1e3:.1f} MB"
    return f"{gigabytes * 1e6:.0f} KB"


def readable_seconds(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.01 else f"{seconds * 1e3:.2f} ms"


def count_tokens(config: dict, height: int, width: int, num_frames: int, with_reference: bool = True,
                 spatial_factor: int = 8) -> int:
    """Transformer tokens for a clip: latent frames (+1 for the reference) x latent patches. spatial_factor is
    the VAE's (8 for Wan's, 4 for the toy's)."""
    patch_t, patch_h, patch_w = config.get("patch_size", (1, 2, 2))
    latent_frames = (num_frames - 1) // 4 + 1 + (1 if with_reference else 0)
    return (latent_frames // patch_t) * (height // spatial_factor // patch_h) * (width // spatial_factor // patch_w)


def forward_flops(config: dict, tokens: int, parameters: int, text_tokens: int = 512) -> float:
    """One transformer forward: the weights (2 N T) plus self- and cross-attention in every block."""
    width = config["num_attention_heads"] * config["attention_head_dim"]
    blocks = config["num_layers"] + len(config.get("vace_layers", []))
    return 2 * parameters * tokens + blocks * (4 * tokens * tokens * width + 4 * tokens * text_tokens * width)


def transformer_parameters(config: dict) -> int:
    """Parameter count of a WanVACETransformer3DModel with this config, built on the meta device."""
    from accelerate import init_empty_weights
    from diffusers import WanVACETransformer3DModel

    with init_empty_weights():
        model = WanVACETransformer3DModel.from_config(config)
    return sum(p.numel() for p in model.parameters())


def estimate_step(config: dict, height: int, width: int, num_frames: int, trainable_parameters: int,
                  gradient_checkpointing: bool, parameters: int | None = None, weight_bytes: int = 2,
                  text_tokens: int = 512, spatial_factor: int = 8) -> StepEstimate:
    parameters = parameters or transformer_parameters(config)
    tokens = count_tokens(config, height, width, num_frames, spatial_factor=spatial_factor)
    width_d = config["num_attention_heads"] * config["attention_head_dim"]
    blocks = config["num_layers"] + len(config.get("vace_layers", []))
    tflop = 3 * forward_flops(config, tokens, parameters, text_tokens) / 1e12
    # fp32 LoRA weights, their gradients and AdamW's two moments.
    optimizer_bytes = trainable_parameters * 4 * 4
    per_block = BYTES_PER_ACTIVATION * tokens * width_d
    if gradient_checkpointing:
        activations = blocks * tokens * width_d * weight_bytes + per_block
    else:
        activations = blocks * per_block
    floor = tflop / PEAK_TFLOPS
    return StepEstimate(
        tokens=tokens, transformer_parameters=parameters, trainable_parameters=trainable_parameters,
        tflop_per_step=tflop, weights_gb=parameters * weight_bytes / 1e9, optimizer_gb=optimizer_bytes / 1e9,
        activations_gb=activations / 1e9, floor_seconds=floor, typical_seconds=floor / TYPICAL_FRACTION,
    )


def lora_parameters(config: dict, pattern: str, rank: int) -> int:
    """How many parameters a LoRA of this rank on the layers matching `pattern` adds (meta device)."""
    import re

    from accelerate import init_empty_weights
    from diffusers import WanVACETransformer3DModel

    with init_empty_weights():
        model = WanVACETransformer3DModel.from_config(config)
    total = 0
    for name, module in model.named_modules():
        if re.fullmatch(pattern, name) and hasattr(module, "in_features"):
            total += rank * (module.in_features + module.out_features)
    return total
