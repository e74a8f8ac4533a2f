"""unfold/fold, pixel and channel shuffles, channel dropout, padding layers, Bilinear and
Softmax2d: finite differences (to second order where cheap), PyTorch's values, gradients,
reprs and errors."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.op_checks import check_op

UNFOLD = [dict(kernel_size=2), dict(kernel_size=(2, 3), stride=2, padding=1),
          dict(kernel_size=2, dilation=2, padding=(1, 0)), dict(kernel_size=3, stride=(1, 2))]

# (name, our function, input shape, keywords)
CASES = [("unfold", None, (2, 3, 5, 6), kw) for kw in UNFOLD] + [
    ("pixel_shuffle", None, (2, 8, 3, 2), dict(upscale_factor=2)),
    ("pixel_unshuffle", None, (1, 2, 4, 6), dict(downscale_factor=2)),
    ("channel_shuffle", None, (2, 6, 3), dict(groups=3)),
]


def _call(lib, name, x, kw):
    if name == "channel_shuffle" and lib.__name__.startswith("torch"):
        return lib.channel_shuffle(x, kw["groups"])  # (torch has it as a torch function)
    return getattr(lib, name)(x, **kw)


@pytest.mark.parametrize("name,_,shape,kw", CASES)
def test_rearrangements_finite_differences(name, _, shape, kw):
    x = np.random.default_rng(0).standard_normal(shape)
    check_op(lambda x: _call(F, name, x, kw), [x], order=2)


@pytest.mark.parametrize("kw", UNFOLD)
def test_fold_is_unfolds_adjoint(kw):
    """<unfold(x), y> = <x, fold(y)>, and fold's own gradients by finite differences."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 5, 6))
    cols = F.unfold(tg.tensor(x), **kw)
    y = rng.standard_normal(cols.shape)
    back = F.fold(tg.tensor(y), (5, 6), **kw)
    np.testing.assert_allclose((cols.numpy() * y).sum(), (x * back.numpy()).sum(), rtol=1e-12)
    check_op(lambda y: F.fold(y, (5, 6), **kw), [y], order=1)


@pytest.mark.parametrize("name,_,shape,kw", CASES + [("fold", None, None, kw) for kw in UNFOLD])
def test_rearrangements_match_pytorch(name, _, shape, kw):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    if name == "fold":
        shape = tuple(F.unfold(tg.zeros((2, 3, 5, 6)), **kw).shape)
        kw = dict(kw, output_size=(5, 6))
    x = rng.standard_normal(shape)
    xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
    a, b = _call(torch.nn.functional, name, xt, kw), _call(F, name, xg, kw)
    np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-13)
    w = rng.standard_normal(b.shape)
    (a * torch.tensor(w)).sum().backward()
    (b * tg.tensor(w)).sum().backward()
    np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-13)


def test_padding_layers_match_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    for nd in (1, 2, 3):
        x = rng.standard_normal((2, 2) + (4, 5, 3)[:nd])
        pads = (1, 2, 0, 1, 2, 1)[: 2 * nd]
        for name in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"):
            args = (pads, 1.5) if name == "ConstantPad" else (pads,)
            ours = getattr(tg.nn, f"{name}{nd}d")(*args)
            theirs = getattr(torch.nn, f"{name}{nd}d")(*args)
            assert repr(ours) == repr(theirs)
            xt, xg = torch.tensor(x, requires_grad=True), tg.tensor(x, requires_grad=True)
            a, b = theirs(xt), ours(xg)
            np.testing.assert_array_equal(b.detach().numpy(), a.detach().numpy())
            w = rng.standard_normal(b.shape)
            (a * torch.tensor(w)).sum().backward()
            (b * tg.tensor(w)).sum().backward()
            np.testing.assert_allclose(xg.grad.numpy(), xt.grad.numpy(), rtol=1e-13)
    for ours, theirs in ((tg.nn.PixelShuffle(2), torch.nn.PixelShuffle(2)),
                         (tg.nn.Unfold(2, padding=1), torch.nn.Unfold(2, padding=1)),
                         (tg.nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2)),
                         (tg.nn.Dropout2d(0.3), torch.nn.Dropout2d(0.3)),
                         (tg.nn.Bilinear(3, 4, 5), torch.nn.Bilinear(3, 4, 5)),
                         (tg.nn.ChannelShuffle(2), torch.nn.ChannelShuffle(2))):
        assert repr(ours) == repr(theirs)


def test_bilinear_and_softmax2d():
    rng = np.random.default_rng(4)
    x1, x2 = rng.standard_normal((3, 2)), rng.standard_normal((3, 4))
    w, b = rng.standard_normal((5, 2, 4)), rng.standard_normal(5)
    check_op(F.bilinear, [x1, x2, w, b], order=2,
             ref=lambda x1, x2, w, b: np.einsum("ni,oij,nj->no", x1, w, x2) + b)
    layer = tg.nn.Bilinear(2, 4, 5)
    assert layer.weight.shape == (5, 2, 4) and np.abs(layer.weight.detach().numpy()).max() <= 2 ** -0.5
    x = rng.standard_normal((2, 3, 2, 2))
    s = tg.nn.Softmax2d()(tg.tensor(x)).numpy()
    np.testing.assert_allclose(s, np.exp(x) / np.exp(x).sum(1, keepdims=True), rtol=1e-13)
    with pytest.raises(RuntimeError, match="input batch dimensions do not match"):
        F.bilinear(tg.zeros((3, 2)), tg.zeros((2, 4)), tg.tensor(w))


def test_channel_dropout_zeros_whole_channels():
    tg.manual_seed(5)
    x = tg.ones((64, 8, 3, 3), requires_grad=True)
    y = F.dropout2d(x, 0.25)
    per_channel = y.detach().numpy().reshape(64, 8, 9)
    assert ((per_channel == 0).all(-1) | (per_channel == 1 / 0.75).all(-1)).all()
    dropped = (per_channel == 0).all(-1).mean()
    assert 0.18 < dropped < 0.32
    y.sum().backward()  # the gradient is the same mask
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    layer = tg.nn.Dropout1d(0.5).eval()
    assert (layer(x[:, :, 0]).detach().numpy() == 1).all()
    for p in (0.0, 1.0):
        np.testing.assert_array_equal(F.dropout3d(tg.ones((2, 2, 1, 1, 1)), p).numpy(), 1 - p)
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a "
                                           "4D input"):
        F.dropout1d(x, 0.5)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(tg.ones((2, 3, 4)), 0.5)


def test_rearrangement_errors():
    with pytest.raises(RuntimeError, match="is not divisible by 4"):
        F.pixel_shuffle(tg.zeros((1, 6, 2, 2)), 2)
    with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups"):
        F.channel_shuffle(tg.zeros((1, 5, 2)), 2)
    with pytest.raises(RuntimeError, match="calculated shape of the array of sliding blocks"):
        F.unfold(tg.zeros((1, 1, 2, 2)), 3)
    with pytest.raises(RuntimeError, match="expected size of input's dimension 2 to match the "
                                           "calculated number of sliding blocks"):
        F.fold(tg.zeros((1, 4, 5)), (3, 3), 2)


def test_channel_dropout_other_ranks_and_circular_crops():
    """PyTorch's readings: dropout2d of any rank drops whole (N, C) channels, dropout3d of a
    rank other than 5 is one sample; circular padding crops first, then wraps what is left."""
    tg.manual_seed(6)
    with pytest.warns(UserWarning, match="Received a 5-D input to dropout2d"):
        y = F.dropout2d(tg.ones((8, 6, 2, 2, 2)), 0.5).numpy()
    assert ((y == 0).all((2, 3, 4)) | (y == 2).all((2, 3, 4))).all()
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        y = F.dropout3d(tg.ones((6, 3, 2)), 0.5).numpy()
    assert ((y == 0).all((1, 2)) | (y == 2).all((1, 2))).all()
    x = tg.arange(5.0).reshape(1, 1, 5)
    assert tg.nn.CircularPad1d((2, -1))(x).tolist() == [[[2.0, 3.0, 0.0, 1.0, 2.0, 3.0]]]
    assert tg.nn.CircularPad1d((-1, 2))(x).tolist() == [[[1.0, 2.0, 3.0, 4.0, 1.0, 2.0]]]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag(mode):
    rng = np.random.default_rng(8)
    W = rng.standard_normal((10, 3))
    flat, offsets = rng.integers(0, 10, 12), np.array([0, 3, 3, 8])  # (an empty bag)
    psw = rng.standard_normal(12) if mode == "sum" else None
    check_op(lambda w: F.embedding_bag(tg.tensor(flat), w, tg.tensor(offsets), mode=mode,
                                       per_sample_weights=None if psw is None else
                                       tg.tensor(psw)), [W], order=2)
    out = F.embedding_bag(tg.tensor(flat), tg.tensor(W), tg.tensor(offsets), mode=mode)
    assert out.shape == (4, 3) and (out.numpy()[1] == 0).all()
    layer = tg.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=2)
    assert layer(tg.tensor(rng.integers(0, 10, (4, 5)))).shape == (4, 3)
    torch = pytest.importorskip("torch")
    for inp, off, kw in ((rng.integers(0, 10, (4, 5)), None, {}),
                         (flat, offsets, {"padding_idx": int(flat[0])}),
                         (flat, np.r_[offsets, 12], {"include_last_offset": True})):
        wt, wg = torch.tensor(W, requires_grad=True), tg.tensor(W, requires_grad=True)
        a = torch.nn.functional.embedding_bag(torch.tensor(inp), wt, None if off is None else
                                              torch.tensor(off), mode=mode, **kw)
        b = F.embedding_bag(tg.tensor(inp), wg, None if off is None else tg.tensor(off),
                            mode=mode, **kw)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-13)
        a.sum().backward()
        b.sum().backward()
        np.testing.assert_allclose(wg.grad.numpy(), wt.grad.numpy(), rtol=1e-13)
    assert repr(layer) == repr(torch.nn.EmbeddingBag(10, 3, mode=mode, padding_idx=2))


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_last_offset_short_of_the_indices(mode):
    """With include_last_offset, PyTorch's last bag runs to the end of the indices even when
    the last offset stops short of it: the values, the gradients (and per-sample weights')."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    W, flat = rng.standard_normal((10, 3)), rng.integers(0, 10, 12)
    for offsets, pad in (([0, 3, 3, 8], None), ([0, 2, 5], int(flat[7])), ([0, 4, 4], None)):
        psw = rng.standard_normal(12) if mode == "sum" else None
        out = []
        for lib in (torch, tg):
            w = lib.tensor(W, requires_grad=True)
            p = None if psw is None else lib.tensor(psw, requires_grad=True)
            fn = torch.nn.functional if lib is torch else F
            y = fn.embedding_bag(lib.tensor(flat), w, lib.tensor(offsets), mode=mode,
                                 include_last_offset=True, padding_idx=pad,
                                 per_sample_weights=p)
            (y ** 2).sum().backward()
            out.append([y.detach().numpy(), w.grad.numpy()] + ([] if p is None else
                                                                [p.grad.numpy()]))
        assert out[1][0].shape == (len(offsets) - 1, 3)
        for b, a in zip(out[1], out[0]):
            np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15)
    for lib in (torch, tg):
        fn = torch.nn.functional if lib is torch else F
        with pytest.raises(RuntimeError, match=r"offsets\[-1\] can not be greater than input's "
                           r"length 12 but got offsets\[-1\] of 13"):
            fn.embedding_bag(lib.tensor(flat), lib.tensor(W), lib.tensor([0, 13]),
                             include_last_offset=True)


def _bilinear_errors(lib):
    F, ones = lib.nn.functional, lib.ones
    calls = [lambda: F.bilinear(ones(2, 3), ones(2, 2, 2), ones(4, 3, 2)),
             lambda: F.bilinear(ones(2, 5, 3), ones(2, 4, 2), ones(4, 3, 2)),
             lambda: F.bilinear(ones(2, 4), ones(2, 2), ones(4, 3, 2)),
             lambda: lib.nn.Bilinear(3, 2, 4)(ones(2, 3), ones(2, 3)),
             lambda: F.bilinear(ones(2, 3), ones(2, 2), ones(4, 3, 2), ones(5))]
    out = []
    for call in calls:
        with pytest.raises(RuntimeError) as info:
            call()
        out.append(str(info.value))
    return out


def test_bilinear_size_errors_are_pytorchs():
    """Inputs or bias that do not fit the weight: PyTorch's bilinear() messages (they were
    einsum's or broadcasting's)."""
    torch = pytest.importorskip("torch")
    ours = _bilinear_errors(tg)
    assert ours == _bilinear_errors(torch)
    assert ours[3] == "bilinear(): input2 size does not match weight size: got 3 but expected 2"
