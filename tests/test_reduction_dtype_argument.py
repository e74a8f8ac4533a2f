"""The ``dtype=`` argument of prod/cumprod/mean: the result has that dtype (integer products
wrap in it), and mean refuses an integer or bool dtype with PyTorch's message."""
import numpy as np
import pytest

import tapegrad as tg


@pytest.mark.parametrize("dt", ["int8", "int16", "int32", "uint8"])
def test_prod_and_cumprod_keep_an_integer_dtype(dt):
    a = tg.tensor([100, 3, 7, 5])
    want = np.cumprod(a.numpy().astype(dt), dtype=dt)
    assert a.prod(dtype=getattr(tg, dt)).dtype == getattr(tg, dt)
    assert a.prod(dtype=getattr(tg, dt)).item() == want[-1]
    assert a.prod(0, dtype=getattr(tg, dt)).dtype == getattr(tg, dt)
    c = a.cumprod(0, dtype=getattr(tg, dt))
    assert c.dtype == getattr(tg, dt) and c.tolist() == want.tolist()


@pytest.mark.parametrize("dt,name", [("int32", "Int"), ("int64", "Long"), ("bool", "Bool")])
def test_mean_refuses_a_non_float_dtype(dt, name):
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype. Optional "
                       f"dtype must be either a floating point or complex dtype. Got: {name}"):
        tg.tensor([1.0, 2.0]).mean(dtype=getattr(tg, dt))


def test_reductions_with_dtype_match_torch():
    torch = pytest.importorskip("torch")
    for lib_dt in ["bool", "int8", "uint8", "int64", "float32"]:
        for out_dt in ["int16", "int32", "int64", "float32", "float64"]:
            got, want = [], []
            for L, acc in ((tg, got), (torch, want)):
                a = L.tensor([3, 1, 2, 0, 5, 4], dtype=getattr(L, lib_dt)).reshape(2, 3)
                od = getattr(L, out_dt)
                for r in (a.prod(dtype=od), a.prod(1, dtype=od), a.cumprod(1, dtype=od),
                          a.sum(dtype=od), a.cumsum(0, dtype=od)):
                    acc.append((str(r.dtype).split(".")[-1], r.tolist()))
            assert got == want, (lib_dt, out_dt)


@pytest.mark.parametrize("op,kernel", [("cumsum", "cumsum_out_cpu"), ("cumprod", "cumprod_out_cpu")])
def test_cumulative_bool_dtype_has_no_kernel(op, kernel):
    for x in (tg.tensor([1, 2, 0]), tg.tensor([True, False]), tg.tensor([0.5, 1.0])):
        with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'Bool'"):
            getattr(x, op)(0, dtype=tg.bool)
    assert getattr(tg.tensor(1), op)(0, dtype=tg.bool).item() is True  # 0-d: no kernel runs
    assert tg.tensor([True, True]).cumsum(0).tolist() == [1, 2]
