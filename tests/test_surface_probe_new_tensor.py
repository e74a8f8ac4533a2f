"""``x.new_tensor(t)`` of a tensor ``t``: PyTorch's UserWarning recommending
``sourceTensor.detach().clone()``, a copy without history in ``x``'s dtype, as PyTorch's."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def call(M, data, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = M.zeros(2, dtype=M.float32).new_tensor(data(M), **kw)
    return r, [str(x.message) for x in w]


@pytest.mark.parametrize("data", [lambda M: M.tensor([1, 2]),
                                  lambda M: M.tensor([1.5, 2.0], requires_grad=True),
                                  lambda M: M.tensor(3.0),
                                  lambda M: [1, 2], lambda M: np.array([1.5])])
@pytest.mark.parametrize("kw", [{}, {"dtype": "int32"}, {"requires_grad": True}])
def test_new_tensor_as_torch(data, kw):
    kt = {k: getattr(torch, v) if k == "dtype" else v for k, v in kw.items()}
    kg = {k: getattr(tg, v) if k == "dtype" else v for k, v in kw.items()}
    rt, wt = call(torch, data, **kt)
    rg, wg = call(tg, data, **kg)
    assert wg == wt
    assert str(rg.dtype) == str(rt.dtype).replace("torch.", "")
    assert (rg.requires_grad, rg.grad_fn, rg.is_leaf) == (rt.requires_grad, None, True)
    np.testing.assert_array_equal(rg.detach().numpy(), rt.detach().numpy())
