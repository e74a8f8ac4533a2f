"""``copysign``/``fmod``/``remainder`` (and ``%``) with a number as the second operand record
PyTorch's node of its Scalar overload (``CopysignBackward1``, ``FmodBackward0``,
``RemainderBackward0``: the input alone in ``next_functions``); with a tensor, even 0-d, the
tensor overload's (``CopysignBackward0``, ``FmodBackward1``, ``RemainderBackward1``). The
gradients are unchanged."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

_CALLS = {
    "copysign num": lambda L, x, y: L.copysign(x, -1.5),
    "copysign int": lambda L, x, y: L.copysign(x, 2),
    "copysign np": lambda L, x, y: L.copysign(x, np.float64(-1.0)),
    "copysign method": lambda L, x, y: x.copysign(-1.0),
    "copysign tensor": lambda L, x, y: L.copysign(x, y),
    "copysign 0-d": lambda L, x, y: L.copysign(x, L.tensor(-1.0, dtype=x.dtype)),
    "fmod num": lambda L, x, y: L.fmod(x, 0.75),
    "fmod method": lambda L, x, y: x.fmod(2),
    "fmod tensor": lambda L, x, y: L.fmod(x, y),
    "remainder num": lambda L, x, y: L.remainder(x, -0.75),
    "remainder method": lambda L, x, y: x.remainder(2),
    "mod operator": lambda L, x, y: x % 0.75,
    "remainder tensor": lambda L, x, y: L.remainder(x, y),
    "mod tensors": lambda L, x, y: x % y,
}


def _run(L, call, dtype):
    rng = np.random.default_rng(3)
    x = L.tensor(rng.uniform(-3, 3, 5), dtype=getattr(L, dtype), requires_grad=True)
    y = L.tensor(rng.uniform(0.5, 2, 5) * rng.choice([-1, 1], 5), dtype=getattr(L, dtype),
                 requires_grad=True)
    out = _CALLS[call](L, x, y)
    nexts = [None if f is None else type(f).__name__ for f, _ in out.grad_fn.next_functions]
    gx, = L.autograd.grad(out, x, L.ones_like(out), retain_graph=True)
    return type(out.grad_fn).__name__, out.grad_fn.name(), nexts, np.asarray(gx.tolist())


@pytest.mark.parametrize("call", list(_CALLS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_node_names_next_functions_and_gradients_as_torch(call, dtype):
    t, g = _run(torch, call, dtype), _run(tg, call, dtype)
    assert g[:3] == t[:3]
    np.testing.assert_allclose(g[3], t[3], rtol=1e-6)


@pytest.mark.parametrize("call", [c for c in _CALLS if "tensor" not in c and "0-d" not in c])
def test_scalar_overload_gradients_by_finite_differences(call):
    x = tg.tensor([0.3, -1.7, 2.2, -0.9], dtype=tg.float64, requires_grad=True)
    assert tg.autograd.gradcheck(lambda x: _CALLS[call](tg, x, None), (x,))
    assert tg.autograd.gradgradcheck(lambda x: _CALLS[call](tg, x, None), (x,))
