"""``nansum``/``nanmean`` (functions and methods) refuse complex inputs, and a complex ``dtype``
of a real input, with PyTorch's CPU errors (its nansum has no complex kernel); nanmean's
``dtype`` checks and the order of the checks (``dim`` first) are PyTorch's; real inputs keep
their values and (finite-difference checked) gradient."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd.gradcheck import gradcheck

torch = pytest.importorskip("torch")

Z, R, N = [1 + 2j, complex("nan"), 3 - 1j], [1.0, float("nan"), 3.0], [1, 2, 3]
CALLS = [  # (function, data, input dtype, keywords)
    ("nansum", Z, "complex64", {}), ("nansum", Z, "complex128", {"dim": 0}),
    ("nansum", Z, "complex128", {"dim": 0, "keepdim": True}),
    ("nansum", Z, "complex128", {"dtype": "float64"}), ("nansum", Z, "complex64", {"dim": 3}),
    ("nansum", R, "float32", {"dtype": "complex64"}), ("nansum", R, "float64", {"dtype": "complex128"}),
    ("nanmean", Z, "complex64", {}), ("nanmean", Z, "complex128", {"dim": -1}),
    ("nanmean", Z, "complex128", {"dtype": "float64"}), ("nanmean", Z, "complex64", {"dim": 3}),
    ("nanmean", R, "float32", {"dtype": "complex64"}), ("nanmean", N, "int64", {"dtype": "complex128"}),
    ("nanmean", R, "float64", {"dtype": "int64"}), ("nanmean", R, "float64", {"dtype": "int64", "dim": 4}),
]


def _kw(lib, kw):
    return {k: getattr(lib, v) if k == "dtype" else v for k, v in kw.items()}


def _outcome(lib, name, data, dtype, kw, method):
    x = lib.tensor(data, dtype=getattr(lib, dtype))
    try:
        r = getattr(x, name)(**_kw(lib, kw)) if method else getattr(lib, name)(x, **_kw(lib, kw))
    except Exception as e:  # noqa: BLE001  (compared with PyTorch's)
        return type(e).__name__.lstrip("_"), str(e)
    return "value", np.asarray(r.detach().numpy()).tolist()


@pytest.mark.parametrize("method", [False, True])
@pytest.mark.parametrize("name,data,dtype,kw", CALLS)
def test_nansum_nanmean_complex_errors_as_torch(name, data, dtype, kw, method):
    want = _outcome(torch, name, data, dtype, kw, method)
    assert want[0] != "value"
    assert _outcome(tg, name, data, dtype, kw, method) == want


@pytest.mark.parametrize("name,data,dtype,kw", [
    ("nansum", N, "int64", {"dtype": "complex64"}), ("nansum", R, "float32", {"dtype": "float64"}),
    ("nanmean", R, "float32", {"dtype": "float64"}), ("nanmean", R, "float64", {"dim": 0})])
def test_real_nansum_nanmean_values_as_torch(name, data, dtype, kw):
    want = _outcome(torch, name, data, dtype, kw, False)
    got = _outcome(tg, name, data, dtype, kw, False)
    assert got[0] == want[0] == "value"
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


def test_real_nanmean_with_dtype_keeps_its_gradient():
    x = tg.tensor([[1.0, float("nan"), 3.0], [0.5, 2.0, -1.0]], dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda x: tg.nanmean(x, 1, dtype=tg.float64) + tg.nansum(x, 1), (x,))
