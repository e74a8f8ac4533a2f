"""Compiled loops for derivative formulas of several operations (``engine/_formula_kernels.py``,
generated): on large elementwise records they replace NumPy's passes, so their values must be
NumPy's bit for bit, special values, float32 and in-place writes included."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.engine import _formula_add_kernels, _formula_kernels, _gen_formulas, numpy_records
from tapegrad.registry import REGISTRY, Op, numpy_formula

N = 5000  # a large record's size (the loops are used from 4096 elements)
_ARG = {"g": 0, "x": 1, "y": 2, "out": 3, "m": 4}


def test_generated_files_are_current():
    assert _gen_formulas.TARGET.read_text() == _gen_formulas.generate(), (
        "run `python -m tapegrad.engine._gen_formulas`")
    assert _gen_formulas.ADD_TARGET.read_text() == _gen_formulas.generate_add(), (
        "run `python -m tapegrad.engine._gen_formulas`")


def test_which_formulas_get_a_loop():
    assert _gen_formulas.loop_of("g * out * (1.0 - out)") is not None
    assert _gen_formulas.loop_of("where((x >= c0) & (x <= c1), g, 0.0)") is not None
    assert _gen_formulas.loop_of("g * sign(x)") is not None
    # a select on a saved mask: NumPy converts the float mask to bool first (two passes)
    assert _gen_formulas.loop_of("where(m, g, 0.0)") is not None
    for expr in ("g", "-g", "g * y", "g * cos(x)", "sign(x)",
                 "where(c0 == 0.0, 0.0, g * (c0 * x ** (c0 - 1.0)))", ""):
        assert _gen_formulas.loop_of(expr) is None, expr


def _values(r, dtype):
    v = r.standard_normal(N) * 3
    v[:12] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 1e-300, -1e300, 0.5, 2.0, 1e30]
    r.shuffle(v)
    with np.errstate(over="ignore"):  # (1e300 is inf in float32)
        return v.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("key", sorted(k for k in _formula_kernels.KERNELS if len(k) == 2))
def test_loops_give_numpys_values_bit_for_bit(key, dtype):
    code, k = key
    d = REGISTRY[code]
    r = np.random.default_rng(code * 2 + k)
    g, x, y, out = (_values(r, dtype) for _ in range(4))
    y[::7] = x[::7]  # ties (maximum, minimum)
    m = (r.random(N) < 0.5).astype(dtype)  # (a mask is saved in the values' precision)
    c0, c1 = sorted(float(c) for c in r.standard_normal(2))
    args = (g, x, y, out, m, c0, c1)
    with np.errstate(all="ignore"):
        want = d.numpy_rules()[k](*args)
    loop = numpy_records.formula_loop(code, k, args)
    assert loop is not None
    got = loop(None)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_array_equal(got, want)
    dst = g.copy()  # written over g (a dead gradient): the loop that reads g from dst
    args2 = (dst,) + args[1:]
    assert numpy_records.formula_loop(code, k, args2)(dst) is dst
    np.testing.assert_array_equal(dst, want)
    fn, _, names, consts = _formula_kernels.KERNELS[key]
    arrays = [args[_ARG[nm]] if nm in _ARG else _called(nm, args) for nm in names]
    last = len(names) - 1  # over another array it reads (or a call's): the general loop
    arrays[last] = dst = arrays[last].copy()
    ks = [dtype(c0 if c == "c0" else c1 if c == "c1" else c) for c in consts]
    fn(dst, *arrays, *ks)
    np.testing.assert_array_equal(dst, want)


def _called(text, args):
    """A call a loop reads (``"sigmoid(x)"``), as NumPy's formula evaluates it."""
    with np.errstate(all="ignore"):
        return numpy_formula(text)(*args)


def test_calls_are_evaluated_by_numpy_first():
    """A formula calling ``exp``, ``sigmoid``, ``erf`` gets a loop that reads the call's values
    as NumPy computes them (one array per distinct call); ``sin``/``cos`` and powers do not."""
    assert _gen_formulas.loop_of("g * sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x)))")[2] == \
        ("g", "sigmoid(x)", "x")
    assert _gen_formulas.loop_of("where(x <= 0.0, g * c0 * exp(x), g)")[2] == \
        ("x", "g", "exp(x)")
    for code in (Op.SILU, Op.GELU, Op.GELU_TANH, Op.ELU, Op.SOFTPLUS):
        assert (int(code), 0) in _formula_kernels.KERNELS
    for expr in ("g * cos(x)", "g * sin(x) * x", "g * exp(x) ** 2.0"):
        assert _gen_formulas.loop_of(expr) is None, expr


@pytest.mark.parametrize("op", ["silu", "gelu", "gelu_tanh", "elu", "softplus", "logsigmoid"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_activation_gradients_against_pytorch(op, dtype):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(7)
    a = (r.standard_normal((64, 128)) * 4).astype(dtype)
    w = r.standard_normal((64, 128)).astype(dtype)
    f = {"silu": lambda F, x: F.silu(x), "gelu": lambda F, x: F.gelu(x),
         "gelu_tanh": lambda F, x: F.gelu(x, approximate="tanh"),
         "elu": lambda F, x: F.elu(x, 0.7), "softplus": lambda F, x: F.softplus(x, 2.0, 5.0),
         "logsigmoid": lambda F, x: F.logsigmoid(x)}[op]
    grads = []
    for L in (tg, torch):
        x = L.tensor(a, requires_grad=True)
        (f(L.nn.functional, x) * L.tensor(w)).sum().backward()
        grads.append(x.grad.numpy())
    assert grads[0].dtype == np.dtype(dtype)
    # (atol: gradients near zero are differences of O(1) terms, each within an ulp of PyTorch's)
    tol = dict(rtol=2e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(grads[0], grads[1], **tol)


def _formula_args(r, dtype, code, k):
    g, x, y, out = (_values(r, dtype) for _ in range(4))
    y[::7] = x[::7]  # ties (maximum, minimum)
    m = (r.random(N) < 0.5).astype(dtype)
    c0, c1 = sorted(float(c) for c in r.standard_normal(2))
    return g, x, y, out, m, c0, c1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("key", sorted(k for k in _formula_add_kernels.ADD_KERNELS
                                       if len(k) == 2))
def test_add_loops_give_numpys_sum_bit_for_bit(key, dtype):
    """``dst += formula`` in one pass: NumPy's formula, then NumPy's addition, bit for bit
    (special values in every array, the sum included; signed zeros too)."""
    code, k = key
    r = np.random.default_rng(code * 2 + k + 100)
    args = _formula_args(r, dtype, code, k)
    acc = _values(r, dtype)
    with np.errstate(all="ignore"):
        want = acc + REGISTRY[code].numpy_rules()[k](*args)
        add = numpy_records.add_loop(code, k, args)
        assert add is not None
        add(acc)
    assert acc.dtype == dtype
    np.testing.assert_array_equal(acc, want)  # (nan where NumPy's is: its sign is LLVM's)
    real = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(acc[real]), np.signbit(want[real]))  # -0.0


def test_add_loops_cover_the_one_operation_formulas_and_the_trig_products():
    for op, k in ((Op.MUL, 0), (Op.MUL, 1), (Op.EXP, 0), (Op.NEG, 0), (Op.DIV, 0),
                  (Op.TANH, 0), (Op.SUB, 1)):
        assert (int(op), k) in _formula_add_kernels.ADD_KERNELS
    assert (int(Op.ADD), 0) not in _formula_add_kernels.ADD_KERNELS  # (g: one addition)
    args = _formula_args(np.random.default_rng(1), np.float64, 0, 0)
    for op in (Op.SIN, Op.COS):  # vecmath.times adding: one pass
        assert numpy_records.add_loop(int(op), 0, args) is not None
    assert numpy_records.add_loop(int(Op.LOG), 0, args[:1] + (args[1][::2],) + args[2:]) \
        is None  # (not flat: NumPy's two passes)


def test_other_layouts_and_dtypes_are_left_to_numpy():
    g = np.ones(2 * N)
    out = np.full(2 * N, 0.5)
    code = int(Op.SIGMOID)
    assert numpy_records.formula_loop(code, 0, (g[::2], None, None, out[::2], None, 0.0,
                                                0.0)) is None
    assert numpy_records.formula_loop(code, 0, (g, None, None, out.astype(np.float32), None,
                                                0.0, 0.0)) is None
    assert numpy_records.formula_loop(code, 0, (g, None, None, out, None, 0.0, 0.0)) is not None


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "relu", "clamp", "div", "maximum", "sqrt",
                                "log1p", "rdiv", "abs"])
def test_large_gradients_match_torch(op):
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    xv, yv = r.standard_normal(3 * N), r.standard_normal(3 * N)
    yv[::5] = xv[::5]

    def f(L, x, y):
        return {"tanh": lambda: L.tanh(x) * y, "sigmoid": lambda: L.sigmoid(x) * y,
                "relu": lambda: L.relu(x) * y, "clamp": lambda: L.clamp(x, -0.5, 0.7) * y,
                "div": lambda: x / (y * y + 0.5), "maximum": lambda: L.maximum(x, y),
                "sqrt": lambda: L.sqrt(x * x + 0.1) * y, "log1p": lambda: L.log1p(x * x) * y,
                "rdiv": lambda: 2.0 / (x * x + 1.0) * y, "abs": lambda: L.abs(x) * y}[op]()

    tx, ty = tg.tensor(xv, requires_grad=True), tg.tensor(yv, requires_grad=True)
    (f(tg, tx, ty) ** 2).sum().backward()
    qx, qy = torch.tensor(xv, requires_grad=True), torch.tensor(yv, requires_grad=True)
    (f(torch, qx, qy) ** 2).sum().backward()
    np.testing.assert_allclose(tx.grad.numpy(), qx.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ty.grad.numpy(), qy.grad.numpy(), rtol=1e-12, atol=1e-14)


_AT_KEYS = sorted(k for k in _formula_kernels.KERNELS if len(k) == 3)


def test_pow_declares_its_square_and_cube():
    assert [k for k in _AT_KEYS if k[0] == Op.POWC] == [(int(Op.POWC), 0, 2.0),
                                                         (int(Op.POWC), 0, 3.0)]


@pytest.mark.parametrize("key", _AT_KEYS)
def test_dx_at_a_constant_gives_the_formulas_values_bit_for_bit(key):
    """An op's dx at a constant (``dx_at``) is its dx there: the loop written, over ``g``, and
    added into a gradient, against NumPy's evaluation of the general formula (float64)."""
    code, k, c0 = key
    r = np.random.default_rng(code + int(c0))
    g, x, acc = (_values(r, np.float64) for _ in range(3))
    args = (g, x, None, None, None, c0, 0.0)
    with np.errstate(all="ignore"):
        want = REGISTRY[code].numpy_rules()[k](*args)
        total = acc + want
        add = numpy_records.add_loop(code, k, args)
        add(acc)
    loop = numpy_records.formula_loop(code, k, args)
    assert loop is not None
    np.testing.assert_array_equal(loop(None), want)
    dst = g.copy()  # over g itself
    assert numpy_records.formula_loop(code, k, (dst,) + args[1:])(dst) is dst
    np.testing.assert_array_equal(dst, want)
    np.testing.assert_array_equal(acc, total)


def test_other_powers_and_float32_keep_the_formula():
    g, x = np.ones(N), np.ones(N)
    for c0 in (2.5, -1.0, 0.0, 4.0):
        assert numpy_records.formula_loop(int(Op.POWC), 0, (g, x, None, None, None, c0, 0.0)) \
            is None
    # float32: the formula computes in float64 (its exponent is a float64 array)
    g32, x32 = g.astype(np.float32), x.astype(np.float32)
    assert numpy_records.formula_loop(int(Op.POWC), 0, (g32, x32, None, None, None, 2.0, 0.0)) \
        is None


@pytest.mark.parametrize("p", [2, 3])
def test_large_square_and_cube_gradients_against_pytorch(p):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(p).standard_normal((64, 128))
    x, xt = tg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (x ** p).mean().backward()
    (xt ** p).mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_large_where_gradients_against_pytorch(dtype):
    """``where``'s VJP on large records is the compiled select over a mask saved in the values'
    dtype; a constant branch is not broadcast, a broadcast branch with grad still is."""
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(5)
    a, b = r.standard_normal((64, 128)).astype(dtype), r.standard_normal(128).astype(dtype)
    w = r.standard_normal((64, 128)).astype(dtype)
    grads = []
    for L in (tg, torch):
        x, y = L.tensor(a, requires_grad=True), L.tensor(b, requires_grad=True)
        ((L.where(x > 0, x, 0.5) + L.where(x < 1, y, x)) * L.tensor(w)).sum().backward()
        grads.append((x.grad.numpy(), y.grad.numpy()))
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-13, atol=1e-13)
    for got, want in zip(*grads):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("op, call", [(Op.SILU, "sigmoid("), (Op.GELU_TANH, "tanh(")])
def test_a_repeated_call_is_evaluated_once(op, call):
    """NumPy's formulas name a call they make twice (``(_s0 := sigmoid(x))``): the same
    values as the formula written out, bit for bit, with fewer passes."""
    from tapegrad import registry

    d = REGISTRY[int(op)]
    assert d.dx.count(call) > 1 and registry._numpy_form(d.dx).count(call) == 1
    written_out = eval(f"lambda g, x, y, out, m, c0, c1: {d.dx}",
                       registry.numpy_rule_namespace())
    args = _formula_args(np.random.default_rng(9), np.float64, int(op), 0)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(d.numpy_rules()[0](*args), written_out(*args))
