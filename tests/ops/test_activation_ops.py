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
