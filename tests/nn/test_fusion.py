"""``nn.utils.fuse_conv_bn_eval``/``fuse_linear_bn_eval`` (and their ``_weights`` halves): the
fused layer computes what the layer then the eval-mode BatchNorm compute, as PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg


def _setup(lib, conv, bn):
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in list(conv.parameters()) + list(bn.parameters()):
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
        bn.running_mean.copy_(lib.tensor(np.linspace(-1, 1, bn.num_features)))
        bn.running_var.copy_(lib.tensor(np.linspace(0.5, 2, bn.num_features)))
    conv.eval()
    bn.eval()


def _program(lib):
    nn, U = lib.nn, lib.nn.utils
    cases = [(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), False, (2, 3, 5, 5)),
             (nn.Conv1d(2, 3, 3, bias=False), nn.BatchNorm1d(3, affine=False), False, (2, 2, 6)),
             (nn.ConvTranspose2d(3, 4, 2, stride=2), nn.BatchNorm2d(4), True, (1, 3, 3, 3)),
             (nn.Linear(3, 4), nn.BatchNorm1d(4), None, (5, 3)),
             (nn.Linear(3, 4, bias=False), nn.BatchNorm1d(4), None, (5, 3))]
    out = []
    for layer, bn, transpose, shape in cases:
        layer, bn = layer.double(), bn.double()
        _setup(lib, layer, bn)
        fused = U.fuse_linear_bn_eval(layer, bn) if transpose is None else \
            U.fuse_conv_bn_eval(layer, bn, transpose=transpose)
        x = lib.tensor(np.random.default_rng(1).standard_normal(shape))
        out.append((fused(x).detach().numpy(), bn(layer(x)).detach().numpy(),
                    fused.bias.requires_grad, fused is layer))
    return out


def test_fused_layers_compute_layer_then_batchnorm():
    for fused, reference, _, same in _program(tg):
        np.testing.assert_allclose(fused, reference, rtol=1e-12, atol=1e-12)
        assert not same
    # a layer without bias gets a bias that does not require grad (it came from a buffer)
    assert [case[2] for case in _program(tg)] == [True, False, True, True, False]
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        tg.nn.utils.fuse_conv_bn_eval(tg.nn.Conv2d(1, 1, 1), tg.nn.BatchNorm2d(1).eval())
    with pytest.raises(AssertionError, match="linear.out_features=4 and bn.num_features=3"):
        tg.nn.utils.fuse_linear_bn_eval(tg.nn.Linear(3, 4).eval(), tg.nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="must not be None"):
        tg.nn.utils.fuse_conv_bn_eval(tg.nn.Conv2d(1, 1, 1).eval(),
                                      tg.nn.BatchNorm2d(1, track_running_stats=False).eval())


def test_fused_layers_match_torch(torch):
    for (a, _, ga, _), (b, _, gb, _) in zip(_program(tg), _program(torch)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        assert ga == gb
