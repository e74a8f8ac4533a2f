"""Views' layout as PyTorch users rely on it: ``t_``/``transpose_``/``squeeze_``/``unsqueeze_``
change a tensor's shape in place (recorded as the view op), ``contiguous()`` copies a
non-contiguous view, ``view`` refuses to copy, ``stride``/``is_contiguous`` report the layout."""

import numpy as np
import pytest

import tapegrad as tg

A = np.arange(6.0).reshape(2, 3)


def _f64(lib, v, rg=False):
    return lib.tensor(v, dtype=lib.float64, requires_grad=rg)


def _error(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 (the error is the result compared)
        return type(e).__name__, str(e).replace("torch.", "tapegrad.").split(" Hint")[0]
    return None


def _t_inplace_grad(lib):
    x = _f64(lib, A, True)
    y = x * 2
    r = y.t_()
    (y * _f64(lib, np.arange(6.0).reshape(3, 2))).sum().backward()
    return r is y, y.tolist(), x.grad.tolist(), y._version


def _unsqueeze_inplace_of_a_view(lib):
    x = _f64(lib, A, True)
    y = x * 2
    z = y[0]
    z.unsqueeze_(0)
    (z * _f64(lib, [[1.0, 2.0, 3.0]])).sum().backward()
    return list(z.shape), z.tolist(), x.grad.tolist(), y.tolist()


def _t_inplace_keeps_storage(lib):
    a = _f64(lib, A)
    v = a.view(6)
    a.t_()
    a[0, 1] = 100.0
    return v.tolist(), a.tolist(), list(a.shape)


def _shapes(lib):
    w = lib.ones(1, 3, 1)
    out = [tuple(w.squeeze_(-1).shape), tuple(w.transpose_(0, 1).shape),
           tuple(w.swapaxes_(0, 1).shape), tuple(w.squeeze_().shape),
           tuple(w.unsqueeze_(-1).shape)]
    return out


def _mul_after_unsqueeze(lib):
    x = _f64(lib, A, True)
    y = x * 2.0
    y.unsqueeze_(1)
    y.mul_(_f64(lib, [[[1.0, 2.0, 3.0]]]))
    y.exp().sum().backward()
    return y.tolist(), x.grad.tolist()


PROGRAMS = [_t_inplace_grad, _unsqueeze_inplace_of_a_view, _t_inplace_keeps_storage, _shapes,
            _mul_after_unsqueeze]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda f: f.__name__)
def test_inplace_shape_ops_match_torch(torch, program):
    assert program(tg) == program(torch)


def test_inplace_shape_ops_without_torch():
    same, y, g, version = _t_inplace_grad(tg)
    assert same and y == (A.T * 2).tolist() and version == 1
    assert g == (2 * np.arange(6.0).reshape(3, 2).T).tolist()
    shape, z, g, _ = _unsqueeze_inplace_of_a_view(tg)
    assert shape == [1, 3] and g == [[2.0, 4.0, 6.0], [0.0, 0.0, 0.0]]
    v, a, shape = _t_inplace_keeps_storage(tg)
    assert shape == [3, 2] and v == [0.0, 1.0, 2.0, 100.0, 4.0, 5.0]
    assert _shapes(tg) == [(1, 3), (3, 1), (1, 3), (3,), (3, 1)]
    y, g = _mul_after_unsqueeze(tg)
    np.testing.assert_allclose(g, 2 * np.exp(2 * A * [1.0, 2.0, 3.0]) * [1.0, 2.0, 3.0])
    assert tg.autograd.gradcheck(lambda x: (x * 1).t_().unsqueeze_(0).exp(),
                                 (_f64(tg, A, True),))


@pytest.mark.parametrize("case", ["leaf", "3d", "saved"])
def test_inplace_shape_op_errors_match_torch(torch, case):
    def run(lib):
        if case == "leaf":
            return _error(lambda: _f64(lib, A, True).t_())
        if case == "3d":
            return _error(lambda: lib.ones(2, 3, 4).t_())
        x = _f64(lib, A, True)
        y = x.exp()  # saves its output
        z = y.sum()
        y.unsqueeze_(0)
        return _error(z.backward)

    assert run(tg) == run(torch)


def test_contiguous_copies_a_transposed_view():
    def run(lib):
        x = _f64(lib, A)
        y = x.t().contiguous()
        y[0, 1] = 100.0
        z = x.contiguous()
        z[0, 0] = -1.0  # already contiguous: the same tensor
        return (x.tolist(), y.tolist(), y.is_contiguous(), x.t().is_contiguous(), y.stride(),
                x.t().stride(), x[:, ::2].stride(), x.stride(1), z is x)

    result = run(tg)
    assert result[0] == [[-1.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert result[1][0][1] == 100.0 and result[2] and not result[3]
    assert result[4:] == ((2, 1), (1, 3), (3, 2), 1, True)
    x = _f64(tg, A, True)
    (x.t().contiguous() * _f64(tg, A.T)).sum().backward()
    assert x.grad.tolist() == A.tolist()


def test_contiguous_matches_torch(torch):
    def run(lib):
        x = _f64(lib, A)
        y = x.t().contiguous()
        y[0, 1] = 100.0
        return x.tolist(), y.tolist(), y.is_contiguous(), y.stride(), x.t().stride(), \
            x.unsqueeze(0).expand(2, 2, 3).stride(), x.t().is_contiguous()

    assert run(tg) == run(torch)


def test_view_of_a_non_contiguous_view_raises_as_torch(torch):
    msg = "view size is not compatible with input tensor's size and stride"
    for lib in (tg, torch):
        x = _f64(lib, A)
        with pytest.raises(RuntimeError, match=msg):
            x.t().view(6)
        with pytest.raises(RuntimeError, match=msg):
            x.t().view(-1)
        assert x.t().view(3, 1, 2).shape == (3, 1, 2)  # splits a dim: a view exists
        assert x.t().reshape(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
        with pytest.raises(RuntimeError, match="is invalid for input of size 6"):
            x.t().view(4)


def test_view_of_a_non_contiguous_view_raises_without_torch():
    x = _f64(tg, A)
    with pytest.raises(RuntimeError, match="Use .reshape"):
        x[:, ::2].view(4)
    assert x.t().contiguous().view(6).tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
