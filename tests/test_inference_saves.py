"""Product ops between an inference tensor that requires grad and a normal tensor, outside
inference mode, against PyTorch: mul, div and the matrix products save an operand only for
the other operand's gradient, so ``n * m``, ``m @ n``, ``n / m`` record (the inference
tensor's gradient reads only ``m``) while ``n * a`` with ``a`` requiring grad, or ``m / n``,
refuse to save ``n``."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SHAPES = {"mat": (3, 3), "vec": (3,), "row": (1, 3), "scalar": ()}

CASES = {
    "n*m": lambda L, n, m, a: n * m,
    "m*n": lambda L, n, m, a: m * n,
    "mul(n,m)": lambda L, n, m, a: L.mul(n, m),
    "n/m": lambda L, n, m, a: n / m,
    "m/n": lambda L, n, m, a: m / n,
    "n*a": lambda L, n, m, a: n * a,
    "a*n": lambda L, n, m, a: a * n,
    "a/n": lambda L, n, m, a: a / n,
    "n/a": lambda L, n, m, a: n / a,
    "n*n": lambda L, n, m, a: n * n,
    "n*m*a": lambda L, n, m, a: n * m * a,
}
MATRIX = {
    "n@m": lambda L, n, m, a: n @ m,
    "m@n": lambda L, n, m, a: m @ n,
    "n@m[0]": lambda L, n, m, a: n @ m[0],
    "m@n[0]": lambda L, n, m, a: m @ n[0],
    "dot": lambda L, n, m, a: L.dot(n[0], m[1]),
    "mm": lambda L, n, m, a: L.mm(m, n),
    "linear": lambda L, n, m, a: L.nn.functional.linear(m, n),
    "linear_w": lambda L, n, m, a: L.nn.functional.linear(n, m),
    "n@a": lambda L, n, m, a: n @ a,
    "a@n": lambda L, n, m, a: a @ n,
}


def _run(L, f, shape_n, shape_m):
    rng = np.random.default_rng(0)
    with L.inference_mode():
        n = L.tensor(rng.uniform(0.5, 2, shape_n), requires_grad=True)
    m = L.tensor(rng.uniform(0.5, 2, shape_m))
    a = L.tensor(rng.uniform(0.5, 2, shape_m), requires_grad=True)
    try:
        r = f(L, n, m, a)
    except RuntimeError as e:
        return ("raise", str(e))
    out = (r.detach().numpy().copy(), r.requires_grad, r.is_inference())
    if not r.requires_grad:
        return out
    r.sin().sum().backward()
    return out + tuple(None if t.grad is None else t.grad.numpy().copy() for t in (n, a))


def _compare(got, want):
    assert len(got) == len(want)
    if isinstance(want[0], str):
        assert got == want
        return
    for g, w in zip(got, want):
        if isinstance(w, np.ndarray):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
        else:
            assert g == w


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize("shapes", [("mat", "mat"), ("mat", "vec"), ("vec", "row"),
                                    ("scalar", "mat"), ("scalar", "scalar")])
def test_elementwise_products_save_as_pytorch(name, shapes):
    sn, sm = (SHAPES[s] for s in shapes)
    _compare(_run(tg, CASES[name], sn, sm), _run(torch, CASES[name], sn, sm))


@pytest.mark.parametrize("name", list(MATRIX))
def test_matrix_products_save_as_pytorch(name):
    _compare(_run(tg, MATRIX[name], (3, 3), (3, 3)), _run(torch, MATRIX[name], (3, 3), (3, 3)))


def test_recorded_product_gradient_is_the_normal_operand():
    # d/dn sum(n * m) = m, to float64 finite differences as well
    with tg.inference_mode():
        n = tg.tensor([0.5, 1.5, -2.0], requires_grad=True)
    m = tg.tensor([3.0, -1.0, 0.25])
    (g,) = tg.autograd.grad((n * m / m.exp()).sum(), n)
    np.testing.assert_allclose(g.numpy(), m.numpy() / np.exp(m.numpy()), rtol=1e-15)


MV_FORMS = {
    "n@n[0]": lambda L, n, v, n0: n @ n[0],
    "n@v": lambda L, n, v, n0: n @ v,
    "n0@v": lambda L, n, v, n0: n0 @ v,
    "n@n0[0]": lambda L, n, v, n0: n @ n0[0],
    "mv": lambda L, n, v, n0: L.mv(n, n0[1]),
    "Tensor.mv": lambda L, n, v, n0: n.mv(v),
    "v@n": lambda L, n, v, n0: v @ n,
    "n@n": lambda L, n, v, n0: n @ n,
    "n0@n0[0]": lambda L, n, v, n0: n0 @ n0[0],
    "dot": lambda L, n, v, n0: v @ v,
}


@pytest.mark.parametrize("name", list(MV_FORMS))
@pytest.mark.parametrize("mode", ["grad", "no_grad", "inside"])
def test_inference_only_matrix_vector_products_as_pytorch(name, mode):
    # PyTorch refuses mv of inference tensors only (one requiring grad), outside the mode and
    # with grad on, while mm, vector-matrix and dot products of them record nothing
    def run(L):
        rng = np.random.default_rng(1)
        with L.inference_mode():
            n = L.tensor(rng.uniform(size=(3, 3)), requires_grad=True)
            v = L.tensor(rng.uniform(size=3), requires_grad=True)
            n0 = L.tensor(rng.uniform(size=(3, 3)))
        ctx = L.no_grad() if mode == "no_grad" else L.inference_mode() if mode == "inside" \
            else L.enable_grad()
        try:
            with ctx:
                r = MV_FORMS[name](L, n, v, n0)
        except RuntimeError as e:
            return str(e)
        return r.detach().numpy().round(12).tolist(), r.requires_grad, r.is_inference()

    assert run(tg) == run(torch)
