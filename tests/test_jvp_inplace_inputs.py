"""An input of ``jvp``/``jacfwd``/``linearize`` changed in place inside the function
(``x.mul_(2)``, ``x[0] = v``) carries the changed tangent, as PyTorch's dual inputs do: with
grad mode on it raised "a leaf Variable that requires grad is being used in an in-place
operation", and under ``no_grad`` its tangent stayed the one given (``t`` where ``2 t`` is
right). The caller's tensor is changed too, as PyTorch's."""

import numpy as np
import pytest

import tapegrad as tg


def _nograd(L, fn):
    with L.no_grad():
        fn()


# fn(lib) -> (f with in-place writes into its inputs, the same f written without them)
CASES = {
    "mul_": lambda L: (lambda x, y: (x.mul_(2), x * y)[1], lambda x, y: 2 * x * y),
    "mul_no_grad": lambda L: (lambda x, y: (_nograd(L, lambda: x.mul_(2)), x * y)[1],
                              lambda x, y: 2 * x * y),
    "setitem": lambda L: (lambda x, y: (x.__setitem__(0, y[1] * 3), x.sin() + y)[1],
                          lambda x, y: L.cat([y[1:2] * 3, x[1:]]).sin() + y),
    "add_into_other": lambda L: (lambda x, y: (y.add_(x * x), y.exp())[1],
                                 lambda x, y: (y + x * x).exp()),
    "write_through_view": lambda L: (lambda x, y: (x[1:].mul_(y[:2]), x)[1],
                                     lambda x, y: L.cat([x[:1], x[1:] * y[:2]])),
    "returns_the_input": lambda L: (lambda x, y: (x.mul_(y), x)[1], lambda x, y: x * y),
}
P, Q = [1.0, 2.0, 3.0], [0.5, -1.0, 2.0]
TP, TQ = [1.0, 0.5, -2.0], [0.3, 1.0, 1.0]


def _run(L, f, kind):
    p, q = L.tensor(P, dtype=L.float64), L.tensor(Q, dtype=L.float64)
    tp, tq = L.tensor(TP, dtype=L.float64), L.tensor(TQ, dtype=L.float64)
    if kind == "jvp":
        out = L.func.jvp(f, (p, q), (tp, tq))
    elif kind == "jacfwd":
        out = L.func.jacfwd(f, argnums=(0, 1))(p, q)
    else:
        o, jfn = L.func.linearize(f, p, q)
        out = (o, jfn(tp, tq))
    return [t.numpy() for t in out] + [p.numpy(), q.numpy()]


@pytest.mark.parametrize("kind", ["jvp", "jacfwd", "linearize"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_tangent_of_an_input_changed_in_place(name, kind):
    inplace, pure = CASES[name](tg)
    got = _run(tg, inplace, kind)
    want = _run(tg, pure, kind)
    for g, w in zip(got[:-2], want[:-2]):
        np.testing.assert_allclose(g, w, rtol=1e-12)
    if kind == "linearize":  # (PyTorch's linearize runs the function more than once)
        return
    torch = pytest.importorskip("torch")
    for g, w in zip(got, _run(torch, CASES[name](torch)[0], kind)):
        np.testing.assert_allclose(g, w, rtol=1e-12)
