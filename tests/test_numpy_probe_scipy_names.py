"""The refusal of a SciPy special-function ufunc tapegrad does not differentiate names SciPy's
ufunc, also where a public Python function calls a private one (scipy.special.zeta: _zeta)."""

import numpy as np
import pytest

import tapegrad as tg

sp = pytest.importorskip("scipy.special")


@pytest.mark.parametrize("call, name", [
    (lambda x: sp.zeta(x, 1.0), r"scipy\.special\._zeta"),
    (lambda x: sp.jv(1, x), r"scipy\.special\.jv"),
    (lambda x: sp.gammainc(2.0, x), r"scipy\.special\.gammainc"),
])
def test_refusal_names_scipy(call, name):
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    with pytest.raises(TypeError, match=rf"^tapegrad does not implement {name} for tensors "):
        call(x)
    # without a gradient at stake SciPy computes the values
    np.testing.assert_array_equal(call(x.detach()).numpy(), call(np.array([1.5, 2.5])))
