"""The rest of the torch surface programs reach for: ``gcd``/``ldexp``/``frexp``/...,
the ``*_scatter`` writes, ``as_strided``, the in-place methods and top-level in-place functions,
``inplace=True`` of the activations and dropouts, LP pooling, local response norm, max
unpooling, the margin losses, ``rrelu``/alpha dropout and the ``torch.<layer>`` spellings.
Finite differences for what is differentiable; PyTorch's values, gradients, reprs and errors
when torch is importable."""

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.op_checks import check_op

RNG = np.random.default_rng(7)
X4 = RNG.standard_normal((2, 3, 6, 6))
X3 = RNG.standard_normal((2, 3, 8))
X5 = RNG.standard_normal((1, 2, 4, 4, 4))


# ---- values without torch ---------------------------------------------------------------------

def test_integer_and_float_helpers():
    a, b = tg.tensor([4, 6, -9]), tg.tensor([6, 4, 6])
    assert tg.gcd(a, b).tolist() == [2, 2, 3] and tg.lcm(a, b).tolist() == [12, 12, 18]
    with pytest.raises(NotImplementedError, match='"gcd_cpu" not implemented for'):
        tg.gcd(tg.tensor([4.0]), tg.tensor([6.0]))
    m, e = tg.frexp(tg.tensor([1.0, -3.0, 0.0, 0.1]))
    np.testing.assert_array_equal(m.numpy() * 2.0 ** e.numpy(), [1.0, -3.0, 0.0, 0.1])
    assert e.dtype == np.int32 and tg.ldexp(m, e).tolist() == [1.0, -3.0, 0.0, 0.1]
    assert tg.nextafter(tg.tensor([1.0]), tg.tensor([2.0])).item() == np.nextafter(1.0, 2.0)
    assert tg.isreal(tg.tensor([1.0, 2.0])).tolist() == [True, True]
    assert tg.rsub(tg.tensor([1.0, 2.0]), 1.5, alpha=2).tolist() == [-0.5, -2.5]
    assert [p.tolist() for p in tg.split_with_sizes(tg.arange(5.0), [2, 3])] == \
        [[0.0, 1.0], [2.0, 3.0, 4.0]]
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum"):
        tg.split_with_sizes(tg.arange(5.0), [2, 2])


def test_scatter_writes_and_strided_views():
    z = tg.zeros(3, 3)
    assert tg.diagonal_scatter(z, tg.ones(2), 1).numpy().tolist() == \
        [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert tg.select_scatter(tg.zeros(2, 3), tg.ones(3), 0, 1).sum().item() == 3
    assert tg.slice_scatter(tg.zeros(4, 2), tg.ones(2, 2), start=1, end=3)[:, 0].tolist() == \
        [0, 1, 1, 0]
    with pytest.raises(RuntimeError, match="expected src to have a size equal to the slice"):
        tg.slice_scatter(tg.zeros(4, 2), tg.ones(3, 2), start=1, end=3)
    out = tg.masked_scatter(tg.zeros(2, 3), tg.tensor([True, False, True]), tg.arange(1.0, 7))
    assert out.tolist() == [[1, 0, 2], [3, 0, 4]]
    with pytest.raises(RuntimeError, match="Number of elements of source < number of ones"):
        tg.masked_scatter(tg.zeros(4), tg.tensor([True, True, True, False]), tg.ones(2))
    x = tg.zeros(2, 2)
    assert x.put_(tg.tensor([3, 0]), tg.tensor([1.0, 2.0])) is x and x.tolist() == [[2, 0], [0, 1]]
    with pytest.raises(IndexError, match="out of range: tried to access index 5"):
        tg.zeros(2).put_(tg.tensor([5]), tg.tensor([1.0]))
    assert tg.arange(6.0).view(2, 3).sum_to_size(1, 3).tolist() == [[3, 5, 7]]
    with pytest.raises(RuntimeError, match=r"size \{\[1, 4\]\} is not expandable"):
        tg.arange(6.0).view(2, 3).sum_to_size(1, 4)
    base = tg.arange(12.0)
    v = base.view(3, 4)[1:, 2:]
    assert v.storage_offset() == 6
    s = tg.as_strided(base, (2, 2), (1, 2), 1)
    assert s.tolist() == [[1, 3], [2, 4]]
    s[0, 0] = 100.0  # a view: the base sees the write
    assert base[1].item() == 100.0
    with pytest.raises(RuntimeError, match="out of bounds for storage of size 96"):
        tg.as_strided(base, (3, 3), (4, 4), 5)
    assert v.as_strided((2, 2), (1, 1)).tolist() == [[6, 7], [7, 8]]  # from v's own offset


def test_more_methods():
    x = tg.tensor([1.0, 2.0, 3.0])
    assert x.clone().eq_(2).tolist() == [0, 1, 0] and x.clone().gt_(1.5).dtype == x.dtype
    assert x.clone().cumsum_(0).tolist() == [1, 3, 6]
    assert x.clone().cumprod_(0).tolist() == [1, 2, 6]
    np.testing.assert_allclose(x.clone().rsqrt_().numpy(), 1 / np.sqrt([1, 2, 3]))
    np.testing.assert_allclose(tg.tensor([0.5]).arccos_().numpy(), np.arccos([0.5]))
    assert x.i0().shape == (3,) and x.mvlgamma(1).shape == (3,)
    r = tg.zeros(1000).random_(2, 5)
    assert set(r.numpy().tolist()) == {2.0, 3.0, 4.0}
    assert (tg.zeros(100).geometric_(0.3) >= 1).all()
    assert (tg.zeros(100).log_normal_() > 0).all()
    assert tg.zeros(3).cauchy_().shape == (3,)
    assert x.get_device() == -1 and x.is_cpu and not x.is_conj() and x.resolve_conj() is x
    assert x.is_same_size(tg.ones(3)) and tg.tensor([2.0]).is_nonzero()
    y = tg.tensor([1.0, 2.0])
    assert tg.exp_(y) is y and y.tolist() == np.exp([1.0, 2.0]).tolist()


@pytest.mark.parametrize("name,fn,shapes", [
    ("ldexp", lambda x: tg.ldexp(x, tg.tensor([1, 2, 3])), [(3,)]),
    ("frexp", lambda x: tg.frexp(x * 5)[0], [(3,)]),
    ("diagonal_scatter", lambda x, s: tg.diagonal_scatter(x, s), [(3, 3), (3,)]),
    ("select_scatter", lambda x, s: tg.select_scatter(x, s, 1, 0), [(3, 3), (3,)]),
    ("slice_scatter", lambda x, s: tg.slice_scatter(x, s, 1, 0, 3, 2), [(3, 3), (3, 2)]),
    ("masked_scatter", lambda x, s: tg.masked_scatter(x, tg.tensor([True, False, True]), s),
     [(2, 3), (5,)]),
    ("put", lambda x, s: x.put(tg.tensor([1, 3, 1]), s, accumulate=True), [(2, 2), (3,)]),
    ("as_strided", lambda x: tg.as_strided(x, (3, 3), (1, 1)), [(5,)]),
    ("sum_to_size", lambda x: x.sum_to_size(1, 3), [(2, 3)]),
    ("rsub", lambda x: tg.rsub(x, 2.0, alpha=3), [(2,)]),
])
def test_more_gradients_finite_differences(name, fn, shapes):
    check_op(fn, [RNG.uniform(0.3, 1.7, s) for s in shapes], order=2)


# ---- inplace=True ------------------------------------------------------------------------------

def test_inplace_option_writes_into_the_input():
    for f, args in ((F.relu, ()), (F.leaky_relu, (0.2,)), (F.elu, ()), (F.hardtanh, ()),
                    (F.selu, ()), (F.silu, ()), (F.mish, ()), (F.threshold, (0.0, 5.0))):
        x = tg.tensor([-1.0, 2.0])
        expected = f(x, *args).tolist()
        assert f(x, *args, inplace=True) is x and x.tolist() == expected
    x = tg.tensor([-1.0, 2.0])
    F.relu_(x)
    assert x.tolist() == [0.0, 2.0]
    x = tg.tensor([-1.0, 2.0])
    F.leaky_relu(x, 0.2, True)  # (positional)
    assert x.tolist() == [-0.2, 2.0]
    leaf = tg.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        tg.nn.ReLU(inplace=True)(leaf)
    w = tg.tensor([-1.0, 2.0], requires_grad=True)
    h = w * 3
    keep = h
    y = tg.nn.ReLU(inplace=True)(h)
    assert y is h and keep.tolist() == [0.0, 6.0]
    y.sum().backward()
    assert w.grad.tolist() == [0.0, 3.0]
    s = tg.sigmoid(w)  # its output is saved for backward: writing it is refused then
    F.relu(s, inplace=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


# ---- pooling, normalisation and losses ------------------------------------------------------------

def _unpool(x, nd=2, **kw):
    v, i = getattr(F, f"max_pool{nd}d")(x, 2, return_indices=True)
    return getattr(F, f"max_unpool{nd}d")(v * 2, i, 2, **kw)


POOL_CASES = [
    ("lp_pool1d", lambda x: F.lp_pool1d(x, 2, 3), X3),
    ("lp_pool2d", lambda x: F.lp_pool2d(x, 2, (2, 3)), X4),
    ("lp_pool3d", lambda x: F.lp_pool3d(x, 2, 2), X5),
    ("LPPool1d", lambda x: tg.nn.LPPool1d(3, 2, stride=1, ceil_mode=True)(x), np.abs(X3) + 0.5),
    ("local_response_norm 3d", lambda x: F.local_response_norm(x, 2), X3),
    ("local_response_norm 4d", lambda x: tg.nn.LocalResponseNorm(3, 1e-2, 0.5, 2.0)(x), X4),
    ("local_response_norm 5d", lambda x: F.local_response_norm(x, 3), X5),
    ("max_unpool1d", lambda x: _unpool(x, 1), X3),
    ("max_unpool2d", lambda x: _unpool(x), X4),
    ("max_unpool2d output_size", lambda x: _unpool(x[:, :, :5, :5], output_size=(5, 5)), X4),
    ("max_unpool3d", lambda x: _unpool(x, 3), X5),
    ("rrelu eval", lambda x: F.rrelu(x), X3),
]


@pytest.mark.parametrize("name,fn,x", POOL_CASES, ids=[c[0] for c in POOL_CASES])
def test_pool_extras_finite_differences(name, fn, x):
    check_op(fn, [x], order=1 if "unpool" in name else 2)


XM = RNG.standard_normal((4, 5))
YM = np.array([1, 0, 4, 2])
LABELS = np.array([[3, 0, -1, 1, 1], [1, 2, 3, -1, 0], [0, 1, 2, 3, 4], [-1, 1, 1, 1, 1]])
LOSS_CASES = [
    ("multi_margin", lambda x: F.multi_margin_loss(x, tg.tensor(YM)), [XM]),
    ("multi_margin p2 weight", lambda x: F.multi_margin_loss(
        x, tg.tensor(YM), p=2, margin=0.7, weight=tg.tensor([1.0, 2, 3, 4, 5]),
        reduction="none"), [XM]),
    ("multilabel_margin", lambda x: F.multilabel_margin_loss(x, tg.tensor(LABELS)), [XM]),
    ("triplet_margin_with_distance", lambda a, p, n: F.triplet_margin_with_distance_loss(
        a, p, n, swap=True), list(RNG.standard_normal((3, 4, 5)))),
]


@pytest.mark.parametrize("name,fn,xs", LOSS_CASES, ids=[c[0] for c in LOSS_CASES])
def test_margin_losses_finite_differences(name, fn, xs):
    check_op(fn, xs, order=1)


def test_pool_extras_checks():
    with pytest.raises(ValueError, match=r'invalid output_size "\(9, 9\)" \(dim 0 must be '
                                         r"between 4 and 8\)"):
        _unpool(tg.tensor(X4), output_size=(9, 9))
    with pytest.raises(ValueError, match="Expected 3D or higher dimensionality"):
        F.local_response_norm(tg.zeros(3, 4), 2)
    with pytest.raises(ValueError, match="only p == 1 and p == 2 supported"):
        F.multi_margin_loss(tg.tensor(XM), tg.tensor(YM), p=3)
    x = tg.tensor(RNG.standard_normal(200000))
    y = F.alpha_dropout(x, 0.2, True)  # keeps zero mean and unit variance
    assert abs(y.mean().item()) < 0.02 and abs(y.std().item() - 1) < 0.02
    r = F.rrelu(-tg.ones(10000), training=True)
    assert -1 / 3 <= r.min().item() and r.max().item() <= -1 / 8
    v, i = F.adaptive_max_pool2d(tg.tensor(X4), (4, 3), return_indices=True)
    flat = X4.reshape(2, 3, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, i.numpy().reshape(2, 3, -1), 2),
                                  v.numpy().reshape(2, 3, -1))


# ---- against PyTorch ---------------------------------------------------------------------------

def _compare(torch, fn, arrays, grad=True):
    outs = []
    for T in (torch, tg):
        ts = [T.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        y = fn(T, *ts)
        y = y[0] if isinstance(y, (tuple, list)) else y
        res = [np.asarray(y.detach())]
        if grad:
            (y * T.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))).sum() \
                .backward()
            res += [np.asarray(t.grad) for t in ts if t.requires_grad]
        outs.append(res)
    for a, b in zip(*outs):
        assert a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12)


TORCH_CASES = [
    (lambda T, x: T.nn.functional.lp_pool2d(x, 2, (2, 3)), [X4]),
    (lambda T, x: T.nn.LPPool1d(1.5, 2, stride=1)(x), [np.abs(X3) + 0.1]),
    (lambda T, x: T.nn.functional.lp_pool3d(x, 2, 2), [X5]),
    (lambda T, x: T.nn.LocalResponseNorm(3, 1e-2, 0.5, 2.0)(x), [X4]),
    (lambda T, x: T.nn.functional.local_response_norm(x, 3), [X5]),
    (lambda T, x: T.nn.functional.local_response_norm(x, 2), [X3]),
    (lambda T, x: T.nn.MaxUnpool2d(2)(*T.nn.MaxPool2d(2, return_indices=True)(x)), [X4]),
    (lambda T, x: T.nn.functional.max_unpool2d(*T.nn.functional.max_pool2d(
        x[:, :, :5, :5], 2, return_indices=True), 2, output_size=(2, 3, 5, 5)), [X4]),
    (lambda T, x: T.nn.functional.max_unpool1d(*T.nn.functional.max_pool1d(
        x, 2, return_indices=True), 2), [X3]),
    (lambda T, x: T.nn.functional.max_unpool3d(*T.nn.functional.max_pool3d(
        x, 2, return_indices=True), 2), [X5]),
    (lambda T, x: T.nn.functional.adaptive_max_pool2d(x, (4, 3), return_indices=True)[1]
     .double(), [X4]),
    (lambda T, x: T.nn.AdaptiveMaxPool1d(5, return_indices=True)(x)[1].double(), [X3]),
    (lambda T, x: T.nn.functional.adaptive_max_pool3d_with_indices(x, 3)[1].double(), [X5]),
    (lambda T, x: T.nn.functional.max_pool2d_with_indices(x, 2)[1].double(), [X4]),
    (lambda T, x: T.nn.functional.multi_margin_loss(x, T.tensor(YM)), [XM]),
    (lambda T, x: T.nn.MultiMarginLoss(p=2, margin=0.7, weight=T.tensor(np.arange(1.0, 6)),
                                       reduction="none")(x, T.tensor(YM)), [XM]),
    (lambda T, x: T.nn.functional.multi_margin_loss(x[0], T.tensor(YM[:1])), [XM]),
    (lambda T, x: T.nn.functional.multilabel_margin_loss(x, T.tensor(LABELS)), [XM]),
    (lambda T, x: T.nn.MultiLabelMarginLoss(reduction="none")(x, T.tensor(LABELS)), [XM]),
    (lambda T, x: T.nn.functional.multilabel_margin_loss(x[0], T.tensor(LABELS[0])), [XM]),
    (lambda T, a, p, n: T.nn.TripletMarginWithDistanceLoss(
        distance_function=lambda u, v: 1 - T.nn.functional.cosine_similarity(u, v),
        margin=0.5, swap=True)(a, p, n), list(RNG.standard_normal((3, 4, 5)))),
    (lambda T, x: T.nn.RReLU(0.1, 0.3).eval()(x), [X3]),
    (lambda T, x: T.nn.functional.alpha_dropout(x, 0.3), [X3]),
    (lambda T, x: T.frexp(x * 5)[0], [X3]),
    (lambda T, x: T.ldexp(x, T.tensor([1, 2, 3, 0, 1, 2, 3, 0])), [X3]),
    (lambda T, x, s: T.diagonal_scatter(x, s, -1), [XM[:3, :3], XM[0, :2]]),
    (lambda T, x, s: T.select_scatter(x, s, 1, -1), [XM, XM[:, 0]]),
    (lambda T, x, s: T.slice_scatter(x, s, 1, 1, None, 2), [XM, XM[:, :2]]),
    (lambda T, x, s: T.masked_scatter(x, T.tensor(XM > 0), s), [XM, X3.reshape(-1)]),
    (lambda T, x, s: x.put(T.tensor([1, 7, 1]), s, accumulate=True), [XM, XM[0, :3]]),
    (lambda T, x: T.as_strided(x, (3, 3), (2, 1), 1), [XM.reshape(-1)]),
    (lambda T, x: T.as_strided(x[2:], (3, 3), (1, 2)), [XM.reshape(-1)]),
    (lambda T, x: x.sum_to_size(4, 1), [XM]),
    (lambda T, x: T.nuclear_norm(x), [XM]),
    (lambda T, x: T.frobenius_norm(x, (0, 1)), [XM]),
    (lambda T, x, w: T.conv2d(x, w, None, 1, 1), [X4, RNG.standard_normal((4, 3, 3, 3))]),
    (lambda T, x: T.adaptive_max_pool1d(x, 3)[1].double(), [X3]),
    (lambda T, x: T.layer_norm(x, (6,)), [X4]),
    (lambda T, x: T.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False), [X4]),
    (lambda T, x: T.instance_norm(x, None, None, None, None, True, 0.1, 1e-5, False), [X4]),
    (lambda T, w: T.embedding(w, T.tensor([0, 4, 2])), [RNG.standard_normal((5, 3))]),
    (lambda T, x: T.selu(x) + T.celu(x, 0.5) + T.threshold(x, 0.1, 2.0) + T.rrelu(x), [X3]),
    (lambda T, x, y: T.kl_div(x, y), [-np.abs(X3), np.abs(X3)]),
    (lambda T, x, y: T.binary_cross_entropy_with_logits(x, y, None, None, 1), [X3, 1.0 * (X3 > 0)]),
    (lambda T, a, b: T.margin_ranking_loss(a, b, T.tensor(np.sign(XM[0]))), [XM[1], XM[2]]),
    (lambda T, a: T.hinge_embedding_loss(a, T.tensor(np.sign(XM[0])), 1.0, 2), [XM[1]]),
    (lambda T, a, b, c: T.triplet_margin_loss(a, b, c), list(RNG.standard_normal((3, 4, 5)))),
    (lambda T, x: T.constant_pad_nd(x, (1, 2), 3.0), [X3]),
]


@pytest.mark.parametrize("k", range(len(TORCH_CASES)))
def test_matches_pytorch(k):
    torch = pytest.importorskip("torch")
    fn, arrays = TORCH_CASES[k]
    _compare(torch, fn, arrays, grad=".double()" not in _source(fn))


def _source(fn):
    import inspect

    try:
        return inspect.getsource(fn)
    except OSError:
        return ""


def test_inplace_modules_match_pytorch():
    torch = pytest.importorskip("torch")
    names = ["ReLU(inplace=True)", "ReLU6(inplace=True)", "LeakyReLU(0.2, inplace=True)",
             "ELU(inplace=True)", "SELU(inplace=True)", "CELU(inplace=True)", "SiLU(inplace=True)",
             "Hardswish(inplace=True)", "Hardsigmoid(inplace=True)", "Mish(inplace=True)",
             "Hardtanh(inplace=True)", "Threshold(0.1, 20., inplace=True)",
             "Dropout(0.0, inplace=True)", "Dropout2d(0.0, inplace=True)",
             "RReLU(0.1, 0.2, True)", "AlphaDropout(0.2)", "FeatureAlphaDropout(0.2)",
             "LPPool2d(2, 3)", "LPPool1d(2, 3, stride=2)", "LocalResponseNorm(3)",
             "MultiMarginLoss()", "MultiLabelMarginLoss()", "TripletMarginWithDistanceLoss()",
             "MaxUnpool2d(2)", "MaxUnpool1d(3, stride=2, padding=1)", "MaxUnpool3d(2)",
             "NLLLoss2d()"]
    for name in names:
        mods = [eval(f"T.nn.{name}", {"T": T}) for T in (torch, tg)]
        assert repr(mods[1]) == repr(mods[0])
        if "inplace" not in name or "RReLU" in name:
            continue
        vals = []
        for T, mod in zip((torch, tg), mods):
            w = T.tensor(np.linspace(-2, 2, 8).reshape(1, 2, 2, 2), requires_grad=True)
            h = w * 1.5
            keep = h
            (mod(h) * T.tensor(np.arange(8.0).reshape(1, 2, 2, 2))).sum().backward()
            vals.append((np.asarray(keep.detach()), np.asarray(w.grad)))
        np.testing.assert_allclose(vals[1][0], vals[0][0], rtol=1e-12)
        np.testing.assert_allclose(vals[1][1], vals[0][1], rtol=1e-12, atol=1e-15)


def test_more_names_match_pytorch():
    torch = pytest.importorskip("torch")
    cases = [
        lambda T: T.gcd(T.tensor([4, 6, -9]), T.tensor([6, 4, 6])),
        lambda T: T.lcm(T.tensor([4, 6]), T.tensor([6, 4])),
        lambda T: T.nextafter(T.tensor([1.0], dtype=T.float64), T.tensor([2.0],
                                                                         dtype=T.float64)),
        lambda T: T.histogram(T.tensor([1.0, 2, 1], dtype=T.float64), 4)[0],
        lambda T: T.histogram(T.tensor([1.0, 2, 1], dtype=T.float64),
                              bins=T.tensor([0.0, 1.5, 3], dtype=T.float64),
                              weight=T.tensor([1.0, 2, 3], dtype=T.float64), density=True)[0],
        lambda T: T.ger(T.tensor([1.0, 2]), T.tensor([3.0, 4])),
        lambda T: T.tensor([1.0, 2, 3]).eq_(2),
        lambda T: T.tensor([1, 2, 3]).lt_(T.tensor([2, 2, 2])),
        lambda T: T.tensor([1.0, 0]).logical_and_(T.tensor([1.0, 1])),
        lambda T: T.tensor([1.0, 2]).mvlgamma(1),
        lambda T: T.tensor([1.0, 2]).polygamma_(1),
        lambda T: T.arange(12.0).view(3, 4)[1:, 2:].storage_offset(),
    ]
    for f in cases:
        a, b = f(torch), f(tg)
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-6)
    errors = [
        lambda T: T.frexp(T.tensor([1, 2])),
        lambda T: T.masked_scatter(T.zeros(4), T.tensor([True, True, True, False]), T.ones(2)),
        lambda T: T.zeros(2).put_(T.tensor([5]), T.tensor([1.0])),
        lambda T: T.arange(6.0).view(2, 3).sum_to_size(1, 4),
        lambda T: T.select_scatter(T.zeros(2, 2), T.ones(3), 0, 0),
        lambda T: T.nn.functional.multi_margin_loss(T.zeros(2, 3), T.tensor([0, 1]), p=3),
        lambda T: T.nn.functional.local_response_norm(T.zeros(3, 4), 2),
        lambda T: T.nn.TripletMarginWithDistanceLoss(margin=0),
    ]
    for f in errors:
        with pytest.raises(Exception) as ref:
            f(torch)
        with pytest.raises(type(ref.value)) as got:
            f(tg)
        assert str(got.value) == str(ref.value)
