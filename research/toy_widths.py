"""Toy transformer widths, side by side: parameters and one training sample-step (forward + backward) each.

    python -m research.toy_widths [--reps 5]

Why: at sigma near 1 the velocity is mostly the noise, so the tokens must be at least as wide as a patch
(16 latent channels x 4 x 4 = 256 numbers) to carry it. The second run's tokens were 128 wide; this
measures what wider ones cost on this machine, on random inputs of the toy's shapes (224x128x17 plus the
reference frame: 6 x 32 x 56 latents).
"""

from __future__ import annotations

import argparse
import time

CANDIDATES = {
    "4 heads x 32, 6 layers (hints 0, 2, 4), ffn 512 (the second run's)": dict(
        num_attention_heads=4, num_layers=6, vace_layers=[0, 2, 4], ffn_dim=512),
    "8 heads x 32, 6 layers (hints 0, 2, 4), ffn 1024": dict(num_layers=6, vace_layers=[0, 2, 4]),
    "8 heads x 32, 4 layers (hints 0, 2), ffn 768": dict(ffn_dim=768),
    "8 heads x 32, 4 layers (hints 0, 2), ffn 1024 (now)": {},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()

    import torch
    from diffusers import WanVACETransformer3DModel

    from engine.toy.model import TRANSFORMER_CONFIG

    torch.set_num_threads(2)
    latents, control, prompt = torch.randn(1, 16, 6, 32, 56), torch.randn(1, 48, 6, 32, 56), torch.randn(1, 64, 64)
    for name, change in CANDIDATES.items():
        torch.manual_seed(0)
        model = WanVACETransformer3DModel(**{**TRANSFORMER_CONFIG, **change})

        def step():
            out = model(hidden_states=latents, timestep=torch.tensor([500.0]), encoder_hidden_states=prompt,
                        control_hidden_states=control, return_dict=False)[0]
            out.pow(2).mean().backward()

        step()  # warm-up
        started = time.perf_counter()
        for _ in range(args.reps):
            step()
        seconds = (time.perf_counter() - started) / args.reps
        parameters = sum(p.numel() for p in model.parameters()) / 1e6
        print(f"{name}: {parameters:.1f} M parameters, {seconds:.3f} s per sample-step")


if __name__ == "__main__":
    main()
