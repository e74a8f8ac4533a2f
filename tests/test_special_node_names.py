"""grad_fn names of the special functions tapegrad computes as one node (an autograd Function):
PyTorch's (``ErfinvBackward0``, ``DigammaBackward0``, ``SpecialI0EBackward0``...), not the
internal class names (``ScipyValuedBackward``, ``PolygammaBackward`` for digamma); values and
gradients unchanged."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.array([0.3, 0.6, 0.85])

CALLS = {
    "erfinv": lambda L, x: L.special.erfinv(x), "Tensor.erfinv": lambda L, x: x.erfinv(),
    "gammaln": lambda L, x: L.special.gammaln(x), "lgamma": lambda L, x: L.lgamma(x),
    "digamma": lambda L, x: L.special.digamma(x), "psi": lambda L, x: L.special.psi(x),
    "Tensor.digamma": lambda L, x: x.digamma(),
    "polygamma 0": lambda L, x: L.special.polygamma(0, x),
    "polygamma 2": lambda L, x: L.polygamma(2, x),
    "erfcx": lambda L, x: L.special.erfcx(x), "ndtri": lambda L, x: L.special.ndtri(x),
    "log_ndtr": lambda L, x: L.special.log_ndtr(x), "entr": lambda L, x: L.special.entr(x),
    "i0": lambda L, x: L.special.i0(x), "tg.i0": lambda L, x: L.i0(x),
    "i0e": lambda L, x: L.special.i0e(x), "i1": lambda L, x: L.special.i1(x),
    "i1e": lambda L, x: L.special.i1e(x),
    "zeta": lambda L, x: L.special.zeta(x.detach() + 2, x),
    "gammainc": lambda L, x: L.special.gammainc(x.detach() + 1, x),
    "gammaincc": lambda L, x: L.special.gammaincc(x.detach() + 1, x),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_node_name_value_and_gradient_as_torch(call):
    got = []
    for lib in (tg, torch):
        x = lib.tensor(X, requires_grad=True)
        y = CALLS[call](lib, x)
        name = y.grad_fn.name()
        y.sum().backward()
        got.append((name, y.detach().numpy(), x.grad.numpy()))
    (name, y, g), (t_name, t_y, t_g) = got
    assert name == t_name
    np.testing.assert_allclose(y, t_y, rtol=1e-12)
    np.testing.assert_allclose(g, t_g, rtol=1e-8)  # (PyTorch's trigamma is off by ~5e-10)


def test_digamma_node_differentiates_to_higher_orders():
    x = tg.tensor(X, requires_grad=True)
    assert tg.autograd.gradcheck(tg.special.digamma, (x,))
    assert tg.autograd.gradgradcheck(tg.special.digamma, (x,))
    names = []
    for lib in (tg, torch):
        t = lib.tensor(X, requires_grad=True)
        g, = lib.autograd.grad(lib.special.digamma(t).sum(), t, create_graph=True)
        names.append([g.grad_fn.name()] + [f.name() for f, _ in g.grad_fn.next_functions if f])
    assert names[0] == names[1]  # (grad * polygamma(1, x): MulBackward0 of PolygammaBackward0)
