"""index_copy(_) argument checks in PyTorch's order, words and exception types (a 2-d index,
a source of another length, dimensionality, slice shape or dtype went through index_add's
checks, or was cast), and index_fill's out-of-range message (no name before it)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _outcome(f):
    try:
        return ("ok", f().detach().numpy().tolist())
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return (type(e).__name__, str(e).splitlines()[0])


def _cases(lib):
    rng = np.random.default_rng(0)

    def S(*shape, dtype="float64"):
        return lib.tensor(rng.standard_normal(shape).astype(dtype))

    def i(v, dtype="int64"):
        return lib.tensor(np.array(v, dtype))

    x2, x3 = S(3, 4), S(3, 4, 5)
    return [
        lambda: x2.index_copy(1, i([[0, 1]]), S(3, 2)),
        lambda: x2.index_copy(1, i(np.zeros((1, 0))), S(3, 0)),
        lambda: x2.index_copy(1, i([0, 1]), S(3, 3)),
        lambda: x2.clone().index_copy_(1, i([0, 1]), S(3, 3)),
        lambda: x2.index_copy(0, i([0, 1]), S(2, 5)),
        lambda: x2.index_copy(0, i([0, 3]), S(2, 4)),
        lambda: x2.index_copy(0, i([0, -1]), S(2, 4)),
        lambda: x2.index_copy(0, i([0, 1], "int32"), S(2, 4)),
        lambda: x2.index_copy(0, i([0, 1]), S(2, 4, dtype="float32")),
        lambda: x2.index_copy(0, i([0, 1]), S(2, 4, 1)),
        lambda: x2.index_copy(0, i([0, 1]), S(8)),
        lambda: x3.index_copy(1, i([0, 1]), S(3, 2, 6)),
        lambda: x3.index_copy(1, i([0, 1, 2]), S(3, 2, 5)),
        lambda: x3.index_copy(1, i([0, 1], "int32"), S(3, 2, 6, dtype="float32")),
        lambda: x3.index_copy(1, i([[0, 1]], "int32"), S(3, 2, 6, dtype="float32")),
        lambda: x3.index_copy(1, i([0, 1]), S()),
        lambda: x3.index_copy(1, i([0]), S()),
        lambda: x3.index_copy(-2, i([2, 0]), S(3, 2, 5)),
        lambda: S(3).index_copy(0, i([0]), S()),
        lambda: S().index_copy(0, i([0]), S(1)),
        lambda: S().index_copy(0, i([0]), S(2)),
        lambda: S(3).index_copy(0, i([5]), S(1)),
        lambda: S(3).index_copy(0, i(1), S(1)),
        lambda: lib.index_copy(x2, 1, i([3, 0]), S(3, 2)),
        lambda: x2.index_fill(0, i([3]), 2.0),
        lambda: x2.index_fill(1, i([-5]), 2.0),
        lambda: x2.clone().index_fill_(1, i([4]), 2.0),
        lambda: S().index_fill(0, i([1]), 2.0),
    ]


@pytest.mark.parametrize("k", range(len(_cases(tg))))
def test_index_copy_and_fill_checks_as_pytorch(k):
    assert _outcome(_cases(tg)[k]) == _outcome(_cases(torch)[k])
