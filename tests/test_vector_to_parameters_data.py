"""nn.utils.vector_to_parameters sets each parameter's data to a slice of the vector, as
PyTorch's ``param.data = ...``: the parameters share the vector's memory, take its dtype and
keep their version; a graph recorded before keeps the values it saved (the tape's), and the
parameters stay leaves that train."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _outcome(L, dtype):
    lin = L.nn.Linear(3, 2).double()
    x = L.tensor(np.arange(6.0).reshape(2, 3))
    y = lin(x).sum()
    versions = [p._version for p in lin.parameters()]
    vec = L.tensor(np.linspace(-1, 1, 8), dtype=dtype)
    L.nn.utils.vector_to_parameters(vec, lin.parameters())
    after = [p._version for p in lin.parameters()]
    vec[0] = 5.0  # (shared memory: the weight sees it)
    y.backward()  # (the earlier graph: no in-place error)
    loss = lin(x.to(vec.dtype)).pow(2).sum()
    gw = L.autograd.grad(loss, lin.weight)[0]
    return (versions, after, str(lin.weight.dtype).split(".")[-1], lin.weight.is_leaf,
            lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy(),
            lin.weight.grad.numpy(), gw.numpy())


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_as_torch(dtype):
    got = _outcome(tg, getattr(tg, dtype))
    want = _outcome(torch, getattr(torch, dtype))
    assert got[:4] == want[:4]
    for a, b in zip(got[4:], want[4:]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_short_vector_and_gradcheck():
    lin = tg.nn.Linear(2, 2).double()
    with pytest.raises(RuntimeError, match=r"shape '\[2\]' is invalid for input of size 1"):
        tg.nn.utils.vector_to_parameters(tg.zeros(5, dtype=tg.float64), lin.parameters())
    vec = tg.tensor(np.linspace(0.1, 0.9, 6))
    tg.nn.utils.vector_to_parameters(vec, lin.parameters())
    x = tg.tensor(np.array([[0.3, -0.7]]), requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: lin(t).tanh(), (x,))
