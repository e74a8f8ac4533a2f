"""IEEE results (log(0) = -inf, 1/0 = inf, overflow to inf, inf - inf = nan) come out of tapegrad
silently whatever warnings filters the user installs after import, as PyTorch's: a
``simplefilter("error")`` (or pytest's ``filterwarnings = error``) makes none of NumPy's
floating-point warnings inside tapegrad an exception, and ``simplefilter("always")`` shows (or
records) none, in the forward, the backward or a create_graph double backward; the values are
those of the same program without the filter (and PyTorch's where it is importable). The user's own NumPy calls, hooks and custom
``Function.backward`` still warn as they would outside tapegrad."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import tapegrad as tg

F64 = [0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 1.0, 0.5, 1e-320, 3.0]
F32 = [0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, 3e38, -3e38, 1.0, 0.5, 1e-45, 3.0]
UNARY = """neg exp log log1p expm1 sin cos tan tanh sigmoid relu sqrt abs atan asin acos sinh cosh
asinh acosh atanh erf erfc erfinv log2 log10 rsqrt reciprocal exp2 sign sinc logit lgamma digamma
square frac trunc deg2rad rad2deg i0 nan_to_num special.entr special.ndtri special.i0e special.i1
special.i1e special.ndtr special.log_ndtr special.erfcx special.bessel_j0 special.bessel_y1
nn.functional.softplus nn.functional.silu nn.functional.gelu nn.functional.elu
nn.functional.selu nn.functional.mish nn.functional.hardswish nn.functional.logsigmoid
nn.functional.celu nn.functional.softsign nn.functional.tanhshrink nn.functional.leaky_relu
nn.functional.relu6 nn.functional.hardtanh nn.functional.softshrink""".split()
REDUCE = """sum mean prod var std norm amax amin max min nansum nanmean median
linalg.vector_norm""".split()
SCAN = "cumsum cumprod logcumsumexp softmax log_softmax cummax logsumexp".split()
BINARY = """add sub mul div pow maximum minimum fmax fmin atan2 hypot fmod remainder xlogy logaddexp
logaddexp2 copysign float_power ldexp dist outer kron nn.functional.mse_loss
nn.functional.l1_loss nn.functional.smooth_l1_loss nn.functional.huber_loss
nn.functional.poisson_nll_loss nn.functional.binary_cross_entropy_with_logits
nn.functional.soft_margin_loss special.xlog1py""".split()
# with a Python number: the scalar fast paths (x * c, x ** 2, c / x, ...)
NUMBER = {"mul10": lambda x: x * 10.0, "div0": lambda x: x / 0.0, "rdiv": lambda x: 1.0 / x,
          "pow2": lambda x: x ** 2, "pow-1": lambda x: x ** -1, "rpow": lambda x: 10.0 ** x,
          "sub_inf": lambda x: x - np.inf, "add": lambda x: x + 1e308,
          "softplus_beta": lambda x: x.new_tensor(0).__class__ and tg.nn.functional.softplus(x, 2.0)
          if isinstance(x, tg.Tensor) else __import__("torch").nn.functional.softplus(x, 2.0),
          "leaky10": lambda x: (tg if isinstance(x, tg.Tensor) else __import__("torch"))
          .nn.functional.leaky_relu(x, 10.0), "float": lambda x: x.float(),
          "double_sum": lambda x: x.double().sum()}


def _get(lib, name):
    for part in name.split("."):
        lib = getattr(lib, part)
    return lib


def _call(lib, kind, name, xs):
    if kind == "number":
        return NUMBER[name](xs[0])
    f = _get(lib, name)
    if kind == "scan":
        return f(xs[0], 0)
    if kind == "reduce" and name in ("max", "min", "median"):
        return f(xs[0])
    return f(*xs)


def _program(lib, kind, name, values, dtype, second):
    """Values, gradients and (``second``) the gradients of the gradients' squared sum."""
    xs = [lib.tensor(np.array(v, dtype=dtype), requires_grad=True) for v in values]
    y = _call(lib, kind, name, xs)
    if isinstance(y, tuple):
        y = y[0]
    out = [y.detach().numpy().copy()]
    if not y.requires_grad:
        return out
    gs = lib.autograd.grad(y.sum(), xs, create_graph=second, allow_unused=True)
    out += [None if g is None else g.detach().numpy().copy() for g in gs]
    if second:
        gg = [g for g in gs if g is not None and g.requires_grad]
        if gg:
            s = sum((g * g).sum() for g in gg)
            out += [None if g is None else g.detach().numpy().copy()
                    for g in lib.autograd.grad(s, xs, allow_unused=True)]
    return out


def _run(lib, kind, name, values, dtype, second, action, shown=None):
    with warnings.catch_warnings(record=shown is not None) as log:
        warnings.simplefilter("ignore", UserWarning)  # (PyTorch's own: degrees of freedom)
        if action is not None:
            warnings.simplefilter(action, RuntimeWarning)
        out = _program(lib, kind, name, values, dtype, second)
    if shown is not None:
        shown += [f"{w.message} ({w.filename}:{w.lineno})" for w in log]
    return out


def _same(a, b, rtol=0.0):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_allclose(u, v, rtol=rtol, atol=0, equal_nan=True)


def _cases():
    for kind, names in (("unary", UNARY), ("reduce", REDUCE), ("scan", SCAN),
                        ("binary", BINARY), ("number", list(NUMBER))):
        for name in names:
            yield pytest.param(kind, name, id=f"{kind}-{name}")


def _inputs(kind, dtype):
    edges = F64 if dtype is np.float64 else F32
    if kind == "binary":
        return ([edges, edges[::-1]], [[], []])
    if kind in ("reduce", "scan"):  # each edge value beside finite ones, and an empty one
        return tuple([[e, e, 1.0]] for e in edges) + ([[]],)
    return ([edges], [[]])


@pytest.mark.parametrize("kind,name", list(_cases()))
def test_results_do_not_depend_on_a_users_warning_filters(kind, name):
    for dtype in (np.float64, np.float32):
        for values in _inputs(kind, dtype):
            for second in (False, True):
                try:
                    want = _run(tg, kind, name, values, dtype, second, "ignore")
                except (RuntimeError, ValueError, IndexError):  # (PyTorch's refusals: empty)
                    continue
                got = _run(tg, kind, name, values, dtype, second, "error")
                _same(got, want)
                shown = []  # a filter that shows them in front: nothing shown (or recorded)
                _same(_run(tg, kind, name, values, dtype, second, "always", shown), want)
                assert not shown


_TORCH_CHECKED = [c for c in _cases() if c.values[1] not in (
    # PyTorch differs at these edges in ways unrelated to warnings (its own values or refusals)
    "frac", "i0", "nan_to_num", "special.i1", "special.i1e", "special.ndtri", "special.erfcx",
    "special.bessel_y1", "special.bessel_j0", "lgamma", "digamma", "erfinv", "median", "ldexp",
    "sinc", "logit", "special.log_ndtr", "nn.functional.gelu", "nn.functional.hardswish",
    "softmax", "log_softmax")]


@pytest.mark.parametrize("kind,name", _TORCH_CHECKED)
def test_values_under_an_error_filter_are_pytorchs(kind, name):
    # the forward's values (PyTorch flushes float32 subnormals in some kernels: left out)
    torch = pytest.importorskip("torch")
    for dtype in (np.float64, np.float32):
        for values in _inputs(kind, dtype)[:-1]:  # (non-empty)
            values = [[v for v in vs if v == 0 or abs(v) > 1e-30] for vs in values]
            try:
                want = _run(torch, kind, name, values, dtype, False, "error")[:1]
            except RuntimeError:
                continue  # (a refusal of PyTorch's, e.g. an argument's range)
            got = _run(tg, kind, name, values, dtype, False, "error")[:1]
            _same(got, want, rtol=1e-5 if dtype is np.float32 else 1e-9)


def test_the_reported_programs_raise_nothing_under_simplefilter_error():
    code = ("import warnings, numpy as np, tapegrad as tg\n"
            "warnings.simplefilter('error')\n"
            "assert tg.log(tg.tensor([0.0])).item() == -np.inf\n"
            "x = tg.tensor([1.0], requires_grad=True)\n"
            "(x / tg.tensor([0.0])).sum().backward(); assert x.grad.item() == np.inf\n"
            "y = tg.tensor([3e38], dtype=tg.float32, requires_grad=True)\n"
            "(y * 10).sum().backward(); assert y.grad.item() == 10\n"
            "z = tg.tensor([0.0, 1.0], requires_grad=True)\n"
            "tg.log(z).sum().backward(); assert z.grad.tolist() == [np.inf, 1.0]\n"
            "print(tg.tensor([1e308, 1e-320]))\n"
            "try:\n    np.log(np.zeros(1))\nexcept RuntimeWarning:\n    print('user warns')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("user warns") and "Warning" not in done.stderr


def test_without_a_filter_of_the_users_the_backward_sets_no_error_state():
    # the import-time filter still first: it ignores the backward's IEEE warnings, so the
    # sweep skips the error state (its ~1 us); the results and the silence are the same
    code = ("import numpy as np, tapegrad as tg\n"
            "from tapegrad import _float_warnings as fw\n"
            "assert fw.begin_quiet() is None\n"
            "x = tg.tensor([0.0, 1.0], requires_grad=True)\n"
            "(tg.log(x) + 1 / x).sum().backward()\n"
            "assert x.grad.tolist()[1] == 0.0 and np.isnan(x.grad.tolist()[0])\n"
            "import warnings; warnings.simplefilter('error')\n"
            "assert fw.begin_quiet() is not None\n")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and not done.stderr, done.stderr


def test_user_code_inside_a_backward_warns_as_outside():
    # a hook and a custom Function's backward are the user's code: NumPy's warnings there
    # follow the user's filters, while tapegrad's own arrays in the same backward do not warn
    class Log(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * tg.tensor(np.log(x.detach().numpy()))  # the user's own NumPy call

    x = tg.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match="divide by zero encountered in log"):
            Log.apply(x).sum().backward()
        y = tg.tensor([0.0, 2.0], requires_grad=True)
        seen = []
        t = tg.log(y)
        t.register_hook(lambda g: seen.append(np.log(g.numpy() * 0.0)))
        with pytest.raises(RuntimeWarning, match="divide by zero"):
            t.sum().backward()
        z = tg.tensor([0.0, 2.0], requires_grad=True)
        tg.log(z).sum().backward()  # tapegrad's own: 1/0 silently
    assert z.grad.tolist() == [np.inf, 0.5]
    assert np.geterr()["divide"] == "warn"  # the error state outside is the user's again
    # a user's own NumPy error state (not the default): given back to the hook as it was
    w, v = tg.tensor([0.0, 2.0], requires_grad=True), tg.tensor([0.0, 2.0], requires_grad=True)
    u, lv = tg.log(w), tg.log(v)
    u.register_hook(lambda g: np.log(g.numpy() * 0.0))
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError, match="divide by zero"):
            u.sum().backward()
        lv.sum().backward()  # (the backward's own 1 / 0: inf)
        assert v.grad.tolist() == [np.inf, 0.5] and np.geterr()["divide"] == "raise"


WRITES = {"copy_": lambda y: y.copy_(tg.tensor([1e308, 1.0, -1e308])),
          "setitem_slice": lambda y: y.__setitem__(slice(1, None), tg.tensor([-1e308, 2.0])),
          "setitem_index": lambda y: y.__setitem__(tg.tensor([2, 0]), tg.tensor([1e308, 5.0])),
          "add_": lambda y: y.add_(tg.tensor([1e308, 1.0, np.inf]))}


@pytest.mark.parametrize("name", list(WRITES))
@pytest.mark.parametrize("action", ["error", "always"])
def test_float64_values_written_into_float32_are_inf_under_any_filter(name, action):
    # a float64 tensor's values past float32's range written into a float32 tensor: inf,
    # silently (the cast NumPy warns of; a Python number past the range raises PyTorch's
    # "value cannot be converted to type float without overflow": tests/test_fill_overflow.py)
    def written(action):
        y = tg.ones(3, dtype=tg.float32)
        with warnings.catch_warnings(record=True) as log:
            warnings.simplefilter(action, RuntimeWarning)
            WRITES[name](y)
        return y.numpy(), [str(w.message) for w in log]

    want, _ = written("ignore")
    got, shown = written(action)
    np.testing.assert_array_equal(got, want)
    assert np.isinf(want).any() and not shown
