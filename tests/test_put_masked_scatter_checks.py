"""put/put_ and masked_scatter/masked_scatter_ argument checks in PyTorch's order and words:
put's index must be int64 (any other dtype computed), its source as many elements as the index
(a broadcast error or a silent broadcast before) and of self's dtype; masked_scatter's mask
must be bool (an integer or float mask was read as truth values), and the in-place form expands
the mask to self's shape with PyTorch's expand errors (it broadcast self, then failed to write
back with a broadcast message)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

DTYPES = ["int32", "float64", "int16", "uint8", "int64"]


def _outcome(f):
    try:
        return ("ok", f().detach().numpy().tolist())
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return (type(e).__name__, str(e).splitlines()[0])


def _put_cases(lib):
    x = lib.tensor(np.arange(6.0).reshape(2, 3))
    cases = []
    for dt in DTYPES:
        for n_idx, n_src, sdt in ((2, 2, "float64"), (1, 2, "float64"), (2, 1, "float64"),
                                  (2, 2, "float32"), (3, 2, "float32")):
            i = lib.tensor(np.array([0, 4, 5][:n_idx]).astype(dt))
            s = lib.tensor(np.arange(1.0, n_src + 1).astype(sdt))
            cases += [lambda i=i, s=s: x.clone().put_(i, s),
                      lambda i=i, s=s: lib.put(x, i, s, accumulate=True),
                      lambda i=i, s=s: x.put(i, s)]
    cases.append(lambda: x.clone().put_(lib.tensor([0, 7]), lib.tensor(np.array([1.0, 2.0]))))
    return cases


def _masked_cases(lib):
    x = lib.tensor(np.arange(6.0).reshape(2, 3))
    src = lib.tensor(np.arange(10.0, 16.0))
    cases = []
    for m in (np.array([1, 0, 1]), np.array([1, 0, 1], np.uint8), np.array([1.0, 0.0, 1.0]),
              np.array([True, False, True])):
        cases += [lambda m=m: x.clone().masked_scatter_(lib.tensor(m), src),
                  lambda m=m: x.masked_scatter(lib.tensor(m), src),
                  lambda m=m: lib.masked_scatter(x, lib.tensor(m), src)]
    for shape in ((2, 3, 2), (2,), (1, 3), (3, 2, 3), (2, 1), (1, 2, 3)):  # in place: expands
        m = np.arange(np.prod(shape)).reshape(shape) % 2 == 0
        cases += [lambda m=m: x.clone().masked_scatter_(lib.tensor(m), src),
                  lambda m=m: x.masked_scatter(lib.tensor(m), src)]
    return cases


@pytest.mark.parametrize("k", range(len(_put_cases(tg))))
def test_put_checks_as_pytorch(k):
    assert _outcome(_put_cases(tg)[k]) == _outcome(_put_cases(torch)[k])


@pytest.mark.parametrize("k", range(len(_masked_cases(tg))))
def test_masked_scatter_mask_dtype_as_pytorch(k):
    assert _outcome(_masked_cases(tg)[k]) == _outcome(_masked_cases(torch)[k])
