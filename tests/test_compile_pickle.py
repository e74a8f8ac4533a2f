"""A ``tg.compile``d function or module pickles (a Dask task's argument): what travels is the
function and its options; the programs are traced again where it runs."""

from copy import deepcopy
import pickle

import numpy as np
import pytest

import tapegrad as tg


def _loss(w, x):
    return ((x @ w).tanh() ** 2).sum()


@tg.compile
def _step(w, x):
    loss = _loss(w, x)
    loss.backward()
    return loss


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 3)), rng.standard_normal((5, 4))


def test_compiled_function_pickles_and_computes_the_same():
    W, X = _data()
    compiled = tg.compile(_loss)
    w = tg.tensor(W, requires_grad=True)
    for _ in range(2):  # traced, then replayed
        compiled(w, tg.tensor(X)).backward()
    copy = pickle.loads(pickle.dumps(compiled))
    assert copy is not compiled and copy.fn is _loss
    w2 = tg.tensor(W, requires_grad=True)
    for _ in range(2):
        copy(w2, tg.tensor(X)).backward()
    np.testing.assert_array_equal(w2.grad.numpy(), w.grad.numpy())


def test_decorated_module_level_function_pickles_by_name():
    assert pickle.loads(pickle.dumps(_step)) is _step
    W, X = _data()
    w = tg.tensor(W, requires_grad=True)
    pickle.loads(pickle.dumps(_step))(w, tg.tensor(X))
    ref = tg.tensor(W, requires_grad=True)
    _loss(ref, tg.tensor(X)).backward()
    np.testing.assert_allclose(w.grad.numpy(), ref.grad.numpy(), rtol=1e-14)


def test_compiled_module_and_a_function_sent_by_value():
    model = tg.nn.Linear(3, 2)
    compiled = tg.compile(model)
    x = tg.randn(4, 3)
    compiled(x)
    copy = pickle.loads(pickle.dumps(compiled))
    np.testing.assert_array_equal(copy(x).detach().numpy(), model(x).detach().numpy())
    cloudpickle = pytest.importorskip("cloudpickle")

    def local(v):  # what Dask sends by value (defined in a function or in __main__)
        return (v * v).sum()

    again = cloudpickle.loads(cloudpickle.dumps(tg.compile(local)))
    assert again(tg.tensor([1.0, 2.0])).item() == 5.0


class _Net(tg.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = tg.nn.Linear(3, 2)

    @tg.compile
    def forward(self, x):
        return self.lin(x).tanh()


@pytest.mark.filterwarnings("error")
def test_module_with_a_compiled_method_pickles_after_a_call():
    """The instance keeps its compiled method; its copy must compile the copy's method, not
    wrap the compiled one again (which ran eagerly with a warning)."""
    net, x = _Net(), tg.randn(4, 3)
    net(x)
    for again in (pickle.loads(pickle.dumps(net)), deepcopy(net)):
        compiled = again.forward
        assert compiled.fn.__self__ is again and compiled.fn.__func__ is _Net.forward.fn
        for _ in range(2):
            y = again(x)
        np.testing.assert_array_equal(y.detach().numpy(), net(x).detach().numpy())
        assert compiled._count == 1  # traced once, then replayed
        y.sum().backward()
        ref = tg.nn.Linear(3, 2)
        ref.load_state_dict(net.lin.state_dict())
        ref(x).tanh().sum().backward()
        np.testing.assert_allclose(again.lin.weight.grad.numpy(), ref.weight.grad.numpy(),
                                   rtol=1e-6)
