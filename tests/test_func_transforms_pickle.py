"""Function transforms sent by value (Dask and cloudpickle send a function defined in
``__main__`` or in another function that way) work where they arrive."""

import numpy as np
import pytest

import tapegrad as tg

cloudpickle = pytest.importorskip("cloudpickle")


def _by_value(obj):
    return cloudpickle.loads(cloudpickle.dumps(obj))


def test_grad_family_and_jacobians_of_a_local_function_travel_by_value():
    def f(x):
        return (x.sin() * x).sum()

    x = tg.tensor([0.5, 1.0, -2.0])
    v = x.numpy()
    d = np.cos(v) * v + np.sin(v)
    np.testing.assert_allclose(_by_value(tg.func.grad(f))(x).numpy(), d)
    g, value = _by_value(tg.func.grad_and_value(f))(x)
    np.testing.assert_allclose(g.numpy(), d)
    assert value.item() == pytest.approx(float(np.sum(np.sin(v) * v)))
    np.testing.assert_allclose(_by_value(tg.func.jacfwd(tg.func.grad(f)))(x).numpy(),
                               np.diag(2 * np.cos(v) - v * np.sin(v)), rtol=1e-12)
    np.testing.assert_allclose(_by_value(tg.func.hessian(f))(x).numpy(),
                               np.diag(2 * np.cos(v) - v * np.sin(v)), rtol=1e-12)
    # the copy counts its nesting on this process's own per-thread state
    gg = _by_value(tg.func.grad(lambda t: tg.func.grad(f)(t).sum()))
    np.testing.assert_allclose(gg(x).numpy(), 2 * np.cos(v) - v * np.sin(v), rtol=1e-12)
    from tapegrad.func import transforms

    assert transforms._depth.n == 0


def test_vmap_of_a_local_function_travels_by_value():
    """vmap's wrapper must use this process's per-thread level, lock and running count (it
    could not be pickled: 'cannot pickle _State object' / '_thread.lock')."""
    from tapegrad.func import batched

    torch = pytest.importorskip("torch")
    def f(x):  # (a copy: it cannot report into a list here, so it checks where it runs)
        assert (batched._running[0], batched._state.level) == (1, 1)  # this process's vmap
        return (x.sin() * x).sum()

    xb = np.array([[0.5, 1.0], [2.0, 3.0], [-1.0, 0.25]])
    want = torch.func.vmap(torch.func.grad(lambda t: (t.sin() * t).sum()))(torch.tensor(xb))
    got = _by_value(tg.func.vmap(tg.func.grad(f)))(tg.tensor(xb))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)
    np.testing.assert_allclose(_by_value(tg.func.vmap(f))(tg.tensor(xb)).numpy(),
                               (np.sin(xb) * xb).sum(1), rtol=1e-12)
    assert batched._running[0] == 0 and batched._state.level == 0
