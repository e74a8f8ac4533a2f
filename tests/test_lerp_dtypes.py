"""lerp does not promote: an ``end`` (or a weight tensor with dimensions) of another dtype than
the input is PyTorch's error; a 0-d weight of another dtype is taken, as there."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CASES = [("float32", "float64", None), ("float64", "float32", None), ("float16", "float32", None),
         ("float32", "float32", "float64"), ("complex64", "complex64", "float32"),
         ("float32", "float32", "float64-0d"), ("float64", "float64", "float32-0d"),
         ("float32", "float32", None)]


def _call(lib, x_dt, end_dt, w):
    x = lib.linspace(-1, 2, 4).to(getattr(lib, x_dt))
    e = lib.linspace(3, -2, 4).to(getattr(lib, end_dt))
    if w is None:
        weight = 0.7
    elif w.endswith("-0d"):
        weight = lib.tensor(0.3, dtype=getattr(lib, w[:-3]))
    else:
        weight = lib.linspace(0, 1, 4).to(getattr(lib, w))
    try:
        return lib.lerp(x, e, weight).numpy()
    except RuntimeError as err:
        return str(err)


@pytest.mark.parametrize("x_dt, end_dt, w", CASES)
def test_lerp_dtypes_match_torch(x_dt, end_dt, w):
    ours, theirs = _call(tg, x_dt, end_dt, w), _call(torch, x_dt, end_dt, w)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_lerp_in_place_refuses_another_dtype():
    x, e = tg.ones(3, dtype=tg.float32), tg.ones(3, dtype=tg.float64)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        x.lerp_(e, 0.5)
