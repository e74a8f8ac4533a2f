"""Every elementwise op through the op oracle (tests/op_checks.check_op), special values as
PyTorch 2.13 returns them, and the Python-float scalar fast path against
the array path."""

import math
import warnings
import zlib

import numpy as np
import pytest
from op_checks import check_op

import tapegrad as tg

SHAPES = [(), (1,), (5,), (2, 3)]
PAIRS = [((), ()), ((1,), (1,)), ((5,), (5,)), ((2, 3), (2, 3)),
         ((2, 3), (3,)), ((2, 1), (1, 3)), ((), (4,)), ((4,), ())]


def _draw(rng, shape, lo=-2.0, hi=2.0, avoid=(), gap=0.05):
    """Uniform values in [lo, hi] at least ``gap`` away from the kinks in ``avoid``."""
    x = rng.uniform(lo, hi, size=shape)
    for _ in range(100):
        bad = np.zeros(np.shape(x), bool)
        for k in avoid:
            bad |= np.abs(x - k) < gap
        if not bad.any():
            return np.array(x, dtype=np.float64)
        x = np.where(bad, rng.uniform(lo, hi, size=shape), x)
    raise AssertionError("could not draw values away from the kinks")


def _seed(*key):
    return zlib.crc32(repr(key).encode())


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# name: (tapegrad fn, NumPy reference, torch fn name or lambda, domain kwargs for _draw)
UNARY = {
    "neg": (tg.neg, np.negative, lambda t: -t, {}),
    "exp": (tg.exp, np.exp, "exp", {}),
    "log": (tg.log, np.log, "log", dict(lo=0.2, hi=3.0)),
    "log1p": (tg.log1p, np.log1p, "log1p", dict(lo=-0.7, hi=3.0)),
    "expm1": (tg.expm1, np.expm1, "expm1", {}),
    "sin": (tg.sin, np.sin, "sin", {}),
    "cos": (tg.cos, np.cos, "cos", {}),
    "tan": (tg.tan, np.tan, "tan", dict(lo=-1.2, hi=1.2)),
    "tanh": (tg.tanh, np.tanh, "tanh", {}),
    "sigmoid": (tg.sigmoid, _sigmoid, "sigmoid", {}),
    "relu": (tg.relu, lambda x: np.maximum(x, 0.0), "relu", dict(avoid=(0.0,))),
    "sqrt": (tg.sqrt, np.sqrt, "sqrt", dict(lo=0.2, hi=3.0)),
    "abs": (tg.abs, np.abs, "abs", dict(avoid=(0.0,))),
    "sign": (tg.sign, np.sign, "sign", dict(avoid=(0.0,))),
    "clamp_min": (lambda x: tg.clamp(x, min=-0.5), lambda x: np.maximum(x, -0.5),
                  lambda t: t.clamp(min=-0.5), dict(avoid=(-0.5,))),
    "clamp_max": (lambda x: tg.clamp(x, max=0.5), lambda x: np.minimum(x, 0.5),
                  lambda t: t.clamp(max=0.5), dict(avoid=(0.5,))),
    "clamp_both": (lambda x: x.clamp(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
                   lambda t: t.clamp(-0.5, 0.7), dict(avoid=(-0.5, 0.7))),
    "method_exp": (lambda x: x.exp(), np.exp, lambda t: t.exp(), {}),
    "operator_abs": (lambda x: abs(x), np.abs, lambda t: abs(t), dict(avoid=(0.0,))),
}


def _torch_fn(spec):
    if spec is None or callable(spec):
        return spec
    return lambda t: getattr(t, spec)()


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name, shape):
    fn, ref, tfn, dom = UNARY[name]
    rng = np.random.default_rng(_seed(name, shape))
    x = _draw(rng, shape, **dom)
    check_op(fn, [x], ref=ref, torch_fn=_torch_fn(tfn))


# name: (fn, NumPy reference, torch fn, domain of x, domain of y, kinks where x == y)
BINARY = {
    "add": (tg.add, np.add, lambda a, b: a + b, {}, {}, False),
    "sub": (tg.sub, np.subtract, lambda a, b: a - b, {}, {}, False),
    "mul": (tg.mul, np.multiply, lambda a, b: a * b, {}, {}, False),
    "div": (tg.div, np.divide, lambda a, b: a / b, {}, dict(avoid=(0.0,), gap=0.4), False),
    "pow": (tg.pow, np.power, lambda a, b: a ** b, dict(lo=0.3, hi=2.0), {}, False),
    "maximum": (tg.maximum, np.maximum, "maximum", {}, {}, True),
    "minimum": (tg.minimum, np.minimum, "minimum", {}, {}, True),
    "operator_add": (lambda a, b: a + b, np.add, lambda a, b: a + b, {}, {}, False),
    "operator_sub": (lambda a, b: a - b, np.subtract, lambda a, b: a - b, {}, {}, False),
    "operator_mul": (lambda a, b: a * b, np.multiply, lambda a, b: a * b, {}, {}, False),
    "operator_div": (lambda a, b: a / b, np.divide, lambda a, b: a / b, {},
                     dict(avoid=(0.0,), gap=0.4), False),
    "operator_pow": (lambda a, b: a ** b, np.power, lambda a, b: a ** b, dict(lo=0.3, hi=2.0),
                     {}, False),
}


def _binary_torch(spec):
    if callable(spec):
        return spec
    return lambda a, b: getattr(a, spec)(b)


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
@pytest.mark.parametrize("name", list(BINARY))
def test_binary(name, shapes):
    fn, ref, tfn, dx, dy, no_ties = BINARY[name]
    rng = np.random.default_rng(_seed(name, shapes))
    x = _draw(rng, shapes[0], **dx)
    y = _draw(rng, shapes[1], **dy)
    while no_ties and np.min(np.abs(np.subtract(x, y))) < 0.05:
        y = _draw(rng, shapes[1], **dy)
    check_op(fn, [x, y], ref=ref, torch_fn=_binary_torch(tfn))


def _torch_where(cond):
    def f(a, b):
        import torch  # only called by check_op when torch is installed

        return torch.where(torch.tensor(cond), a, b)

    return f


@pytest.mark.parametrize("shapes", PAIRS, ids=str)
def test_where(shapes):
    rng = np.random.default_rng(7)
    x, y = _draw(rng, shapes[0]), _draw(rng, shapes[1])
    cond = rng.uniform(size=np.broadcast_shapes(shapes[0], shapes[1])) > 0.4
    check_op(lambda a, b: tg.where(tg.tensor(cond), a, b), [x, y],
             ref=lambda a, b: np.where(cond, a, b), torch_fn=_torch_where(cond))


def test_where_condition_broadcasts():
    rng = np.random.default_rng(8)
    cond = np.array([True, False, True])
    x, y = _draw(rng, (2, 3)), _draw(rng, (2, 1))
    check_op(lambda a, b: tg.where(cond, a, b), [x, y], ref=lambda a, b: np.where(cond, a, b),
             torch_fn=_torch_where(cond))


# A Python number on either side: (fn, NumPy reference, domain of x); torch runs the reference
# (written with operators, it works on torch tensors too).
CONST = {
    "x+c": (lambda x: x + 2.5, lambda x: x + 2.5, {}),
    "c+x": (lambda x: 2.5 + x, lambda x: 2.5 + x, {}),
    "x-c": (lambda x: x - 1.5, lambda x: x - 1.5, {}),
    "c-x": (lambda x: 1.5 - x, lambda x: 1.5 - x, {}),
    "x*c": (lambda x: x * -3.0, lambda x: x * -3.0, {}),
    "c*x": (lambda x: 3 * x, lambda x: 3 * x, {}),
    "x/c": (lambda x: x / 4.0, lambda x: x / 4.0, {}),
    "c/x": (lambda x: 2.0 / x, lambda x: 2.0 / x, dict(avoid=(0.0,), gap=0.4)),
    "x**c": (lambda x: x ** 2.5, lambda x: x ** 2.5, dict(lo=0.2, hi=2.0)),
    "x**int": (lambda x: x ** 3, lambda x: x ** 3, {}),
    "x**neg": (lambda x: x ** -1.5, lambda x: x ** -1.5, dict(lo=0.3, hi=2.0)),
    "c**x": (lambda x: 1.7 ** x, lambda x: 1.7 ** x, {}),
    "x+int": (lambda x: x + 1, lambda x: x + 1, {}),
    "tg.mul(x,c)": (lambda x: tg.mul(x, 0.5), lambda x: x * 0.5, {}),
    "tg.div(c,x)": (lambda x: tg.div(3.0, x), lambda x: 3.0 / x, dict(avoid=(0.0,), gap=0.4)),
    "tg.pow(c,x)": (lambda x: tg.pow(2.0, x), lambda x: 2.0 ** x, {}),
    "tg.sub(c,x)": (lambda x: tg.sub(2.0, x), lambda x: 2.0 - x, {}),
    "tg.add(c,x)": (lambda x: tg.add(2, x), lambda x: 2 + x, {}),
}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", list(CONST))
def test_python_number_operand(name, shape):
    fn, ref, dom = CONST[name]
    rng = np.random.default_rng(_seed(name, shape))
    x = _draw(rng, shape, **dom)
    check_op(fn, [x], ref=ref, torch_fn=ref)


def test_binary_shape_mismatch_uses_pytorch_text():
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of "
                       r"tensor b \(2\) at non-singleton dimension 1$"):
        tg.ones(2, 3) + tg.ones(2)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        tg.mul(tg.ones(2, 3, requires_grad=True), tg.ones(3, 2))


# ---- special values as PyTorch returns them -----------------------------------------------

def _value_grad(f, *vals, array=False, grad_of=0):
    """Value of ``f`` and the gradient of its sum w.r.t. input ``grad_of``, on 0-d tensors
    (scalar fast path) or 1-element arrays (array path)."""
    xs = [tg.tensor([v] if array else v, requires_grad=True) for v in vals]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's log(0) etc. on arrays
        out = f(*xs)
        (g,) = tg.autograd.grad(out.sum(), [xs[grad_of]])
    return float(out.detach().numpy().reshape(-1)[0]), float(g.numpy().reshape(-1)[0])


def _torch_value_grad(torch, f, *vals, grad_of=0):
    xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in vals]
    out = f(*xs)
    (g,) = torch.autograd.grad(out.sum(), [xs[grad_of]])
    return out.item(), g.item()


INF, NAN = math.inf, math.nan
# (id, tapegrad f, torch f, inputs, which input's grad, expected value, expected grad)
SPECIAL = [
    ("relu(0)", tg.relu, "relu", (0.0,), 0, 0.0, 0.0),
    ("abs(0)", tg.abs, "abs", (0.0,), 0, 0.0, 0.0),
    ("abs(-2)", tg.abs, "abs", (-2.0,), 0, 2.0, -1.0),
    ("sign(0)", tg.sign, "sign", (0.0,), 0, 0.0, 0.0),
    ("sign(-3)", tg.sign, "sign", (-3.0,), 0, -1.0, 0.0),
    ("sign(nan)", tg.sign, "sign", (NAN,), 0, 0.0, 0.0),  # torch: 0 (NumPy: nan)
    ("abs(nan)", tg.abs, "abs", (NAN,), 0, NAN, 0.0),
    ("div overflow dy", lambda x, y: x / y, lambda x, y: x / y, (1e308, 1e308), 1, 1.0,
     -1e-308),
    ("sqrt(0)", tg.sqrt, "sqrt", (0.0,), 0, 0.0, INF),
    ("sqrt(-1)", tg.sqrt, "sqrt", (-1.0,), 0, NAN, NAN),
    ("log(0)", tg.log, "log", (0.0,), 0, -INF, INF),
    ("log(-1)", tg.log, "log", (-1.0,), 0, NAN, -1.0),
    ("log1p(-1)", tg.log1p, "log1p", (-1.0,), 0, -INF, INF),
    ("exp(0)", tg.exp, "exp", (0.0,), 0, 1.0, 1.0),
    ("exp(1000)", tg.exp, "exp", (1000.0,), 0, INF, INF),
    ("tanh(0)", tg.tanh, "tanh", (0.0,), 0, 0.0, 1.0),
    ("sigmoid(0)", tg.sigmoid, "sigmoid", (0.0,), 0, 0.5, 0.25),
    ("sigmoid(-800)", tg.sigmoid, "sigmoid", (-800.0,), 0, 0.0, 0.0),
    ("clamp_min_at_bound", lambda x: x.clamp(min=0), lambda x: x.clamp(min=0), (0.0,), 0,
     0.0, 1.0),
    ("clamp_max_at_bound", lambda x: x.clamp(0, 1), lambda x: x.clamp(0, 1), (1.0,), 0, 1.0,
     1.0),
    ("clamp_outside", lambda x: x.clamp(0, 1), lambda x: x.clamp(0, 1), (1.5,), 0, 1.0, 0.0),
    ("x/0", lambda x: x / 0, lambda x: x / 0, (1.0,), 0, INF, INF),
    ("x/zero_tensor", lambda x: x / tg.tensor(0.0), lambda x: x / 0, (1.0,), 0, INF, INF),
    ("x/x at 0", lambda x: x / x, lambda x: x / x, (0.0,), 0, NAN, NAN),
    ("0/0 const", lambda x: (x * 0) / 0, lambda x: (x * 0) / 0, (1.0,), 0, NAN, NAN),
    ("sqrt(z)*0", lambda x: tg.sqrt(x) * 0, lambda x: x.sqrt() * 0, (0.0,), 0, 0.0, NAN),
    ("x**2 at 0", lambda x: x ** 2, lambda x: x ** 2, (0.0,), 0, 0.0, 0.0),
    ("x**0 at 0", lambda x: x ** 0, lambda x: x ** 0, (0.0,), 0, 1.0, 0.0),
    ("x**1 at 0", lambda x: x ** 1, lambda x: x ** 1, (0.0,), 0, 0.0, 1.0),
    ("x**0.5 at 0", lambda x: x ** 0.5, lambda x: x ** 0.5, (0.0,), 0, 0.0, INF),
    ("x**-1 at 0", lambda x: x ** -1, lambda x: x ** -1, (0.0,), 0, INF, -INF),
    ("x**(1/3) at -8", lambda x: x ** (1 / 3), lambda x: x ** (1 / 3), (-8.0,), 0, NAN, NAN),
    ("pow(x,x) at 0", lambda x: tg.pow(x, x), lambda x: x ** x, (0.0,), 0, 1.0, 0.0),
    ("2**x at 3", lambda x: 2 ** x, lambda x: 2 ** x, (3.0,), 0, 8.0, 8 * math.log(2)),
    ("0**y at 2", lambda y: 0.0 ** y, lambda y: 0.0 ** y, (2.0,), 0, 0.0, 0.0),
    ("0**y at 0", lambda y: 0.0 ** y, lambda y: 0.0 ** y, (0.0,), 0, 1.0, 0.0),
    ("0**y at -1", lambda y: 0.0 ** y, lambda y: 0.0 ** y, (-1.0,), 0, INF, -INF),
    ("t0**y at 2", lambda y: tg.tensor(0.0) ** y, lambda y: y.new_tensor(0.0) ** y, (2.0,), 0,
     0.0, 0.0),
    ("t0**y at 0", lambda y: tg.tensor(0.0) ** y, lambda y: y.new_tensor(0.0) ** y, (0.0,), 0,
     1.0, 0.0),
    ("t(-2)**y at 2", lambda y: tg.tensor(-2.0) ** y, lambda y: y.new_tensor(-2.0) ** y, (2.0,),
     0, 4.0, NAN),
    ("x**t0 at 0", lambda x: x ** tg.tensor(0.0), lambda x: x ** x.new_tensor(0.0), (0.0,), 0,
     1.0, 0.0),
    ("maximum tie x", tg.maximum, "maximum", (2.0, 2.0), 0, 2.0, 0.5),
    ("maximum tie y", tg.maximum, "maximum", (2.0, 2.0), 1, 2.0, 0.5),
    ("maximum y wins", tg.maximum, "maximum", (1.0, 2.0), 1, 2.0, 1.0),
    ("minimum tie", tg.minimum, "minimum", (-1.0, -1.0), 0, -1.0, 0.5),
    ("minimum nan x", tg.minimum, "minimum", (NAN, 1.0), 0, NAN, 1.0),
    ("maximum nan y", tg.maximum, "maximum", (NAN, 1.0), 1, NAN, 1.0),
    ("relu(nan)", tg.relu, "relu", (NAN,), 0, NAN, 1.0),
    ("clamp(nan)", lambda x: x.clamp(0, 1), lambda x: x.clamp(0, 1), (NAN,), 0, NAN, 0.0),
]


def _torch_f(spec):
    if callable(spec):
        return spec
    return lambda *xs: getattr(xs[0], spec)(*xs[1:])


@pytest.mark.parametrize("array", [False, True], ids=["scalar", "array"])
@pytest.mark.parametrize("case", SPECIAL, ids=[c[0] for c in SPECIAL])
def test_special_values(case, array):
    _, f, _, vals, k, value, grad = case
    v, g = _value_grad(f, *vals, array=array, grad_of=k)
    np.testing.assert_allclose([v, g], [value, grad], rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("case", SPECIAL, ids=[c[0] for c in SPECIAL])
def test_special_values_match_torch(case, torch):
    _, f, tf, vals, k, _, _ = case
    mine = _value_grad(f, *vals, grad_of=k)
    theirs = _torch_value_grad(torch, _torch_f(tf), *vals, grad_of=k)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, equal_nan=True)


def _grads(f, arrays):
    xs = [tg.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = f(*xs)
        gs = tg.autograd.grad(out.sum(), xs)
    return out.detach().numpy(), [g.numpy() for g in gs]


def test_relu_abs_vectors():
    _, (g,) = _grads(tg.relu, [[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
    _, (g,) = _grads(tg.abs, [[0.0, -2.0, 3.0]])
    np.testing.assert_array_equal(g, [0.0, -1.0, 1.0])
    _, (g,) = _grads(lambda x: x.clamp(0, 1), [[0.0, 1.0, 0.5]])
    np.testing.assert_array_equal(g, [1.0, 1.0, 1.0])


def test_where_leaks_nan_of_unselected_branch():
    # torch.where(x > 0, sqrt(x), 0) at [-1, 1] -> grad [nan, 0.5]
    v, (g,) = _grads(lambda x: tg.where(x > 0, tg.sqrt(x), 0.0), [[-1.0, 1.0]])
    np.testing.assert_array_equal(v, [0.0, 1.0])
    np.testing.assert_array_equal(g, [np.nan, 0.5])
    _, (g,) = _grads(lambda x: tg.where(x > 0, x, 0.0), [[-1.0, 0.0, 1.0]])
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])


def test_maximum_ties_split_evenly():
    # maximum([2, 1], [2, 2]) -> x grad [0.5, 0], y grad [0.5, 1]
    _, (gx, gy) = _grads(tg.maximum, [[2.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(gx, [0.5, 0.0])
    np.testing.assert_array_equal(gy, [0.5, 1.0])
    _, (gx, gy) = _grads(tg.minimum, [[2.0, 1.0], [2.0, 2.0]])
    np.testing.assert_array_equal(gx, [0.5, 1.0])
    np.testing.assert_array_equal(gy, [0.5, 0.0])


def test_clamp_with_tensor_bounds_passes_gradient_at_bounds():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    lo, hi = np.zeros(5), np.ones(5)
    _, gs = _grads(lambda a, b, c: tg.clamp(a, b, c), [x, lo, hi])
    np.testing.assert_array_equal(gs[0], [0.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gs[1], [1.0, 0.0, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(gs[2], [0.0, 0.0, 0.0, 0.0, 1.0])


def test_clamp_with_tensor_bounds_matches_torch(torch):
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    lo, hi = np.zeros(5), np.ones(5)
    _, gs = _grads(lambda a, b, c: tg.clamp(a, b, c), [x, lo, hi])
    ts = [torch.tensor(a, requires_grad=True) for a in (x, lo, hi)]
    tgs = torch.autograd.grad(torch.clamp(*ts).sum(), ts)
    for g, t in zip(gs, tgs):
        np.testing.assert_array_equal(g, t.numpy())


def test_special_value_vectors_match_torch(torch):
    """Every unary op on a vector of edge values: values and gradients equal torch's."""
    edge = np.array([0.0, -0.0, 1.0, -1.0, 1e-300, 700.0, -700.0, 1e3, np.inf, -np.inf, np.nan])
    pairs = [(tg.neg, torch.neg), (tg.exp, torch.exp), (tg.log, torch.log),
             (tg.log1p, torch.log1p), (tg.expm1, torch.expm1), (tg.sin, torch.sin),
             (tg.cos, torch.cos), (tg.tanh, torch.tanh), (tg.sigmoid, torch.sigmoid),
             (tg.relu, torch.relu), (tg.sqrt, torch.sqrt), (tg.abs, torch.abs),
             (tg.sign, torch.sign), (lambda x: x.clamp(-1, 1), lambda x: x.clamp(-1, 1))]
    for f, tf in pairs:
        v, (g,) = _grads(f, [edge])
        t = torch.tensor(edge, requires_grad=True)
        tv = tf(t)
        (tgr,) = torch.autograd.grad(tv.sum(), [t])
        np.testing.assert_allclose(v, tv.detach().numpy(), rtol=1e-14, equal_nan=True)
        np.testing.assert_allclose(g, tgr.numpy(), rtol=1e-14, equal_nan=True)


# ---- scalar fast path == array path --------------------------------------------------------

EDGE_SCALARS = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-300, 1000.0, -1000.0, math.inf, -math.inf,
                math.nan]


def _run(f, vals, path):
    """Value and gradients of ``f`` on 0-d inputs: Python floats ("scalar") or 0-d arrays."""
    if path == "scalar":
        xs = [tg.tensor(v, requires_grad=True) for v in vals]
        assert all(type(x._data) is float for x in xs)
    else:
        xs = [tg.from_numpy(np.array(v)).requires_grad_() for v in vals]
        assert all(type(x._data) is np.ndarray for x in xs)
    out = f(*xs)
    gs = tg.autograd.grad(out, xs, allow_unused=True)
    return [out.item()] + [0.0 if g is None else g.item() for g in gs]


def _same(f, vals):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the scalar path neither raises nor warns
        s = _run(f, vals, "scalar")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = _run(f, vals, "array")
    np.testing.assert_allclose(s, a, rtol=1e-14, atol=0, equal_nan=True,
                               err_msg=f"scalar vs array path at {vals}")


UNARY_FAST = [tg.neg, tg.exp, tg.log, tg.log1p, tg.expm1, tg.sin, tg.cos, tg.tan, tg.tanh,
              tg.sigmoid, tg.relu, tg.sqrt, tg.abs, tg.sign, lambda x: x.clamp(-1.0, 1.0),
              lambda x: x.clamp(min=0.0), lambda x: -x, lambda x: abs(x)]


@pytest.mark.parametrize("k", range(len(UNARY_FAST)))
def test_scalar_path_matches_array_path_unary(k):
    for v in EDGE_SCALARS:
        _same(UNARY_FAST[k], [v])


BINARY_FAST = [tg.add, tg.sub, tg.mul, tg.div, tg.pow, tg.maximum, tg.minimum,
               lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b,
               lambda a, b: a ** b]
EDGE_PAIRS = [(0.0, 0.0), (1.0, 0.0), (-1.0, 0.0), (0.0, -1.0), (2.0, 3.0), (-2.0, 0.5),
              (-8.0, 1 / 3), (math.inf, math.inf), (math.inf, 0.0), (math.nan, 1.0),
              (1.0, math.nan), (10.0, 400.0), (1e-300, 1e300), (3.0, 3.0)]


@pytest.mark.parametrize("k", range(len(BINARY_FAST)))
def test_scalar_path_matches_array_path_binary(k):
    for a, b in EDGE_PAIRS:
        _same(BINARY_FAST[k], [a, b])


CONSTS = [0.0, 1.0, -1.0, 0.5, 2, 3.0, -2.5, math.inf, math.nan]
CONST_FAST = [lambda x, c: x + c, lambda x, c: c + x, lambda x, c: x - c, lambda x, c: c - x,
              lambda x, c: x * c, lambda x, c: c * x, lambda x, c: x / c, lambda x, c: c / x,
              lambda x, c: x ** c, lambda x, c: c ** x]


@pytest.mark.parametrize("k", range(len(CONST_FAST)))
def test_scalar_path_matches_array_path_constants(k):
    for c in CONSTS:
        for v in [0.0, -1.0, 2.0, 1000.0, -math.inf, math.nan]:
            _same(lambda x: CONST_FAST[k](x, c), [v])


def test_scalar_path_domain_edges_do_not_raise():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.log(tg.tensor(0.0)).item() == -math.inf
        assert math.isnan(tg.sqrt(tg.tensor(-1.0)).item())
        assert tg.exp(tg.tensor(1000.0)).item() == math.inf
        assert math.isnan((tg.tensor(0.0) / tg.tensor(0.0)).item())
        assert math.isnan((tg.tensor(0.0) / 0).item())
        assert (tg.tensor(1.0) / 0.0).item() == math.inf
        assert (tg.tensor(10.0) ** 400.0).item() == math.inf
        assert math.isnan(tg.sin(tg.tensor(math.inf)).item())


def test_fast_path_records_same_gradient_at_second_order():
    """Second derivatives agree between the scalar and the array path (re-taping)."""
    for f in (tg.tanh, tg.sigmoid, lambda x: x ** 3, lambda x: tg.log(x) * x, lambda x: 2 ** x):
        res = []
        for x in (tg.tensor(0.7, requires_grad=True),
                  tg.from_numpy(np.array(0.7)).requires_grad_()):
            (g,) = tg.autograd.grad(f(x), [x], create_graph=True)
            (h,) = tg.autograd.grad(g, [x])
            res.append((g.item(), h.item()))
        np.testing.assert_allclose(res[0], res[1], rtol=1e-14)


def test_sign_requires_grad_with_zero_gradient(torch):
    x = tg.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    s = tg.sign(x)
    t = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    assert s.requires_grad == torch.sign(t).requires_grad
    s.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])
