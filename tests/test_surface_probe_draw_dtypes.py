"""Random draws asked in a dtype that cannot hold them, against PyTorch: ``rand``/``randn``
(and ``*_like``, ``uniform_``/``normal_``) of integer or bool dtypes raise PyTorch's
NotImplementedError (they gave zeros, or randn's values truncated), the continuous fills
(``exponential_``, ``cauchy_``, ``log_normal_``) refuse such tensors as PyTorch does, and
``bernoulli_``/``geometric_`` of an integer tensor draw from the distribution (they gave all
ones / all zeros)."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool", "float16", "float32", "float64",
          "complex64", "complex128"]


def outcome(fn):
    try:
        r = fn()
    except (RuntimeError, NotImplementedError, TypeError) as e:
        return type(e).__name__, str(e).split("\n")[0]
    return "ok", str(r.dtype).replace("torch.", "")


def both(code, dtype):
    return (outcome(lambda: eval(code, {"M": torch, "d": getattr(torch, dtype)})),
            outcome(lambda: eval(code, {"M": tg, "d": getattr(tg, dtype)})))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("code", [
    "M.rand(3, dtype=d)", "M.randn(2, 2, dtype=d)", "M.rand(0, dtype=d)",
    "M.rand_like(M.zeros(3, dtype=d))", "M.randn_like(M.zeros(3, dtype=d))",
    "M.zeros(3, dtype=d).uniform_()", "M.zeros(3, dtype=d).normal_()",
    "M.zeros(3, dtype=d).exponential_()", "M.zeros(3, dtype=d).cauchy_()",
    "M.zeros(3, dtype=d).log_normal_()", "M.zeros(3, dtype=d).geometric_(0.5)",
    "M.zeros(3, dtype=d).bernoulli_(0.5)"])
def test_outcome_as_torch(code, dtype):
    expected, got = both(code, dtype)
    assert got == expected


@pytest.mark.parametrize("dtype", ["int64", "uint8", "bool"])
def test_bernoulli_of_integers_draws(dtype):
    tg.manual_seed(0)
    for p in (0.2, 0.7):
        x = tg.zeros(20000, dtype=getattr(tg, dtype)).bernoulli_(p)
        assert x.dtype == getattr(tg, dtype)
        assert set(np.unique(x.numpy()).tolist()) <= {0, 1}
        assert abs(x.numpy().astype(float).mean() - p) < 0.02  # 6 standard errors


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32"])
def test_geometric_of_integers_draws(dtype):
    tg.manual_seed(0)
    p = 0.25
    x = tg.zeros(20000, dtype=getattr(tg, dtype)).geometric_(p).numpy().astype(float)
    assert x.min() >= 1
    assert abs(x.mean() - 1 / p) < 0.1  # mean 4, standard error 0.024
    assert abs((x == 1).mean() - p) < 0.02
