"""grad_fn of eigh/eigvalsh, svd/svdvals and qr outputs: PyTorch's decomposition node
(LinalgEighBackward0, LinalgSvdBackward0, LinalgQrBackward0) with the input's node as its
next function, not the slice/reshape that unpacks the outputs (ViewBackward0); gradients
unchanged (against PyTorch, and by finite differences)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

A = np.array([[2.0, 0.5, 0.1], [0.3, 3.0, 0.2], [0.1, 0.4, 1.5]])
B = np.array([[1.0, 2.0], [0.5, -1.0], [0.3, 0.2]])

CALLS = {
    "eigh values": lambda L, a: L.linalg.eigh(a + a.mT)[0],
    "eigh vectors": lambda L, a: L.linalg.eigh(a + a.mT, UPLO="U")[1] ** 2,
    "eigvalsh": lambda L, a: L.linalg.eigvalsh(a),
    "svd U": lambda L, a: L.linalg.svd(a)[0].abs(),
    "svd S": lambda L, a: L.linalg.svd(a, full_matrices=False)[1],
    "svd Vh": lambda L, a: L.linalg.svd(a[:, :2], full_matrices=False)[2].abs(),
    "svdvals": lambda L, a: L.linalg.svdvals(a[:2]),
    "qr Q": lambda L, a: L.linalg.qr(a)[0].abs(),
    "qr R": lambda L, a: L.linalg.qr(a[:, :2])[1].abs(),
    "batched eigh": lambda L, a: L.linalg.eigh(L.stack([a @ a.mT, a.mT @ a]))[0],
}


def _graph(y):
    node = y.grad_fn
    while node.name() in ("PowBackward0", "AbsBackward0"):  # (down to the decomposition)
        node = node.next_functions[0][0]
    return node.name(), [f.name() if f else None for f, _ in node.next_functions]


@pytest.mark.parametrize("call", list(CALLS))
def test_node_and_gradient_as_torch(call):
    got = []
    for lib in (tg, torch):
        a = lib.tensor(A, requires_grad=True)
        y = CALLS[call](lib, a)
        graph = _graph(y)
        (y * lib.tensor(np.cos(np.arange(y.numel())).reshape(tuple(y.shape)))).sum().backward()
        got.append((graph, a.grad.numpy()))
    assert got[0][0] == got[1][0]
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("call", ["eigh values", "svd S", "qr R"])
def test_gradcheck(call):
    a = tg.tensor(A, requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: CALLS[call](tg, t), (a,))
