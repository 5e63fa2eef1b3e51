"""Fast 3D convolutions on the CPU for Wan's VAE.

PyTorch picks its oneDNN (mkldnn) convolution with a heuristic written for images: a batch-1 input takes the
slow reference kernel (`slow_conv3d`) unless batch x channels x the next two sizes exceed 20,480. For a 3D
input those two sizes are frames and height, so a small VAE's convolutions (16-48 channels, 1-3 frames in
the causal cache) all fall on the slow side. On the toy's VAE that reference kernel was 79% of a decode:
oneDNN runs the same convolution 2-9x faster here, with the same result to float rounding (1e-5).

`use_onednn_conv3d(module)` makes every zero-padded Conv3d in `module` call oneDNN directly for float32
CPU inputs; anything else (a GPU, half precision) goes through PyTorch's own choice as before.
`python -m benchmarks.cpu_conv3d` measures it side by side.
"""

from __future__ import annotations

import types


def use_onednn_conv3d(module) -> int:
    """Route module's Conv3d layers through oneDNN on the CPU; returns how many layers now do."""
    import torch

    if not torch.backends.mkldnn.is_available():
        return 0
    count = 0
    for layer in module.modules():
        if isinstance(layer, torch.nn.Conv3d) and layer.padding_mode == "zeros" and not isinstance(layer.padding, str):
            layer._conv_forward = types.MethodType(_onednn_conv_forward, layer)
            count += 1
    return count


def _onednn_conv_forward(self, input, weight, bias):
    import torch

    if input.device.type != "cpu" or input.dtype != torch.float32 or not torch.backends.mkldnn.enabled:
        return torch.nn.Conv3d._conv_forward(self, input, weight, bias)
    return torch.mkldnn_convolution(input.contiguous(), weight, bias, self.padding, self.stride, self.dilation,
                                    self.groups)


def use_pytorch_conv3d(module) -> None:
    """Undo use_onednn_conv3d: PyTorch chooses each Conv3d's kernel again (for side-by-side benchmarks)."""
    for layer in module.modules():
        layer.__dict__.pop("_conv_forward", None)
