"""engine/cpu_conv.py: the VAE's 3D convolutions run on oneDNN on a CPU, with PyTorch's results."""

import pytest
import torch

from engine.cpu_conv import use_onednn_conv3d, use_pytorch_conv3d


def kernels_called(action) -> set[str]:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as trace:
        action()
    return {event.key for event in trace.key_averages()}


@pytest.mark.parametrize("options", [dict(), dict(padding=1), dict(stride=(1, 2, 2)), dict(padding=2, dilation=2),
                                     dict(kernel_size=(3, 1, 1))])
def test_onednn_conv3d_gives_pytorchs_result(options):
    torch.manual_seed(0)
    layer = torch.nn.Conv3d(8, 12, **{"kernel_size": 3, **options})
    x = torch.randn(1, 8, 5, 18, 30)
    expected = layer(x)
    assert use_onednn_conv3d(layer) == 1
    torch.testing.assert_close(layer(x), expected, atol=1e-5, rtol=1e-4)


def test_onednn_conv3d_replaces_the_slow_reference_kernel():
    layer = torch.nn.Conv3d(16, 16, 3)
    x = torch.randn(1, 16, 3, 34, 58)  # batch 1, few channels: PyTorch's heuristic picks slow_conv3d
    with torch.no_grad():
        assert "aten::slow_conv3d_forward" in kernels_called(lambda: layer(x))
        use_onednn_conv3d(layer)
        called = kernels_called(lambda: layer(x))
    assert "aten::mkldnn_convolution" in called and "aten::slow_conv3d_forward" not in called


def test_onednn_conv3d_keeps_gradients():
    torch.manual_seed(0)
    layer = torch.nn.Conv3d(4, 4, 3, padding=1)
    x = torch.randn(1, 4, 3, 10, 12, requires_grad=True)
    layer(x).square().sum().backward()
    expected = x.grad.clone(), layer.weight.grad.clone()
    x.grad, layer.weight.grad = None, None
    use_onednn_conv3d(layer)
    layer(x).square().sum().backward()
    torch.testing.assert_close((x.grad, layer.weight.grad), expected, atol=1e-4, rtol=1e-4)


def test_other_dtypes_and_padding_modes_keep_pytorchs_kernel():
    reflect = torch.nn.Conv3d(4, 4, 3, padding=1, padding_mode="reflect")
    assert use_onednn_conv3d(reflect) == 0
    double = torch.nn.Conv3d(4, 4, 3).double()
    use_onednn_conv3d(double)
    x = torch.randn(1, 4, 3, 10, 12, dtype=torch.float64)
    assert "aten::mkldnn_convolution" not in kernels_called(lambda: double(x))


def test_use_pytorch_conv3d_undoes_the_routing():
    layer = torch.nn.Conv3d(16, 16, 3)
    use_onednn_conv3d(layer)
    use_pytorch_conv3d(layer)
    with torch.no_grad():
        assert "aten::slow_conv3d_forward" in kernels_called(lambda: layer(torch.randn(1, 16, 3, 34, 58)))


def test_the_engine_loads_its_vae_with_onednn_convolutions_on_a_cpu(tiny_engine):
    vae = tiny_engine.load().vae
    latents = torch.randn(1, vae.config.z_dim, 2, 8, 8)
    with torch.no_grad():
        called = kernels_called(lambda: vae.decode(latents))
    assert "aten::mkldnn_convolution" in called and "aten::slow_conv3d_forward" not in called
