"""``leaky_relu``, ``hardtanh`` (``relu6``) and ``elu`` of CPU real float tensors are one record
each (``ops/activations.py``): PyTorch's values and gradients, special values included, at sizes
the compiled sweep handles and at sizes its formula loops do; the composition elsewhere (under
``tg.compile``'s tracer and vmap), with the same numbers."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

F = tg.nn.functional
ACTS = {"leaky_relu": (lambda L, x: L.nn.functional.leaky_relu(x, 0.15), "LeakyReluBackward0"),
        "hardtanh": (lambda L, x: L.nn.functional.hardtanh(x, -0.7, 1.2), "HardtanhBackward0"),
        "relu6": (lambda L, x: L.nn.functional.relu6(x * 4.0), "HardtanhBackward0"),
        "elu": (lambda L, x: L.nn.functional.elu(x, 1.3), "EluBackward0")}


def _data(n, dtype):
    r = np.random.default_rng(n)
    x = r.standard_normal(n) * 2
    x[:8] = [0.0, -0.0, -0.7, 1.2, np.inf, -np.inf, 1.5, -1e-300]
    return x.astype(dtype), r.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [9, 20000])
@pytest.mark.parametrize("name", sorted(ACTS))
def test_one_record_with_pytorchs_values_and_gradients(name, n, dtype):
    f, node = ACTS[name]
    x0, w = _data(n, dtype)
    x = tg.tensor(x0, requires_grad=True)
    y = f(tg, x)
    assert type(y.grad_fn).__name__ == node
    with np.errstate(invalid="ignore"):  # (inf - inf in the weighted sum)
        (y * tg.tensor(w)).sum().backward()
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    yt = f(torch, xt)
    (yt * torch.tensor(w)).sum().backward()
    if name == "elu":  # (NumPy's expm1 and exp, not PyTorch's: an ulp apart here and there)
        tol = dict(rtol=4e-16, atol=1e-300) if dtype == np.float64 else dict(rtol=5e-7, atol=0)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)
        return
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("name", sorted(ACTS))
def test_nan_and_scalars(name):
    f, _ = ACTS[name]
    for n in (9, 20000):  # a NaN input: NaN out; leaky_relu's slope, hardtanh's 0, elu's g
        x0 = np.full(n, np.nan)
        x = tg.tensor(x0, requires_grad=True)
        y = f(tg, x)
        assert np.isnan(y.detach().numpy()).all()
        y.sum().backward()
        want = {"leaky_relu": 0.15, "elu": 1.0}.get(name, 0.0)
        np.testing.assert_array_equal(x.grad.numpy(), np.full(n, want))
    for v in (-2.0, -0.5, 0.3, 5.0):
        s = tg.tensor(v, requires_grad=True)
        y = f(tg, s)
        y.backward()
        a = tg.tensor(np.array([v]), requires_grad=True)
        f(tg, a).sum().backward()
        assert y.item() == f(tg, tg.tensor(np.array([v]))).item()
        assert s.grad.item() == a.grad.item()


def test_composition_under_compile_and_vmap_gives_the_same_numbers():
    x0, w = _data(50, np.float64)
    x0 = x0[6:]  # (finite values)

    def step(x):
        return (F.leaky_relu(x, 0.15) * x).sum()

    x = tg.tensor(x0, requires_grad=True)
    step(x).backward()
    eager = x.grad.numpy().copy()
    compiled = tg.compile(lambda a: tg.autograd.grad(step(a), a)[0])
    xc = tg.tensor(x0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # traced and replayed, not run eagerly
        for _ in range(2):
            np.testing.assert_array_equal(compiled(xc).numpy(), eager)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batched as the composition: no loop per example
        rows = tg.func.vmap(lambda r: F.leaky_relu(r, 0.15))(tg.tensor(x0.reshape(4, 11)))
    np.testing.assert_array_equal(rows.numpy(), F.leaky_relu(tg.tensor(x0), 0.15).numpy()
                                  .reshape(4, 11))
    assert tg.autograd.gradgradcheck(lambda a: F.leaky_relu(a, 0.3) * a,
                                     (tg.tensor(x0[8:20], requires_grad=True),))


SMOOTH = {
    "logsigmoid": (lambda L, x: L.nn.functional.logsigmoid(x), "LogSigmoidBackward0"),
    "softplus": (lambda L, x: L.nn.functional.softplus(x), "SoftplusBackward0"),
    "softplus_beta": (lambda L, x: L.nn.functional.softplus(x, beta=1.7, threshold=6.0),
                      "SoftplusBackward0"),
    "silu": (lambda L, x: L.nn.functional.silu(x), "SiluBackward0"),
    "gelu": (lambda L, x: L.nn.functional.gelu(x), "GeluBackward0"),
    "gelu_tanh": (lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), "GeluBackward0"),
}


def _smooth_data(n, dtype):
    r = np.random.default_rng(n)
    x = r.standard_normal(n) * 4
    x[:9] = [0.0, -0.0, 3.5, -3.0, 30.0, -30.0, np.inf, -np.inf, np.nan]
    return x.astype(dtype), r.standard_normal(n).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [9, 20000])
@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_activation_is_one_record_with_pytorchs_numbers(name, n, dtype):
    """Values and gradients (compiled sweep at 9 elements, NumPy formulas at 20000) against
    PyTorch in float64 on the same inputs, special values included: the reference for float32
    too, whose PyTorch loops lose digits where ``1 + erf`` or ``1 + tanh`` cancels."""
    torch = pytest.importorskip("torch")
    f, node = SMOOTH[name]
    x0, w = _smooth_data(n, dtype)
    x = tg.tensor(x0, requires_grad=True)
    y = f(tg, x)
    assert type(y.grad_fn).__name__ == node and y.dtype == x.dtype
    with np.errstate(invalid="ignore"):
        (y * tg.tensor(w)).sum().backward()
    xt = torch.tensor(x0.astype(np.float64), requires_grad=True)
    yt = f(torch, xt)
    (yt * torch.tensor(w.astype(np.float64))).sum().backward()
    # (float32: the formulas' own cancellation, as in PyTorch's float32 loops: tanh-gelu's
    # gradient is ~3e-6 off the float64 one in both at 20000 elements)
    tol = dict(rtol=1e-13, atol=1e-13) if dtype == np.float64 else dict(rtol=2e-6, atol=5e-6)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)
    assert x.grad.dtype == x.dtype


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_activation_second_derivatives(name):
    """Finite differences at first and second order (a 0-d value takes the Python-float path),
    and PyTorch's second derivatives through the re-taped formula."""
    f, _ = SMOOTH[name]
    x0 = np.random.default_rng(3).standard_normal(12) * 3
    x0[:2] = [0.0, 7.5]  # (softplus_beta's threshold lies between them)
    x = tg.tensor(x0, requires_grad=True)
    assert tg.autograd.gradcheck(lambda a: f(tg, a), (x,))
    assert tg.autograd.gradgradcheck(lambda a: f(tg, a), (x,))
    assert tg.autograd.gradgradcheck(lambda a: f(tg, a), (tg.tensor(-0.8, requires_grad=True),))
    (g,) = tg.autograd.grad(f(tg, x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad((g * g).sum(), x)
    torch = pytest.importorskip("torch")
    xt = torch.tensor(x0, requires_grad=True)
    (gt,) = torch.autograd.grad(f(torch, xt).sum(), xt, create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
    np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_smooth_activation_of_scalars_matches_arrays(name):
    """The Python-float forward (0-d tensors) against the array forward, overflowing ranges too."""
    f, _ = SMOOTH[name]
    for v in (-800.0, -40.0, -2.5, -1e-8, 0.0, 0.3, 5.0, 40.0, 800.0):
        s = tg.tensor(v, requires_grad=True)
        y = f(tg, s)
        y.backward()
        a = tg.tensor(np.array([v]), requires_grad=True)
        with np.errstate(all="ignore"):
            ya = f(tg, a)
            ya.sum().backward()
        np.testing.assert_allclose(y.item(), ya.item(), rtol=1e-15, atol=0)
        np.testing.assert_allclose(s.grad.item(), a.grad.item(), rtol=1e-15, atol=0)
    big = tg.tensor(800.0, requires_grad=True)  # exp(800) overflows: log1p(exp) is inf, as C's
    assert tg.nn.functional.softplus(big, threshold=1000.0).item() == np.inf


def test_smooth_compositions_under_compile_and_vmap_give_the_same_numbers():
    x0, _ = _smooth_data(50, np.float64)
    x0 = x0[9:]

    def step(x):
        return (F.silu(x) * F.softplus(x, beta=2.0) + F.gelu(x, approximate="tanh")
                - F.logsigmoid(x)).sum()

    x = tg.tensor(x0, requires_grad=True)
    step(x).backward()
    eager = x.grad.numpy().copy()
    compiled = tg.compile(lambda a: tg.autograd.grad(step(a), a)[0])
    xc = tg.tensor(x0, requires_grad=True)
    for _ in range(2):
        np.testing.assert_allclose(compiled(xc).numpy(), eager, rtol=1e-13, atol=1e-15)
    rows = tg.func.vmap(lambda r: F.gelu(r, approximate="tanh"))(tg.tensor(x0.reshape(-1, 1)))
    np.testing.assert_allclose(rows.numpy().reshape(-1),
                               F.gelu(tg.tensor(x0), approximate="tanh").numpy(), rtol=1e-15,
                               atol=1e-300)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [9, 20000])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_is_one_record_with_pytorchs_numbers(reduction, n, dtype):
    """``binary_cross_entropy_with_logits`` without weights: one elementwise record (then the
    reduction), gradients for logits and targets as PyTorch's, special logits included."""
    torch = pytest.importorskip("torch")
    x0, _ = _smooth_data(n, dtype)
    r = np.random.default_rng(n + 1)
    y0 = r.random(n).astype(dtype)
    w = r.standard_normal(n).astype(dtype)
    x, y = tg.tensor(x0, requires_grad=True), tg.tensor(y0, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction=reduction)
    # one node, as PyTorch's, whatever the reduction
    assert type(loss.grad_fn).__name__ == "BinaryCrossEntropyWithLogitsBackward0"
    with np.errstate(invalid="ignore"):
        (loss * tg.tensor(w) if reduction == "none" else loss).sum().backward()
    xt = torch.tensor(x0.astype(np.float64), requires_grad=True)
    yt = torch.tensor(y0.astype(np.float64), requires_grad=True)
    lt = torch.nn.functional.binary_cross_entropy_with_logits(xt, yt, reduction=reduction)
    (lt * torch.tensor(w.astype(np.float64)) if reduction == "none" else lt).sum().backward()
    tol = dict(rtol=1e-13, atol=1e-13) if dtype == np.float64 else dict(rtol=2e-6, atol=5e-6)
    np.testing.assert_allclose(loss.detach().numpy(), lt.detach().numpy(), **tol)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **tol)
    np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), **tol)


def test_bce_with_logits_second_derivatives_and_weighted_composition():
    r = np.random.default_rng(11)
    x0, y0 = r.standard_normal(10) * 3, r.random(10)
    f = lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none")  # noqa: E731
    x, y = tg.tensor(x0, requires_grad=True), tg.tensor(y0, requires_grad=True)
    assert tg.autograd.gradcheck(f, (x, y)) and tg.autograd.gradgradcheck(f, (x, y))
    torch = pytest.importorskip("torch")
    wt = r.random(10)
    for kw in (dict(), dict(weight=wt), dict(pos_weight=wt + 0.5)):
        tk = {k: torch.tensor(v) for k, v in kw.items()}
        gk = {k: tg.tensor(v) for k, v in kw.items()}
        x, y = tg.tensor(x0, requires_grad=True), tg.tensor(y0, requires_grad=True)
        (g,) = tg.autograd.grad(F.binary_cross_entropy_with_logits(x, y, **gk), x,
                                create_graph=True)
        (h,) = tg.autograd.grad((g * g).sum(), x)
        xt = torch.tensor(x0, requires_grad=True)
        (gt,) = torch.autograd.grad(torch.nn.functional.binary_cross_entropy_with_logits(
            xt, torch.tensor(y0), **tk), xt, create_graph=True)
        (ht,) = torch.autograd.grad((gt * gt).sum(), xt)
        np.testing.assert_allclose(g.detach().numpy(), gt.detach().numpy(), rtol=1e-13)
        np.testing.assert_allclose(h.numpy(), ht.numpy(), rtol=1e-12, atol=1e-18)
