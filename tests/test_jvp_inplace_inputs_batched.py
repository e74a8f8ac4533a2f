"""An input changed in place inside jvp/jacfwd's function carries the changed tangent also
where the transform takes the double-vjp path: under vmap, with a primal that requires grad,
with a tangent that requires grad."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.func import jacfwd, jvp, vmap

X = np.array([[0.5, 1.0, 2.0], [-1.0, 0.25, 3.0]])


def f_inplace(y):
    y.mul_(2)
    return y.sin() * y


def f_plain(y):
    y = y * 2
    return y.sin() * y


def _cases(fn, L=tg, F=(jvp, jacfwd, vmap)):
    jvp_, jacfwd_, vmap_ = F
    def t():  # (a fresh one each time: PyTorch's in-place ops also scale the tangent given)
        return L.ones(2, 3, dtype=L.float64)

    return [
        lambda: vmap_(lambda a, b: jvp_(fn, (a,), (b,))[1])(L.tensor(X), t()),
        lambda: jvp_(fn, (L.tensor(X, requires_grad=True) * 1,), (t(),))[1],
        lambda: jvp_(fn, (L.tensor(X),), (t().requires_grad_() * 1,))[1],
        lambda: vmap_(jacfwd_(fn))(L.tensor(X)),
        lambda: jacfwd_(fn)(L.tensor(X[0], requires_grad=True) * 1),
    ]


@pytest.mark.parametrize("case", range(5))
def test_same_as_without_inplace(case):
    got = _cases(f_inplace)[case]().detach().numpy()
    want = _cases(f_plain)[case]().detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_vmap_jvp_changes_the_primal_as_torch():
    x = tg.tensor(X)
    vmap(lambda a: jvp(f_inplace, (a,), (tg.ones_like(a),))[1])(x)
    np.testing.assert_allclose(x.numpy(), 2 * X)


@pytest.mark.parametrize("case", range(5))
def test_same_as_torch(case):
    torch = pytest.importorskip("torch")
    from torch import func as F

    got = _cases(f_inplace)[case]().detach().numpy()
    want = _cases(f_inplace, torch, (F.jvp, F.jacfwd, F.vmap))[case]().detach().numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
