"""``w[index] = v`` with an index holding arrays on a view of ``b.expand(2, 3)``: written
through to ``b`` as PyTorch's, which warns that index_put_ (and masked_fill_ for one mask and
one value) on expanded tensors is deprecated, where the part its other indices select repeats
elements; tapegrad warned nothing."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

KEYS = {
    "list": lambda L: [0],
    "two_rows": lambda L: [0, 1],
    "int_tensor": lambda L: L.tensor([1]),
    "mask_rows": lambda L: L.tensor([True, False]),
    "bool_list": lambda L: [True, False],
    "mask_2d": lambda L: L.tensor([[True, False, True], [False, False, False]]),
    "mask_then_int": lambda L: (L.tensor([True, False]), 0),
    "int_then_list": lambda L: (0, [1]),  # w[0] repeats nothing: no warning
    "slice_then_list": lambda L: (slice(None), [1]),
    "int": lambda L: 0,  # basic: no warning
}
VALUES = {
    "number": lambda L: 5.0,
    "one": lambda L: L.tensor([7.0], dtype=L.float64),
    "row": lambda L: L.tensor([1.0, 2.0, 3.0], dtype=L.float64),
}


def _run(L, key, value):
    b = L.zeros(3, dtype=L.float64)
    w = b.expand(2, 3)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            w[KEYS[key](L)] = VALUES[value](L)
        except RuntimeError as e:
            return "error", str(e)[:40]
    return b.tolist(), [(str(m.message).split(" (Triggered")[0], m.filename) for m in seen]


@pytest.mark.parametrize("key", list(KEYS))
@pytest.mark.parametrize("value", list(VALUES))
def test_against_torch(key, value):
    want = _run(torch, key, value)
    try:
        got = _run(tg, key, value)
    except ValueError:  # a value of another shape: NumPy's error, not PyTorch's (known)
        assert want[0] == "error"
        pytest.xfail("a shape mismatch written through an expanded view raises NumPy's error")
    assert got[0] == want[0]
    if want[0] != "error":
        assert [m for m, _ in got[1]] == [m for m, _ in want[1]]
        assert all(f == __file__ for _, f in got[1])  # (the warning points at the write)


def test_the_text_is_shared_with_masked_fill_():
    b = tg.zeros(3)
    with pytest.warns(UserWarning, match=r"^Use of masked_fill_ on expanded tensors is "
                                         r"deprecated\. Please clone\(\) the tensor before "
                                         r"performing this operation\. This also applies to "
                                         r"advanced indexing e\.g\. tensor\[mask\] = scalar$"):
        b.expand(2, 3).masked_fill_(tg.tensor([[True, False, False]] * 2), 1.0)
    assert b.tolist() == [1.0, 0.0, 0.0]


def test_a_value_requiring_grad():
    for L in (torch, tg):
        b = L.zeros(3, dtype=L.float64)
        v = L.tensor(np.array([4.0]), requires_grad=True)
        with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors"):
            b.expand(2, 3)[[0]] = v
        assert b.tolist() == [4.0, 4.0, 4.0]
