"""NumPy ufuncs and functions on tensors run tapegrad ops (tapegrad/numpy_dispatch.py): values
equal NumPy's, gradients pass finite differences and match torch, and nothing drops a gradient
silently."""

import numpy as np
import pytest
from op_checks import check_op

import tapegrad as tg


def _x(*shape, lo=-1.5, hi=1.5, seed=0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape)


def _rg(a):
    return tg.tensor(a, requires_grad=True)


# ---- ufuncs ---------------------------------------------------------------------------------

# (ufunc, domain low, domain high); the NumPy ufunc itself is the reference
UNARY_UFUNCS = [
    (np.negative, -2, 2), (np.positive, -2, 2), (np.exp, -2, 2), (np.log, 0.2, 3),
    (np.log1p, -0.5, 2), (np.expm1, -2, 2), (np.sin, -2, 2), (np.cos, -2, 2), (np.tan, -1, 1),
    (np.tanh, -2, 2), (np.sqrt, 0.2, 3), (np.absolute, 0.1, 2), (np.fabs, -2, -0.1),
    (np.square, -2, 2), (np.reciprocal, 0.3, 2), (np.exp2, -2, 2), (np.log2, 0.2, 3),
    (np.log10, 0.2, 3), (np.sinh, -2, 2), (np.cosh, -2, 2), (np.sign, 0.1, 2),
]


@pytest.mark.parametrize("uf,lo,hi", UNARY_UFUNCS, ids=[u[0].__name__ for u in UNARY_UFUNCS])
def test_unary_ufunc(uf, lo, hi):
    x = _x(2, 3, lo=lo, hi=hi)
    out = uf(_rg(x))
    assert isinstance(out, tg.Tensor) and out.requires_grad
    check_op(lambda t: uf(t), [x], ref=uf)


BINARY_UFUNCS = [np.add, np.subtract, np.multiply, np.divide, np.true_divide, np.power,
                 np.maximum, np.minimum]


@pytest.mark.parametrize("uf", BINARY_UFUNCS, ids=lambda u: u.__name__)
def test_binary_ufunc(uf):
    x, y = _x(2, 3, lo=0.3, hi=2.0), _x(3, lo=0.3, hi=2.0, seed=1)
    check_op(lambda a, b: uf(a, b), [x, y], ref=uf)
    # an ndarray or a Python number as the other operand, on either side
    check_op(lambda a: uf(a, y), [x], ref=lambda a: uf(a, y))
    check_op(lambda b: uf(x, b), [y], ref=lambda b: uf(x, b))
    check_op(lambda a: uf(1.5, a), [x], ref=lambda a: uf(1.5, a))


def test_ufuncs_match_torch(torch):
    x = _x(2, 3, lo=0.3, hi=2.0)
    w = _x(3, 2, seed=3)
    pairs = [
        (lambda t: np.sin(t) * np.exp(-t ** 2), lambda t: torch.sin(t) * torch.exp(-t ** 2)),
        (lambda t: np.log(t) / np.sqrt(t), lambda t: torch.log(t) / torch.sqrt(t)),
        (lambda t: np.maximum(t, 1.0) - np.minimum(t, 1.0),
         lambda t: torch.maximum(t, t.new_tensor(1.0)) - torch.minimum(t, t.new_tensor(1.0))),
        (lambda t: np.matmul(t, w), lambda t: t @ torch.tensor(w)),
        (lambda t: np.power(t, 3) + np.tanh(t), lambda t: t ** 3 + torch.tanh(t)),
    ]
    for f, tf in pairs:
        t = _rg(x)
        tt = torch.tensor(x, requires_grad=True)
        out, tout = f(t), tf(tt)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
        out.sum().backward()
        tout.sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12)


def test_ndarray_operators_on_either_side():
    a = _x(2, 3, seed=4)
    x = _x(2, 3, seed=5)
    for f in (lambda t: a * t, lambda t: t * a, lambda t: a + t, lambda t: a - t,
              lambda t: a / (t + 3.0), lambda t: t ** 2 @ a.T, lambda t: a @ t.T,
              lambda t: np.float64(2.5) * t, lambda t: t * np.float64(2.5),
              lambda t: np.exp(t) + 1):
        t = _rg(x)
        out = f(t)
        assert type(out) is tg.Tensor and out.requires_grad
        np.testing.assert_allclose(out.detach().numpy(), f(x), rtol=1e-14)
        assert tg.autograd.gradcheck(f, (t,))


def test_comparison_ufuncs_return_bool_tensors_without_grad():
    t = _rg(_x(2, 3))
    for uf in (np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal):
        out = uf(t, 0.1)
        assert isinstance(out, tg.Tensor) and out.dtype == np.bool_ and not out.requires_grad
        np.testing.assert_array_equal(out.numpy(), uf(t.detach().numpy(), 0.1))
    for uf in (np.isnan, np.isfinite, np.isinf, np.signbit):
        out = uf(t)
        assert out.dtype == np.bool_ and not out.requires_grad
    assert (np.logical_and(t > 0, t < 1)).dtype == np.bool_


def test_piecewise_constant_ufuncs_have_zero_gradient(torch):
    x = _x(5, seed=6) * 3
    for uf, tf in ((np.floor, torch.floor), (np.ceil, torch.ceil), (np.trunc, torch.trunc),
                   (np.rint, torch.round), (np.sign, torch.sign)):
        t = _rg(x)
        out = uf(t)
        np.testing.assert_array_equal(out.detach().numpy(), uf(x))
        assert out.requires_grad == tf(torch.tensor(x, requires_grad=True)).requires_grad
        (out * t).sum().backward()
        np.testing.assert_array_equal(t.grad.numpy(), uf(x))


def test_ufunc_reduce():
    x = _x(2, 3)
    check_op(lambda t: np.add.reduce(t), [x], ref=np.add.reduce)
    check_op(lambda t: np.add.reduce(t, axis=1, keepdims=True), [x],
             ref=lambda a: np.add.reduce(a, axis=1, keepdims=True))
    check_op(lambda t: np.maximum.reduce(t, axis=1), [x], ref=lambda a: np.maximum.reduce(a, 1),
             order=1)
    check_op(lambda t: np.multiply.reduce(t, axis=0), [x], ref=lambda a: np.multiply.reduce(a))


# ---- functions (__array_function__) --------------------------------------------------------

def _ops_present(*names):
    return all(getattr(tg.ops, n, None) is not None for n in names)


# (id, function of one array, needed tapegrad ops, check order)
FUNCTIONS = [
    ("sum", lambda a: np.sum(a), ("sum",), 2),
    ("sum_axis", lambda a: np.sum(a, axis=0), ("sum",), 2),
    ("sum_axes_keepdims", lambda a: np.sum(a, axis=(0, 1), keepdims=True), ("sum",), 2),
    ("sum_neg_axis", lambda a: np.sum(a, axis=-1), ("sum",), 2),
    ("mean", lambda a: np.mean(a, axis=1), ("mean",), 2),
    ("mean_keepdims", lambda a: np.mean(a, axis=0, keepdims=True), ("mean",), 2),
    ("prod", lambda a: np.prod(a), ("prod",), 2),
    ("prod_axis", lambda a: np.prod(a, axis=1), ("prod",), 2),
    ("prod_axes_keepdims", lambda a: np.prod(a, axis=(0, 1), keepdims=True), ("prod",), 2),
    ("max", lambda a: np.max(a), ("amax",), 1),
    ("max_axis", lambda a: np.max(a, axis=1), ("amax",), 1),
    ("amax_keepdims", lambda a: np.amax(a, axis=0, keepdims=True), ("amax",), 1),
    ("min", lambda a: np.min(a, axis=0), ("amin",), 1),
    ("amin", lambda a: np.amin(a), ("amin",), 1),
    ("var", lambda a: np.var(a), ("var",), 2),
    ("var_axis_ddof", lambda a: np.var(a, axis=1, ddof=1), ("var",), 2),
    ("std", lambda a: np.std(a, axis=0), ("std",), 2),
    ("std_keepdims", lambda a: np.std(a, axis=1, keepdims=True), ("std",), 2),
    ("reshape", lambda a: np.reshape(a, (3, 2)), ("reshape",), 2),
    ("reshape_flat", lambda a: np.reshape(a, -1), ("reshape",), 2),
    ("ravel", lambda a: np.ravel(a), ("reshape",), 2),
    ("transpose", lambda a: np.transpose(a), ("permute",), 2),
    ("transpose_axes", lambda a: np.transpose(a[None], (2, 0, 1)), ("permute",), 2),
    ("swapaxes", lambda a: np.swapaxes(a, 0, 1), ("transpose",), 2),
    ("moveaxis", lambda a: np.moveaxis(a[None], 0, -1), ("permute",), 2),
    ("squeeze", lambda a: np.squeeze(a[None, :, None]), ("squeeze",), 2),
    ("squeeze_axis", lambda a: np.squeeze(a[None], axis=0), ("squeeze",), 2),
    ("expand_dims", lambda a: np.expand_dims(a, (0, 3)), ("reshape",), 2),
    ("broadcast_to", lambda a: np.broadcast_to(a[0], (4, 3)), ("broadcast_to",), 2),
    ("flip", lambda a: np.flip(a, axis=1), ("flip",), 2),
    ("where", lambda a: np.where(a > 0, a, a * 2), ("where",), 2),
    ("clip", lambda a: np.clip(a, -0.5, 0.6), ("clamp",), 2),
    ("clip_kw", lambda a: np.clip(a, min=-0.5, max=None), ("clamp",), 2),
    ("clip_array_bounds", lambda a: np.clip(a, np.full(3, -0.5), 0.6), ("clamp",), 2),
    ("concatenate", lambda a: np.concatenate([a, a * 2], axis=1), ("cat",), 2),
    ("concatenate_none", lambda a: np.concatenate([a, a[0]], axis=None), ("cat",), 2),
    ("stack", lambda a: np.stack([a, np.sin(a)], axis=1), ("stack",), 2),
    ("dot", lambda a: np.dot(a, a.T), ("matmul",), 2),
    ("dot_vec", lambda a: np.dot(a[0], a[1]), ("matmul",), 2),
    ("dot_scalar", lambda a: np.dot(a, 2.0), ("mul",), 2),
    ("outer", lambda a: np.outer(a[0], a[1]), ("outer",), 2),
    ("einsum", lambda a: np.einsum("ij,kj->ik", a, a), ("einsum",), 2),
    ("einsum_trace", lambda a: np.einsum("ij,ij->", a, a), ("einsum",), 2),
    ("split", lambda a: np.split(a, 3, axis=1)[1], (), 2),
    ("array_split", lambda a: np.array_split(a, [1, 2], axis=1)[2], (), 2),
    ("diff", lambda a: np.diff(a, axis=1), (), 2),
    ("diff2", lambda a: np.diff(a, n=2), (), 2),
    ("cumsum", lambda a: np.cumsum(a, axis=1), ("cumsum",), 2),
    ("cumsum_flat", lambda a: np.cumsum(a), ("cumsum",), 2),
    ("norm", lambda a: np.linalg.norm(a), ("norm",), 2),
    ("norm_axis", lambda a: np.linalg.norm(a, axis=1), ("norm",), 2),
    ("copy", lambda a: np.copy(a) * 2, (), 2),
]


@pytest.mark.parametrize("case", FUNCTIONS, ids=[c[0] for c in FUNCTIONS])
def test_array_function(case):
    _, f, needs, order = case
    x = _x(2, 3, seed=len(case[0]))
    x[np.abs(x) < 0.05] = 0.3  # away from kinks (where, clip, norm)
    if not _ops_present(*needs):
        # the op is not there (yet): a clear error, never a silently dropped gradient
        with pytest.raises(TypeError, match="tapegrad does not implement numpy"):
            f(_rg(x))
        return
    out = f(_rg(x))
    assert isinstance(out, tg.Tensor) and out.requires_grad
    check_op(f, [x], ref=f, order=order)


def test_array_functions_match_torch(torch):
    x = _x(3, 4, seed=11)
    pairs = [
        (lambda a: np.var(a, axis=0, ddof=1), lambda t: t.var(dim=0)),
        (lambda a: np.std(a), lambda t: t.std(correction=0)),
        (lambda a: np.max(a, axis=1), lambda t: t.amax(dim=1)),
        (lambda a: np.prod(a, axis=0), lambda t: t.prod(dim=0)),
        (lambda a: np.concatenate([a, a ** 2]), lambda t: torch.cat([t, t ** 2])),
        (lambda a: np.einsum("ij,kj->ik", a, a), lambda t: torch.einsum("ij,kj->ik", t, t)),
        (lambda a: np.clip(a, -0.5, 0.5), lambda t: t.clamp(-0.5, 0.5)),
    ]
    assert _ops_present("var", "std", "amax", "prod", "cat", "einsum", "clamp")
    for f, tf in pairs:
        t, tt = _rg(x), torch.tensor(x, requires_grad=True)
        out, tout = f(t), tf(tt)
        np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
        w = _x(*out.shape, seed=12)
        (out * tg.tensor(w)).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_max_ties_split_like_torch_amax(torch):
    x = np.array([1.0, 3.0, 3.0])
    t = _rg(x)
    np.max(t).backward()
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.5, 0.5])


def test_values_only_functions_work_on_tensors_that_require_grad():
    a = _x(2, 3)
    t = _rg(a)
    assert np.shape(t) == (2, 3) and np.ndim(t) == 2 and np.size(t) == 6
    for f in (np.argmax, np.argmin, lambda v: np.argmax(v, axis=1), np.nonzero,
              lambda v: np.count_nonzero(v > 0), np.zeros_like, np.ones_like,
              lambda v: np.full_like(v, 7.0), lambda v: np.where(v > 0)):
        out, ref = f(t), f(a)
        outs = out if isinstance(out, tuple) else (out,)
        refs = ref if isinstance(ref, tuple) else (ref,)
        for o, r in zip(outs, refs):
            assert not (isinstance(o, tg.Tensor) and o.requires_grad)
            np.testing.assert_array_equal(o.numpy() if isinstance(o, tg.Tensor) else o, r)
    assert np.allclose(t, a) and np.array_equal(t, a)


# ---- what is not implemented ----------------------------------------------------------------

def test_unimplemented_ufunc_raises_for_tensors_that_require_grad():
    t = _rg(_x(3))
    with pytest.raises(TypeError, match=r"^tapegrad does not implement numpy\.nextafter for "
                       r"tensors that require grad; "):
        np.nextafter(t, 0.5)
    with pytest.raises(TypeError, match=r"numpy\.spacing"):
        np.spacing(t)
    with pytest.raises(TypeError, match=r"numpy\.hypot\.accumulate"):
        np.hypot.accumulate(t)
    with pytest.raises(TypeError, match=r"numpy\.add with dtype="):
        np.add(t, 1.0, dtype=np.float32)


def test_unimplemented_function_raises_for_tensors_that_require_grad():
    t = _rg(_x(2, 3))
    with pytest.raises(TypeError, match=r"^tapegrad does not implement numpy\.resize for "):
        np.resize(t, 7)
    with pytest.raises(TypeError, match=r"numpy\.var with mean="):
        np.var(t, mean=np.zeros((2, 3)))
    with pytest.raises(TypeError, match=r"numpy\.reshape with order='A'"):
        np.reshape(t, (3, 2), order="A")
    with pytest.raises(TypeError, match=r"numpy\.unique"):
        np.unique(t)


def test_out_argument_with_grad_raises():
    t = _rg(_x(3))
    # an ndarray cannot hold the gradient: the error says so, and names the in-place operator
    with pytest.raises(TypeError, match=r"numpy\.sin would write a result that requires grad "
                       r"into a NumPy array \(out="):
        np.sin(t, out=np.empty(3))
    buf = np.zeros(3)
    with pytest.raises(TypeError, match=r"numpy\.add would write .* a \+= t on an ndarray.*"
                       r"write a = a \+ t"):
        buf += t
    with pytest.raises(TypeError, match=r"numpy\.sin with out=, casting="):
        np.sin(t, out=tg.zeros(3), casting="same_kind")
    with pytest.raises(TypeError, match=r"numpy\.sum with out="):
        np.sum(t, out=np.empty(()))
    # an output tensor that is a leaf requiring grad is refused, as PyTorch's in-place ops
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        np.sin(np.ones(3), out=(t,))


def test_fallback_without_grad_returns_tensors():
    a = _x(2, 3)
    t = tg.tensor(a)
    out = np.heaviside(t, 0.5)
    assert type(out) is tg.Tensor and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.heaviside(a, 0.5))
    out = np.unwrap(t, axis=1)
    assert type(out) is tg.Tensor
    np.testing.assert_array_equal(out.numpy(), np.unwrap(a, axis=1))
    # a tensor that requires grad falls back under no_grad (no gradient is wanted there)
    r = _rg(a)
    with tg.no_grad():
        np.testing.assert_array_equal(np.heaviside(r, 0.5).numpy(), np.heaviside(a, 0.5))
        assert not np.sin(r).requires_grad
    # out= into a tensor without grad writes its storage and bumps its version
    dst = tg.zeros(2, 3)
    v = dst._version
    res = np.sin(t, out=(dst,))
    assert res is dst and dst._version == v + 1
    np.testing.assert_array_equal(dst.numpy(), np.sin(a))
    buf = np.zeros((2, 3))
    buf += t
    np.testing.assert_array_equal(buf, a)


def test_asarray_of_tensor_that_requires_grad_refuses():
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        np.asarray(_rg(_x(3)))


# ---- NumPy code differentiated unchanged ---------------------------------------------------

def gaussian_sine(x):
    return np.sum(np.sin(x) * np.exp(-x ** 2))


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy, written for NumPy arrays (labels one-hot)."""
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_z = np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(labels * (shifted - log_z), axis=1))


def softmax_cross_entropy_plain(logits, labels):
    """The same without the max shift (np.exp/np.log/np.sum(axis=...) only)."""
    p = np.exp(logits) / np.sum(np.exp(logits), axis=1, keepdims=True)
    return -np.sum(labels * np.log(p)) / logits.shape[0]


def mlp(x, W1, b1, W2, b2):
    h = np.tanh(x @ W1 + b1)
    return np.mean((h @ W2 + b2) ** 2)


def test_numpy_function_gaussian_sine(torch):
    x = _x(6, lo=-2, hi=2)
    t = _rg(x)
    y = gaussian_sine(t)
    assert isinstance(y, tg.Tensor)
    np.testing.assert_allclose(y.item(), gaussian_sine(x), rtol=1e-14)  # same code on arrays
    assert tg.autograd.gradcheck(gaussian_sine, (t,))
    assert tg.autograd.gradgradcheck(gaussian_sine, (t,))
    y.backward()
    tt = torch.tensor(x, requires_grad=True)
    torch.sum(torch.sin(tt) * torch.exp(-tt ** 2)).backward()
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", [softmax_cross_entropy, softmax_cross_entropy_plain])
def test_numpy_function_softmax_cross_entropy(loss, torch):
    logits = _x(4, 3, lo=-2, hi=2, seed=3)
    labels = np.eye(3)[[0, 2, 1, 2]]
    t = _rg(logits)
    val = loss(t, labels)
    np.testing.assert_allclose(val.item(), loss(logits, labels), rtol=1e-13)
    assert tg.autograd.gradcheck(lambda a: loss(a, labels), (t,))
    val.backward()
    tt = torch.tensor(logits, requires_grad=True)
    torch.nn.functional.cross_entropy(tt, torch.tensor(labels.argmax(1))).backward()
    np.testing.assert_allclose(t.grad.numpy(), tt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_numpy_function_mlp(torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((5, 3))  # data stays a plain ndarray
    params = [rng.standard_normal(s) * 0.7 for s in ((3, 4), (4,), (4, 2), (2,))]
    ts = [_rg(p) for p in params]
    val = mlp(x, *ts)
    np.testing.assert_allclose(val.item(), mlp(x, *params), rtol=1e-13)
    assert tg.autograd.gradcheck(lambda *ps: mlp(x, *ps), tuple(ts))
    val.backward()
    tps = [torch.tensor(p, requires_grad=True) for p in params]
    tx = torch.tensor(x)
    h = torch.tanh(tx @ tps[0] + tps[1])
    torch.mean((h @ tps[2] + tps[3]) ** 2).backward()
    for a, b in zip(ts, tps):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-11, atol=1e-14)


def test_numpy_function_float32_stays_float32():
    x = tg.tensor(_x(2, 3), dtype=tg.float32, requires_grad=True)
    y = np.sum(np.exp(x) * 2.0, axis=0)
    assert y.dtype == np.float32
    np.mean(y).backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("f", [np.linalg.svd, np.linalg.eigh, np.linalg.slogdet, np.linalg.qr])
def test_named_tuple_results_without_grad(f):
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    expect = f(a)
    got = f(tg.tensor(a))
    assert got._fields == expect._fields  # NumPy's named tuple, its fields as tensors
    for g, e in zip(got, expect):
        assert isinstance(g, tg.Tensor)
        np.testing.assert_allclose(np.abs(g.numpy()), np.abs(e))  # up to the vectors' signs
    x = tg.tensor(a, requires_grad=True)  # with grad: a differentiable result, not an error
    loss = sum((field ** 2).sum() for field in f(x))
    loss.backward()
    assert x.grad is not None and np.all(np.isfinite(x.grad.numpy()))


def test_np_where_reads_a_number_condition_as_numpy_does():
    """``np.where`` on tensors keeps NumPy's reading (nonzero is true); ``tg.where`` wants a
    bool condition, as torch.where."""
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for cond in (tg.tensor([1.0, 0.0, -2.0]), tg.tensor([1, 0, 5])):
        y = np.where(cond, a, 0.0)
        np.testing.assert_array_equal(y.detach().numpy(), [1.0, 0.0, 3.0])
        with pytest.raises(RuntimeError, match="where expected condition to be a boolean"):
            tg.where(cond, a, 0.0)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [1.0, 0.0, 1.0])


def test_ufunc_dtype_naming_its_own_result_dtype_keeps_the_gradient():
    """Dask's chunk sums call np.add(a, b, dtype=<the result's dtype>): a no-op that must not
    refuse tensors that require grad; a dtype that would change the result is still refused."""
    x = tg.tensor([0.5, 2.0], requires_grad=True)
    y = np.add(x * x, x, dtype=np.float64)
    assert y.dtype == tg.float64
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([0.5, 2.0]) + 1)
    with pytest.raises(TypeError, match=r"numpy\.add with dtype="):
        np.add(x, x, dtype=np.float32)
    np.testing.assert_array_equal(np.add(tg.tensor([1, 2]), 1, dtype=np.float32).numpy(),
                                  np.add(np.array([1, 2]), 1, dtype=np.float32))


def test_dask_matmul_of_a_tensor_that_requires_grad_backpropagates():
    da = pytest.importorskip("dask.array")
    A = np.random.default_rng(0).standard_normal((8, 4))
    t = tg.tensor(A, requires_grad=True)
    out = (da.from_array(t, chunks=(3, 2)) @ da.from_array(t, chunks=(3, 2)).T).sum()
    out = out.compute(scheduler="sync")
    out.backward()
    np.testing.assert_allclose(out.item(), (A @ A.T).sum(), rtol=1e-12)
    np.testing.assert_allclose(t.grad.numpy(), 2 * np.ones((8, 8)) @ A, rtol=1e-12)


def test_ufunc_dtype_without_a_gradient_at_stake_runs_numpy_in_that_dtype():
    """dtype= picks NumPy's loop: bool - bool in floats, NumPy's own errors, not tapegrad's."""
    a, b = np.array([True, True]), np.array([True, False])
    ta, tb = tg.tensor(a), tg.tensor(b)
    for f in (lambda x, y: np.subtract(x, y, dtype=np.float32),
              lambda x, y: np.negative(x, dtype=np.float32),
              lambda x, y: np.power(x, y, dtype=np.float64)):
        r, e = f(ta, tb), f(a, b)
        assert r.dtype == e.dtype
        np.testing.assert_array_equal(r.numpy(), e)
    with pytest.raises(ValueError, match="negative integer powers"):
        np.power(tg.tensor([1, 2]), -1, dtype=np.int64)
    with pytest.raises(OverflowError):
        np.add(tg.tensor([1, 2], dtype=tg.int32), 2**40, dtype=np.int32)
