"""jacfwd of a function reading a tensor that requires grad from outside (a weight it closes
over): its Jacobian stays differentiable in that tensor (values and their gradient against
torch.func), and the function runs twice, once recorded and once batched (it ran three times;
torch.func's once: docs/differences_from_pytorch.md)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

FUNCS = {
    "sin_scaled": lambda m, x, w: (x * w).sin() * x.sum(),
    "matvec_tanh": lambda m, x, w: m.tanh(w.reshape(2, 2) @ x[:2]) + x[2:] ** 2,
    "scalar_out": lambda m, x, w: (x.exp() * w.sum()).sum(),
    "tuple_out": lambda m, x, w: (x * w[0], (x[1:] * w[1:]).cumsum(0)),
    "softmax": lambda m, x, w: m.softmax(x * w.mean(), 0),
}


@pytest.mark.parametrize("argnums", [0, (0, 1)])
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_jacfwd_reading_an_outer_tensor_as_torch(name, argnums):
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    xv, yv, wv = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)

    def run(m):
        w = m.tensor(wv, requires_grad=True)
        calls = [0]

        def f(x, y):
            calls[0] += 1
            return FUNCS[name](m, x * y.cos(), w)

        jac = m.func.jacfwd(f, argnums=argnums)(m.tensor(xv), m.tensor(yv))
        leaves = []
        stack = [jac]
        while stack:
            t = stack.pop(0)
            if isinstance(t, (tuple, list)):
                stack[:0] = list(t)
            else:
                leaves.append(t)
        assert all(t.requires_grad for t in leaves)
        total = sum((t * (1.0 + m.arange(t.numel(), dtype=m.float64).reshape(t.shape))).sum()
                    for t in leaves)
        (gw,) = m.autograd.grad(total, w)
        return calls[0], [t.detach().numpy() for t in leaves], gw.numpy()

    (c1, j1, g1), (c2, j2, g2) = run(tg), run(torch)
    assert (c1, c2) == (2, 1)
    assert len(j1) == len(j2)
    for a, b in zip(j1, j2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g1, g2, rtol=1e-11, atol=1e-13)
