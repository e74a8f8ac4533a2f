"""Pickling tensors (value, dtype, requires_grad; never history or .grad) and gradients computed
in worker processes."""

import copy
import multiprocessing
import pickle

import numpy as np
import pytest

import tapegrad as tg


def _roundtrip(t):
    return pickle.loads(pickle.dumps(t))


@pytest.mark.parametrize("value", [2.5, [1.0, 2.0], [[1, 2], [3, 4]], [True, False]])
@pytest.mark.parametrize("dtype", [None, np.float32])
def test_value_and_dtype_survive(value, dtype):
    t = tg.tensor(value, dtype=dtype)
    u = _roundtrip(t)
    assert u.dtype == t.dtype and u.shape == t.shape
    np.testing.assert_array_equal(u.numpy(), t.numpy())
    assert not u.requires_grad and u.is_leaf


def test_leaf_keeps_requires_grad_not_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    u = _roundtrip(x)
    assert u.requires_grad and u.is_leaf and u.grad is None  # PyTorch drops .grad too
    (u * 3.0).sum().backward()
    np.testing.assert_array_equal(u.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


def test_non_leaf_unpickles_as_a_leaf_that_requires_grad():
    """As PyTorch: history is not pickled; the copy is a leaf with requires_grad=True."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    u = _roundtrip(y)
    assert u.is_leaf and u.requires_grad and u.grad_fn is None
    np.testing.assert_array_equal(u.detach().numpy(), [2.0, 4.0])
    (u * u).sum().backward()
    np.testing.assert_array_equal(u.grad.numpy(), [4.0, 8.0])
    assert x.grad is None  # nothing flowed back into the original graph


def test_views_and_strided_values_pickle_their_own_data():
    base = tg.tensor(np.arange(12.0).reshape(3, 4))
    view = base.T[::-1]
    u = _roundtrip(view)
    np.testing.assert_array_equal(u.numpy(), view.numpy())
    base.numpy()[0, 0] = 100.0
    assert u.numpy()[-1, 0] == 0.0  # not shared with the original storage


def test_copy_and_deepcopy_of_a_leaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    for u in (copy.deepcopy(x), copy.copy(x)):
        assert u.requires_grad and u.is_leaf
        np.testing.assert_array_equal(u.detach().numpy(), [1.0, 2.0])


def test_torch_agrees_on_what_pickling_keeps(torch):
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    tu = pickle.loads(pickle.dumps(t * 2))
    u = _roundtrip(tg.tensor([1.0, 2.0], requires_grad=True) * 2)
    assert (u.requires_grad, u.is_leaf, u.grad_fn is None) == (tu.requires_grad, tu.is_leaf,
                                                               tu.grad_fn is None)


def _grad_at(x):
    """Runs in a worker: the gradient of a small function at a pickled leaf."""
    y = (tg.sin(x) * x).sum() + (x @ x)
    y.backward()
    return x.grad, y.detach()


def test_gradients_in_a_process_pool():
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    points = [tg.tensor(np.linspace(-1, 1, 4) + k, requires_grad=True) for k in range(4)]
    with ctx.Pool(2) as pool:
        results = pool.map(_grad_at, points)
    for p, (g, y) in zip(points, results):
        v = p.detach().numpy()
        np.testing.assert_allclose(g.numpy(), np.cos(v) * v + np.sin(v) + 2 * v, rtol=1e-14)
        assert y.item() == pytest.approx(float(np.sum(np.sin(v) * v) + v @ v), rel=1e-14)
        assert p.grad is None  # the workers' gradients stay in the workers


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_lbfgs_with_its_model_continues_after_a_copy(how):
    """Sent to a Dask worker (one pickle with its model) or deep-copied, LBFGS keeps stepping
    exactly as the original does."""
    rng = np.random.default_rng(0)
    X, y = tg.tensor(rng.standard_normal((8, 3))), tg.tensor(rng.standard_normal((8, 1)))
    tg.manual_seed(0)
    model = tg.nn.Linear(3, 1)
    opt = tg.optim.LBFGS(model.parameters(), lr=0.5, max_iter=3, history_size=4)

    def step(m, o):
        def closure():
            o.zero_grad()
            loss = ((m(X) - y) ** 2).mean()
            loss.backward()
            return loss
        return o.step(closure).item()

    step(model, opt)
    copy_of = {"pickle": lambda o: pickle.loads(pickle.dumps(o)), "deepcopy": copy.deepcopy}[how]
    model2, opt2 = copy_of((model, opt))
    for _ in range(2):
        assert step(model2, opt2) == step(model, opt)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_parametrized_module_refuses_pickle_as_torch_does_and_deepcopies(torch):
    from tapegrad.nn.utils import parametrizations

    m = parametrizations.weight_norm(tg.nn.Linear(4, 3))
    tm = torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3))
    with pytest.raises(RuntimeError) as expected:
        pickle.dumps(tm)
    with pytest.raises(RuntimeError) as got:
        pickle.dumps(m)
    assert str(got.value) == str(expected.value)
    m2 = copy.deepcopy(m)
    x = tg.randn(2, 4)
    np.testing.assert_array_equal(m2(x).detach().numpy(), m(x).detach().numpy())
    assert m2.parametrizations.weight.original0 is not m.parametrizations.weight.original0
    m3 = tg.nn.Linear(4, 3)
    parametrizations.weight_norm(m3).load_state_dict(_roundtrip(m.state_dict()))
    np.testing.assert_array_equal(m3(x).detach().numpy(), m(x).detach().numpy())
