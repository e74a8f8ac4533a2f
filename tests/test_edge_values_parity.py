"""Values, gradients and second derivatives at edge points (0, ±inf, nan, ties, a correction
past the sample size) against PyTorch, in float64 and float32: the activations (gelu, hardswish,
relu6), softmax and log_softmax with infinite inputs, var/std with infinities and with a
correction at or past the sample size, heaviside (no derivative), and copysign, hypot, atan2,
fmod and remainder over a grid of edge points.

Each case runs the op, ``autograd.grad`` of its sum and, under ``create_graph=True``, the
gradient of the sum of that gradient (``allow_unused=True``), in both libraries: the same NaN
and infinity pattern, the same errors, equal values where finite. Where PyTorch's answer is an
artefact of its vectorised loops (docs/differences_from_pytorch.md), a separate test pins
tapegrad's value. Points where the op is differentiable are also checked by finite differences.
"""

import math
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

INF, NAN = math.inf, math.nan
W3 = [1.0, 2.0, 3.0]  # (weights: a softmax row's gradient is not zero by symmetry)


def _outcome(lib, f, values, dtype, order):
    """What ``lib`` gives: the value, the first gradients and (order 2) the second ones, each as
    float64 arrays; an error as (class name, first line of its message) in their place."""
    dt = getattr(lib, dtype)
    xs = [lib.tensor(v, dtype=dt, requires_grad=True) for v in values]
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            y = f(lib, *xs)
            out.append(np.asarray(y.detach().tolist(), np.float64))
            gs = lib.autograd.grad(y.sum(), xs, create_graph=order == 2)
            out.append([np.asarray(g.detach().tolist(), np.float64) for g in gs])
            if order == 2:
                s = builtin_sum(g.sum() for g in gs)
                if not s.requires_grad:
                    out.append("constant first gradient")
                    return out
                g2 = lib.autograd.grad(s, xs, allow_unused=True)
                out.append([None if g is None else np.asarray(g.tolist(), np.float64)
                            for g in g2])
        except Exception as e:  # noqa: BLE001 - the error is the outcome compared
            out.append((type(e).__name__, str(e).splitlines()[0]))
    return out


builtin_sum = sum


def _same(mine, theirs, dtype, what):
    if isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs), (what, mine, theirs)
        for k, (a, b) in enumerate(zip(mine, theirs)):
            _same(a, b, dtype, f"{what}[{k}]")
        return
    if not isinstance(theirs, np.ndarray) or not isinstance(mine, np.ndarray):
        assert mine == theirs if not isinstance(mine, np.ndarray) else False, (what, mine, theirs)
        return
    assert mine.shape == theirs.shape, (what, mine, theirs)
    tol = 2e-6 if dtype == "float32" else 1e-12
    assert np.array_equal(np.isnan(mine), np.isnan(theirs)), (what, mine, theirs)
    assert np.array_equal(mine[np.isinf(mine)], theirs[np.isinf(mine)]) and \
        np.array_equal(np.isinf(mine), np.isinf(theirs)), (what, mine, theirs)
    fin = np.isfinite(mine)
    np.testing.assert_allclose(mine[fin], theirs[fin], rtol=tol, atol=tol, err_msg=what)


def _softmaxed(op):
    return lambda L, x: getattr(L, op)(x, -1) * L.tensor(W3, dtype=x.dtype)


CASES = {
    # activations at the infinities and nan (gelu's float32 +inf: test_gelu_float32_inf)
    "gelu": (lambda L, x: L.nn.functional.gelu(x), [[-INF, NAN, 0.0, 1.0, -2.5]]),
    "gelu_tanh": (lambda L, x: L.nn.functional.gelu(x, approximate="tanh"),
                  [[INF, -INF, NAN, 0.0, 1.0, -2.5]]),
    "hardswish": (lambda L, x: L.nn.functional.hardswish(x),
                  [[INF, -INF, NAN, 0.0, 3.0, -3.0, 1.5]]),
    "relu6": (lambda L, x: L.nn.functional.relu6(x), [[INF, -INF, 0.0, 6.0, 3.0, -1.0]]),
    # softmax / log_softmax rows: all -inf, one +inf, +inf and -inf, two +inf, one -inf, nan
    **{f"{op}_{name}": (_softmaxed(op), [row])
       for op in ("softmax", "log_softmax")
       for name, row in (("all_neg_inf", [[-INF, -INF, -INF], [1.0, 2.0, 3.0]]),
                         ("pos_inf", [[INF, 1.0, 2.0], [0.5, 0.5, 0.5]]),
                         ("mixed_inf", [[INF, -INF, 2.0]]),
                         ("two_pos_inf", [[INF, INF, 2.0]]),
                         ("neg_inf", [[-INF, 1.0, 2.0]]),
                         ("nan", [[NAN, 1.0, 2.0], [1.0, 2.0, 3.0]]))},
    "softmax_dim0_pos_inf": (lambda L, x: L.softmax(x, 0) * L.tensor([[1.0], [2.0]], dtype=x.dtype),
                             [[[INF, 1.0], [2.0, 3.0]]]),
    "log_softmax_dim0_pos_inf": (lambda L, x: L.log_softmax(x, 0) * L.tensor([[1.0], [2.0]],
                                                                               dtype=x.dtype),
                                 [[[INF, 1.0], [2.0, 3.0]]]),
    # heaviside: no derivative in PyTorch (its backward raises)
    "heaviside": (lambda L, x, v: L.heaviside(x, v), [[0.0, 1.0, -1.0, NAN], [0.5, 0.5, 0.5, 2.0]]),
    "heaviside_method": (lambda L, x, v: x.heaviside(v), [[0.0, -0.0, 3.0], [0.25]]),
    # var / std with infinite entries
    **{f"{op}_{name}": (f, [v])
       for op in ("var", "std")
       for name, f, v in (("pos_inf", lambda L, x, op=op: getattr(L, op)(x), [1.0, INF, 2.0]),
                          ("neg_inf", lambda L, x, op=op: getattr(L, op)(x), [1.0, -INF, 2.0]),
                          ("both_inf", lambda L, x, op=op: getattr(L, op)(x), [INF, -INF, 2.0]),
                          ("nan", lambda L, x, op=op: getattr(L, op)(x), [1.0, NAN, 2.0]),
                          ("dim_inf", lambda L, x, op=op: getattr(L, op)(x, dim=1),
                           [[1.0, INF, 2.0], [1.0, 2.0, 4.0]]))},
    # var / std with a correction at or past the sample size (3 elements, or rows of 3)
    **{f"{op}_{how}_c{c}": (f, [v])
       for op in ("var", "std", "var_mean", "std_mean")
       for c in (2, 3, 4, 2.5, 3.5)
       for how, f, v in (
           ("all", lambda L, x, op=op, c=c: _first(getattr(L, op)(x, correction=c)),
            [1.0, 2.0, 4.0]),
           ("all_tie", lambda L, x, op=op, c=c: _first(getattr(L, op)(x, correction=c)),
            [1.0, 2.0, 3.0]),
           ("dim", lambda L, x, op=op, c=c: _first(getattr(L, op)(x, dim=1, correction=c)),
            [[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]]),
           ("dims", lambda L, x, op=op, c=c: _first(getattr(L, op)(x, dim=(0, 1),
                                                                    correction=2 * c)),
            [[1.0, 2.0, 4.0], [3.0, 3.0, -1.0]]))},
    **{f"{op}_{name}": (f, [v])
       for op in ("var", "std")
       for name, f, v in (("one", lambda L, x, op=op: getattr(L, op)(x), [5.0]),
                          ("0d", lambda L, x, op=op: getattr(L, op)(x), 5.0),
                          ("const_c3", lambda L, x, op=op: getattr(L, op)(x, correction=3),
                           [2.0, 2.0, 2.0]),
                          ("nan_c3", lambda L, x, op=op: getattr(L, op)(x, correction=3),
                           [NAN, 1.0, 2.0]),
                          ("inf_c3", lambda L, x, op=op: getattr(L, op)(x, correction=3),
                           [INF, 1.0, 2.0]))},
}


# binary ops over a grid of edge points: every pair of 0, -0, ±1, 2, ±inf, nan (ties included)
PTS = [0.0, -0.0, 1.0, -1.0, 2.0, INF, -INF, NAN]
GRID = [[a for a in PTS for _ in PTS], [b for _ in PTS for b in PTS]]
ORIGIN = [k for k, (a, b) in enumerate(zip(*GRID)) if a == 0 and b == 0]
OFF_ORIGIN = [[v for k, v in enumerate(col) if k not in ORIGIN] for col in GRID]
BINARY = {
    "copysign": (lambda L, x, y: L.copysign(x, y), GRID),
    "copysign_number": (lambda L, x, y: L.copysign(x, -2.0) + L.copysign(y, 0.0), GRID),
    "hypot": (lambda L, x, y: L.hypot(x, y), GRID),
    # atan2 at the origin: its second derivative is tapegrad's 0 (test_atan2_at_the_origin)
    "atan2": (lambda L, x, y: L.atan2(x, y), OFF_ORIGIN),
}
BINARY.update({
    "fmod": (lambda L, x, y: L.fmod(x, y), GRID),
    "remainder": (lambda L, x, y: L.remainder(x, y), GRID),
    "remainder_operator": (lambda L, x, y: x % y, GRID),
    "fmod_number": (lambda L, x, y: L.fmod(x, -INF) + L.remainder(y, 1.5), GRID),
})
CASES.update({f"grid_{k}": v for k, v in BINARY.items()})


def _first(r):
    return r[0] if isinstance(r, tuple) else r


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_edge_values_match_pytorch(name, dtype, order):
    f, values = CASES[name]
    _same(_outcome(tg, f, values, dtype, order), _outcome(torch, f, values, dtype, order),
          dtype, f"{name} {dtype} order {order}")


# finite differences at the differentiable points of the cases above (float64)
SMOOTH = {
    "gelu": (lambda x: tg.nn.functional.gelu(x), [0.0, 1.0, -2.5]),
    "gelu_tanh": (lambda x: tg.nn.functional.gelu(x, approximate="tanh"), [0.0, 1.0, -2.5]),
    "hardswish": (lambda x: tg.nn.functional.hardswish(x), [0.0, 1.5, -2.0]),
    "relu6": (lambda x: tg.nn.functional.relu6(x), [3.0, -1.0, 7.0]),
    "softmax": (lambda x: tg.softmax(x, -1) * tg.tensor(W3, dtype=tg.float64), [-30.0, 1.0, 2.0]),
    "log_softmax": (lambda x: tg.log_softmax(x, -1) * tg.tensor(W3, dtype=tg.float64),
                    [-30.0, 1.0, 2.0]),
    "var": (lambda x: tg.var(x, dim=1), [[1.0, 5.0, 2.0], [1.0, 2.0, 4.0]]),
    "var_c2": (lambda x: tg.var(x, dim=1, correction=2), [[1.0, 5.0, 2.0], [1.0, 2.0, 4.0]]),
    "std": (lambda x: tg.std(x), [1.0, 5.0, 2.0]),
}


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_edge_cases_finite_differences(name):
    f, v = SMOOTH[name]
    x = tg.tensor(v, dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def test_gelu_float32_inf():
    # PyTorch's float32 gelu(inf) is inf for one element and nan from two on (its vectorised
    # erf); float64 gives inf at any size: tapegrad gives inf, its limit, in both dtypes
    for dtype in (tg.float32, tg.float64):
        x = tg.tensor([INF, INF, 1.0], dtype=dtype, requires_grad=True)
        y = tg.nn.functional.gelu(x)
        assert y[:2].tolist() == [INF, INF]
        (g,) = tg.autograd.grad(y.sum(), x)
        assert np.isnan(g[:2].numpy()).all()  # (inf * 0: PyTorch's nan too)
    assert torch.nn.functional.gelu(torch.tensor([INF], dtype=torch.float64)).item() == INF


def test_relu6_nan_gradient():
    # hardtanh/relu6 pass no gradient at nan (PyTorch's vectorised loop; its scalar loop for
    # the last few elements of a tensor passes it: a pattern set by the tensor's length)
    for dtype in (tg.float32, tg.float64):
        for n in (1, 6, 64):
            x = tg.tensor([NAN] * n, dtype=dtype, requires_grad=True)
            (g,) = tg.autograd.grad(tg.nn.functional.relu6(x).sum(), x)
            assert (g.numpy() == 0).all()
    x = torch.full((64,), NAN, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch.nn.functional.relu6(x).sum(), x)
    assert (g == 0).all()


def test_atan2_at_the_origin():
    # first derivatives 0 at (±0, ±0) as PyTorch's (its rule reads 1 / (x^2 + y^2) as 0 there);
    # the second derivatives tapegrad's 0 where PyTorch's double backward gives nan (docs)
    for dtype in (tg.float32, tg.float64):
        y = tg.tensor([0.0, -0.0, 0.0], dtype=dtype, requires_grad=True)
        x = tg.tensor([0.0, 0.0, -0.0], dtype=dtype, requires_grad=True)
        gy, gx = tg.autograd.grad(tg.atan2(y, x).sum(), (y, x), create_graph=True)
        assert (gy.detach().numpy() == 0).all() and (gx.detach().numpy() == 0).all()
        h = tg.autograd.grad((gy + gx).sum(), (y, x))
        assert all((t.numpy() == 0).all() for t in h)



def test_no_derivative_node_names():
    # heaviside (and the other ops without a derivative) record PyTorch's NotImplemented node
    for lib in (tg, torch):
        x = lib.tensor([0.0, 1.0], requires_grad=True)
        assert type(lib.heaviside(x, lib.tensor(0.5)).grad_fn).__name__ == "NotImplemented"
        z = lib.zeros(3, requires_grad=True)
        y = lib.scatter(z, 0, lib.tensor([0, 1]), lib.tensor([1.0, 2.0]), reduce="add")
        assert type(y.grad_fn).__name__ == "NotImplemented"


def test_hypot_of_an_infinity_and_a_nan_under_compile_as_eager():
    """tg.compile replays hypot's inf beside a NaN (eager writes it into the value, which a
    replay would not redo): values and gradients equal eager's on every call."""
    x = tg.tensor([np.inf, 1.0, 3.0, -np.inf, np.nan], requires_grad=True)
    y = tg.tensor([np.nan, 2.0, 4.0, np.nan, np.inf], requires_grad=True)

    def f(a, b):
        z = tg.hypot(a, b)
        z.sum().backward()
        return z

    want = f(x, y).detach().numpy()
    want_grads = x.grad.numpy().copy(), y.grad.numpy().copy()
    assert list(want) == [np.inf, math.sqrt(5.0), 5.0, np.inf, np.inf]
    compiled = tg.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no fall back to eager)
        for _ in range(3):
            x.grad = y.grad = None
            np.testing.assert_array_equal(compiled(x, y).detach().numpy(), want)
            np.testing.assert_array_equal(x.grad.numpy(), want_grads[0])
            np.testing.assert_array_equal(y.grad.numpy(), want_grads[1])
