"""matrix_norm/linalg.norm of an empty matrix by ord 2, 1 or inf: zeros with no graph, as
PyTorch's (its max over no values); ord -1/-inf raise PyTorch's amin error naming the dim as
PyTorch does (but ord -1 with keepdim); the other norms and shapes keep their graph."""

import math

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

SHAPES = [(3, 0, 0), (3, 0, 2), (3, 2, 0), (0, 2, 2), (0, 0), (2, 0), (0, 3), (2, 3)]
ORDS = [2, -2, math.inf, -math.inf, 1, -1, "fro", "nuc"]


def _info(L, fn, shape, ord, keepdim):
    x = L.zeros(shape, requires_grad=True)
    try:
        y = fn(L, x, ord, keepdim)
    except (IndexError, RuntimeError) as e:
        return type(e), str(e)
    g = L.autograd.grad(y.sum(), x, allow_unused=True)[0] if y.requires_grad else "no graph"
    return (tuple(y.shape), y.requires_grad, y.grad_fn is None, y.detach().numpy().tolist(),
            g if g is None or isinstance(g, str) else tuple(g.shape))


FNS = {"matrix_norm": lambda L, x, o, k: L.linalg.matrix_norm(x, o, keepdim=k),
       "norm": lambda L, x, o, k: L.linalg.norm(x, o, dim=(-2, -1), keepdim=k)}


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("ord", ORDS, ids=str)
@pytest.mark.parametrize("fn", sorted(FNS))
@pytest.mark.parametrize("keepdim", [False, True])
def test_empty_matrix_norm_graph_as_pytorch(shape, ord, fn, keepdim):
    got, want = _info(tg, FNS[fn], shape, ord, keepdim), _info(torch, FNS[fn], shape, ord, keepdim)
    if keepdim and ord == -1 and want[0] is IndexError:
        # (PyTorch reduces ord -1's kept column sums at the last dim, one more than here)
        got, want = (got[0], got[1].split(" dim ")[0]), (want[0], want[1].split(" dim ")[0])
    assert got == want
