"""Convolutions, pooling and normalisation layers: finite differences at first and second
order (check_table_entry) and PyTorch's values and gradients on the same inputs."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, check_table_entry

F = tg.nn.functional


def _F(L):
    return L.nn.functional


TABLE = [
    ("conv1d", lambda L, x, w, b: _F(L).conv1d(x, w, b), [((2, 3, 7), (4, 3, 3), (4,))]),
    ("conv1d_stride_pad_dil", lambda L, x, w: _F(L).conv1d(x, w, stride=2, padding=2,
                                                          dilation=2), [((1, 2, 9), (3, 2, 3))]),
    ("conv1d_unbatched_same", lambda L, x, w: _F(L).conv1d(x, w, padding="same"),
     [((2, 6), (3, 2, 4))]),
    ("conv2d", lambda L, x, w, b: _F(L).conv2d(x, w, b), [((2, 3, 5, 6), (4, 3, 3, 2), (4,))]),
    ("conv2d_stride_pad", lambda L, x, w: _F(L).conv2d(x, w, stride=(2, 1), padding=(1, 2)),
     [((1, 2, 6, 5), (3, 2, 3, 3))]),
    ("conv2d_groups_dilation", lambda L, x, w: _F(L).conv2d(x, w, groups=2, dilation=(1, 2)),
     [((1, 4, 5, 7), (6, 2, 2, 3))]),
    ("conv2d_depthwise_same", lambda L, x, w: _F(L).conv2d(x, w, groups=3, padding="same"),
     [((2, 3, 4, 4), (3, 1, 3, 3))]),
    ("conv3d", lambda L, x, w: _F(L).conv3d(x, w, padding=1), [((1, 2, 3, 4, 3), (2, 2, 2, 2,
                                                                                    2))]),
    ("max_pool1d", lambda L, x: _F(L).max_pool1d(x, 3, 2, 1), [((2, 3, 8),)]),
    ("max_pool2d", lambda L, x: _F(L).max_pool2d(x, 2), [((2, 3, 6, 4),)]),
    ("max_pool2d_ceil_dilation", lambda L, x: _F(L).max_pool2d(x, 3, 2, 1, dilation=1,
                                                               ceil_mode=True),
     [((1, 2, 6, 7),)]),
    ("avg_pool1d", lambda L, x: _F(L).avg_pool1d(x, 3, 2, 1), [((2, 3, 8),)]),
    ("avg_pool2d_ceil_exclude_pad", lambda L, x: _F(L).avg_pool2d(
        x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [((1, 2, 6, 7),)]),
    ("avg_pool2d_ceil_include_pad", lambda L, x: _F(L).avg_pool2d(x, 3, 2, 1, ceil_mode=True),
     [((1, 2, 6, 7),)]),
    ("avg_pool2d_divisor", lambda L, x: _F(L).avg_pool2d(x, 2, divisor_override=3),
     [((1, 2, 4, 4),)]),
    ("adaptive_avg_pool2d", lambda L, x: _F(L).adaptive_avg_pool2d(x, (3, 2)),
     [((2, 3, 7, 5),), ((3, 4, 4),)]),
    ("adaptive_avg_pool1d_global", lambda L, x: _F(L).adaptive_avg_pool1d(x, 1), [((2, 3, 5),)]),
    ("adaptive_max_pool2d", lambda L, x: _F(L).adaptive_max_pool2d(x, (2, 3)),
     [((1, 2, 5, 7),)]),
    ("batch_norm_train", lambda L, x, w, b: _F(L).batch_norm(x, None, None, w, b, True),
     [((4, 3, 5), (3,), (3,))]),
    ("group_norm", lambda L, x, w, b: _F(L).group_norm(x, 2, w, b), [((2, 4, 3, 2), (4,),
                                                                       (4,))]),
    ("instance_norm", lambda L, x: _F(L).instance_norm(x), [((2, 3, 5),)]),
] + [(f"pad_{mode}", (lambda mode: lambda L, x: _F(L).pad(x, (2, 1, 0, 3), mode=mode))(mode),
      [((2, 2, 4, 3),)]) for mode in ("reflect", "replicate", "circular")]


@pytest.mark.parametrize("name,f,cases", TABLE, ids=[t[0] for t in TABLE])
def test_op_table(name, f, cases):
    check_table_entry(name, f, cases)


def test_max_pool_indices_match_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 6))
    for kw in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
               {"kernel_size": 2, "dilation": 2, "ceil_mode": True}):
        v, i = F.max_pool2d(tg.tensor(x), return_indices=True, **kw)
        tv, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(v.numpy(), tv.numpy())
        np.testing.assert_array_equal(i.numpy(), ti.numpy())


def test_modules_match_torch_in_train_and_eval():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    ours = tg.nn.Sequential(tg.nn.Conv2d(3, 4, 3, padding=1), tg.nn.BatchNorm2d(4),
                            tg.nn.ReLU(), tg.nn.MaxPool2d(2), tg.nn.Conv2d(4, 4, 3, groups=2),
                            tg.nn.GroupNorm(2, 4), tg.nn.AdaptiveAvgPool2d(1),
                            tg.nn.Flatten(), tg.nn.Linear(4, 2))
    theirs = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                 torch.nn.Conv2d(4, 4, 3, groups=2), torch.nn.GroupNorm(2, 4),
                                 torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                 torch.nn.Linear(4, 2)).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    with torch.no_grad():
        for name, t in theirs.state_dict().items():
            if t.dtype == torch.float64:
                t.copy_(torch.tensor(rng.standard_normal(t.shape)))
    ours.load_state_dict({k: tg.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = rng.standard_normal((5, 3, 8, 8))
    for step in range(3):  # training steps move the running statistics
        out, tout = ours(tg.tensor(x + step)), theirs(torch.tensor(x + step))
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
        out.pow(2).sum().backward()
        tout.pow(2).sum().backward()
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-10,
                                   err_msg=name)
    for name, b in theirs.named_buffers():
        np.testing.assert_allclose(np.asarray(ours.get_buffer(name).numpy(), float),
                                   b.numpy().astype(float), rtol=1e-12, err_msg=name)
    ours.eval()
    theirs.eval()
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-10)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_padding_modes_match_torch(mode):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ours = tg.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode)
    theirs = torch.nn.Conv1d(2, 3, 3, padding=2, padding_mode=mode).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((2, 2, 6))
    np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-12,
                               atol=1e-14)  # (an output near 0 is a cancellation of O(1) terms)


def test_batch_norm_cumulative_average_and_no_running_stats():
    bn = tg.nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(k).standard_normal((6, 2)) for k in range(3)]
    for b in batches:
        bn(tg.tensor(b))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([b.mean(0) for b in batches],
                                                                0), rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([b.var(0, ddof=1) for b in batches], 0), rtol=1e-12)
    free = tg.nn.BatchNorm1d(2, track_running_stats=False).eval()
    y = free(tg.tensor(batches[0]))  # batch statistics even in eval mode
    np.testing.assert_allclose(y.detach().numpy().mean(0), 0.0, atol=1e-12)


def test_errors():
    with pytest.raises(RuntimeError, match="to have 4 channels, but got 3 channels"):
        F.conv2d(tg.ones(1, 3, 4, 4), tg.ones(2, 4, 2, 2))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\)"):
        F.conv2d(tg.ones(4, 4), tg.ones(2, 4, 2, 2))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        F.conv1d(tg.ones(1, 1, 2), tg.ones(1, 1, 3))
    with pytest.raises(RuntimeError, match="not supported for strided convolutions"):
        F.conv1d(tg.ones(1, 1, 5), tg.ones(1, 1, 3), stride=2, padding="same")
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        tg.nn.BatchNorm1d(3)(tg.ones(1, 3))
    with pytest.raises(RuntimeError, match="Padding size should be less than"):
        F.pad(tg.ones(1, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="expected 4D input"):
        tg.nn.BatchNorm2d(3)(tg.ones(2, 3))


TRANSPOSED = [(1, {}), (1, {"stride": 2, "padding": 1, "output_padding": 1}),
              (2, {"stride": 2}), (2, {"stride": 3, "dilation": 2, "padding": 2}),
              (2, {"groups": 2, "stride": (2, 1)}), (2, {"dilation": 2, "output_padding": 1}),
              (3, {"stride": 2, "padding": 1})]


def _transposed_inputs(nd, kw, rng):
    g = kw.get("groups", 1)
    x = rng.standard_normal((2, 4) + (4, 3, 3)[:nd])
    w = rng.standard_normal((4, 6 // g if g > 1 else 3) + (3, 2, 2)[:nd])
    return x, w, rng.standard_normal(w.shape[1] * g)


@pytest.mark.parametrize("nd,kw", TRANSPOSED)
def test_conv_transpose_finite_differences(nd, kw):
    x, w, b = _transposed_inputs(nd, kw, np.random.default_rng(8))
    f = getattr(tg.nn.functional, f"conv_transpose{nd}d")
    check_op(lambda x, w, b: f(x, w, b, **kw), [x[:1], w, b], order=2 if nd < 3 else 1)


@pytest.mark.parametrize("nd,kw", TRANSPOSED)
def test_conv_transpose_matches_pytorch(nd, kw):
    torch = pytest.importorskip("torch")
    x, w, b = _transposed_inputs(nd, kw, np.random.default_rng(9))
    ts = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    gs = [tg.tensor(a, requires_grad=True) for a in (x, w, b)]
    theirs = getattr(torch.nn.functional, f"conv_transpose{nd}d")(*ts, **kw)
    ours = getattr(tg.nn.functional, f"conv_transpose{nd}d")(*gs, **kw)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12,
                               atol=1e-12)
    up = np.random.default_rng(1).standard_normal(ours.shape)
    (theirs * torch.tensor(up)).sum().backward()
    (ours * tg.tensor(up)).sum().backward()
    for t, g in zip(ts, gs):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-11, atol=1e-12)


def test_conv_transpose_layers_and_errors():
    layer = tg.nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2, bias=False)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [("weight", (4, 3, 3, 3))]
    assert repr(layer) == ("ConvTranspose2d(4, 6, kernel_size=(3, 3), stride=(2, 2), "
                           "output_padding=(1, 1), groups=2, bias=False)")
    assert repr(tg.nn.Conv2d(3, 4, 3, padding=1)) == \
        "Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    up = tg.nn.ConvTranspose2d(4, 3, 3, stride=2)
    x = tg.randn(1, 4, 5, 5)
    assert up(x).shape == (1, 3, 11, 11)
    assert up(x, output_size=(12, 12)).shape == (1, 3, 12, 12)
    with pytest.raises(ValueError, match=r"requested an output size of \(20, 20\), but valid "
                                         r"sizes range from \[11, 11\] to \[12, 12\]"):
        up(x, output_size=(20, 20))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride "
                                           "or dilation"):
        tg.nn.functional.conv_transpose2d(x, up.weight, stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="Output size is too small"):
        tg.nn.functional.conv_transpose2d(x, up.weight, padding=4)
    # a decoder step trains: the transposed convolution's gradient reaches its weight
    dec = tg.nn.Sequential(tg.nn.ConvTranspose1d(2, 1, 4, stride=2, padding=1))
    opt = tg.optim.SGD(dec.parameters(), lr=0.05)
    z, target = tg.randn(8, 2, 5), tg.randn(8, 1, 10)
    first = None
    for _ in range(30):
        loss = ((dec(z) - target) ** 2).mean()
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < first
    torch = pytest.importorskip("torch")
    assert repr(layer) == repr(torch.nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1,
                                                        groups=2, bias=False))


POOL3D = [dict(kernel_size=2), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=1),
          dict(kernel_size=3, stride=2, ceil_mode=True)]


@pytest.mark.parametrize("kw", POOL3D)
def test_pooling_3d(kw):
    x = np.random.default_rng(10).standard_normal((1, 2, 4, 5, 4))
    F = tg.nn.functional
    check_op(lambda x: F.max_pool3d(x, **kw), [x], order=2)
    check_op(lambda x: F.avg_pool3d(x, **kw), [x], order=2)
    check_op(lambda x: F.adaptive_avg_pool3d(x, (2, 3, 1)), [x], order=1)
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    for ours, theirs in ((F.max_pool3d, TF.max_pool3d), (F.avg_pool3d, TF.avg_pool3d)):
        xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
        a, b = theirs(xt, **kw), ours(xg, **kw)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-13)
        (a ** 2).sum().backward()
        (b ** 2).sum().backward()
        np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
    for size in ((2, 3, 1), 1, (None, 2, 3)):
        np.testing.assert_allclose(F.adaptive_avg_pool3d(tg.tensor(x), size).numpy(),
                                   TF.adaptive_avg_pool3d(torch.tensor(x), size).numpy(),
                                   rtol=1e-13)
        np.testing.assert_allclose(F.adaptive_max_pool3d(tg.tensor(x), size).numpy(),
                                   TF.adaptive_max_pool3d(torch.tensor(x), size).numpy())


def test_pooling_layer_reprs_are_pytorchs():
    torch = pytest.importorskip("torch")
    for name, args in (("MaxPool2d", (2,)), ("AvgPool2d", (3, 1)), ("AvgPool1d", (2,)),
                       ("MaxPool1d", (3,)), ("AdaptiveMaxPool2d", (2,)), ("AvgPool3d", (2,)),
                       ("MaxPool3d", (2,)), ("AdaptiveAvgPool3d", ((1, 2, 3),))):
        assert repr(getattr(tg.nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


# a batch (or a channel, or a normalised shape) of no elements: empty results and gradients,
# running statistics untouched, as PyTorch's
_EMPTY_BATCH = [
    ("layer_norm", lambda L, x, w: _F(L).layer_norm(x, x.shape[-1:], w[:4], w[:4]), (0, 3, 4)),
    ("layer_norm_2d", lambda L, x, w: _F(L).layer_norm(x, x.shape[-2:]), (0, 3, 4)),
    ("layer_norm_empty_shape", lambda L, x, w: _F(L).layer_norm(x, x.shape[-1:]), (3, 0)),
    ("batch_norm_train", lambda L, x, w: _F(L).batch_norm(x, None, None, w, w, training=True),
     (0, 3, 5)),
    ("batch_norm_no_spatial", lambda L, x, w: _F(L).batch_norm(x, None, None, training=True),
     (2, 3, 0)),
    ("batch_norm_eval", lambda L, x, w: _F(L).batch_norm(
        x, L.zeros(3, dtype=x.dtype), L.ones(3, dtype=x.dtype), w, w, training=False), (0, 3)),
    ("group_norm", lambda L, x, w: _F(L).group_norm(x, 3, w, w), (0, 3, 5)),
    ("instance_norm", lambda L, x, w: _F(L).instance_norm(x), (0, 3, 5)),
    ("max_pool1d", lambda L, x, w: _F(L).max_pool1d(x, 2), (0, 3, 6)),
    ("max_pool2d", lambda L, x, w: _F(L).max_pool2d(x, 2), (0, 3, 4, 4)),
]


def _empty_batch(L, f, shape, dtype):
    x = L.zeros(shape, dtype=dtype, requires_grad=True)
    w = L.ones(4 if shape[-1] == 4 else 3, dtype=dtype, requires_grad=True)
    y = f(L, x, w)
    y.sum().backward()
    return tuple(y.shape), str(y.dtype).split(".")[-1], tuple(x.grad.shape), \
        None if w.grad is None else w.grad.tolist()


@pytest.mark.parametrize("name,f,shape", _EMPTY_BATCH)
def test_norms_and_pooling_of_an_empty_batch(name, f, shape):
    ys, dt, gs, wg = _empty_batch(tg, f, shape, tg.float32)
    assert gs == shape and dt == "float32" and 0 in ys
    assert wg is None or not any(wg)


@pytest.mark.parametrize("name,f,shape", _EMPTY_BATCH)
def test_norms_and_pooling_of_an_empty_batch_match_torch(name, f, shape):
    torch = pytest.importorskip("torch")
    assert _empty_batch(tg, f, shape, tg.float64) == _empty_batch(torch, f, shape, torch.float64)


def test_batch_norm_module_on_an_empty_batch_keeps_its_running_statistics():
    m = tg.nn.BatchNorm1d(3)
    y = m(tg.zeros(0, 3))
    assert y.shape == (0, 3) and m.num_batches_tracked.item() == 1
    np.testing.assert_array_equal(m.running_mean.numpy(), 0.0)
    np.testing.assert_array_equal(m.running_var.numpy(), 1.0)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        m(tg.zeros(1, 3))


_CONV_REFUSALS = [
    ("no_output_channel", lambda L: _F(L).conv1d(L.zeros(2, 2, 5), L.zeros(0, 2, 2)),
     "Given groups=1, expected weight to be at least 1 at dimension 0, but got weight of size "
     "[0, 2, 2] instead"),
    ("no_output_channel_groups", lambda L: _F(L).conv2d(L.zeros(2, 4, 3, 5), L.zeros(0, 2, 1, 1),
                                                          groups=2),
     "Given groups=2, expected weight to be at least 2 at dimension 0, but got weight of size "
     "[0, 2, 1, 1] instead"),
    ("empty_length", lambda L: _F(L).conv1d(L.zeros(2, 2, 0), L.zeros(3, 2, 2), padding=1),
     "Only zero batch or zero channel inputs are supported, but got input shape: [2, 2, 1, 0]"),
    ("empty_height", lambda L: _F(L).conv2d(L.zeros(2, 2, 0, 5), L.zeros(3, 2, 1, 1),
                                              padding=(1, 0)),
     "Only zero batch or zero channel inputs are supported, but got input shape: [2, 2, 0, 5]"),
]


@pytest.mark.parametrize("name,f,message", _CONV_REFUSALS)
def test_convolutions_refuse_no_output_channel_and_empty_spatial_dims(name, f, message):
    with pytest.raises(RuntimeError, match=re.escape(message)):
        f(tg)
    assert F.conv1d(tg.zeros(0, 2, 5), tg.zeros(3, 2, 2)).shape == (0, 3, 4)  # (a batch of 0)


@pytest.mark.parametrize("name,f,message", _CONV_REFUSALS)
def test_convolutions_refuse_no_output_channel_and_empty_spatial_dims_as_torch(name, f, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        f(torch)


def _pool_size_errors(lib):
    F = lib.nn.functional
    calls = [lambda: F.avg_pool1d(lib.ones(3, 4), 5),
             lambda: F.avg_pool2d(lib.ones(3, 4, 4), (2, 5)),
             lambda: F.avg_pool3d(lib.ones(1, 3, 2, 2, 2), 3, padding=1),
             lambda: F.max_pool1d(lib.ones(1, 3, 4), 3, dilation=2),
             lambda: F.max_pool2d(lib.ones(1, 3, 4, 6), 3, dilation=2),
             lambda: F.max_pool3d(lib.ones(1, 3, 4, 4, 4), 5),
             lambda: F.lp_pool2d(lib.ones(1, 3, 4, 4), 2, 5)]
    out = []
    for call in calls:
        with pytest.raises(RuntimeError) as info:
            call()
        out.append(str(info.value))
    return out


def test_pooling_size_errors_are_pytorchs():
    """Windows that do not fit: PyTorch's messages per pool ("Given input size: (3x4x6).
    Calculated output size: (3x0x1). ...", max_pool1d's own, and avg_pool3d's refusal of a
    kernel larger than the input even where the padding would give an output, as PyTorch)."""
    torch = pytest.importorskip("torch")
    ours = _pool_size_errors(tg)
    assert ours == _pool_size_errors(torch)
    assert ours[2] == "input image (T: 2 H: 2 W: 2) smaller than kernel size (kT: 3 kH: 3 kW: 3)"
