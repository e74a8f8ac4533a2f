"""scatter_reduce with reduce="max"/"min": PyTorch's forward takes them as amax/amin, and its
backward raises; tapegrad's does the same (it raised at once)."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

X = np.array([[0., 3., 1.], [2., 2., 5.]])
S = np.array([[4., 1., 1.], [1., 9., 2.]])
I = np.array([[0, 0, 2], [1, 1, 1]])


@pytest.mark.parametrize("reduce", ["max", "min"])
@pytest.mark.parametrize("include_self", [True, False])
def test_values_as_amax_amin_and_backward_raises(reduce, include_self):
    out = []
    for lib in (tg, torch):
        x = lib.tensor(X, requires_grad=True)
        s = lib.tensor(S, requires_grad=True)
        y = x.scatter_reduce(1, lib.tensor(I), s, reduce=reduce, include_self=include_self)
        z = lib.tensor(X)
        z.scatter_reduce_(1, lib.tensor(I), lib.tensor(S), reduce, include_self=include_self)
        a = lib.tensor(X).scatter_reduce(1, lib.tensor(I), lib.tensor(S), "a" + reduce,
                                         include_self=include_self)
        np.testing.assert_array_equal(y.detach().numpy(), a.numpy())
        np.testing.assert_array_equal(z.numpy(), a.numpy())
        assert y.requires_grad and y.grad_fn.name() == "ScatterReduceBackward0"
        with pytest.raises(RuntimeError) as e:
            y.sum().backward()
        out.append((y.detach().numpy(), str(e.value)))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    assert out[0][1] == out[1][1]
    assert "Expected 'reduce' to be one of" in out[0][1]


def test_other_names_still_refused():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, "
                                               "amax or amin, got add"):
            lib.tensor(X).scatter_reduce(1, lib.tensor(I), lib.tensor(S), "add")
