"""Views against PyTorch: diagonal, T/mT, expand, unbind/split/chunk and integer indexing share
storage and the version counter with their base; values, gradients through in-place changes
and PyTorch's in-place errors."""

import numpy as np
import pytest

import tapegrad as tg

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _outcome(f, lib):
    """What ``f(lib)`` returns (as lists) or the error it raises."""
    try:
        out = f(lib)
    except RuntimeError as e:
        return ("error", str(e))
    return ("ok", _plain(out))


def _plain(v):
    if isinstance(v, (tuple, list)):
        return [_plain(u) for u in v]
    if hasattr(v, "detach"):
        return np.round(np.asarray(v.detach().numpy(), np.float64), 9).tolist()
    return v


def _mat(lib, shape=(3, 3), rg=True):
    n = int(np.prod(shape))
    return lib.tensor(np.arange(1.0, n + 1).reshape(shape), dtype=lib.float64, requires_grad=rg)


def _grad_through_inplace(view_fn, lib, shape=(3, 3), op=lambda v: v.mul_(10)):
    x = _mat(lib, shape)
    b = x * 1
    op(view_fn(b))
    (b * b).sum().backward()
    return x.grad, b


DIAGONALS = {
    "main": lambda t: t.diagonal(),
    "offset1": lambda t: t.diagonal(1),
    "offset-1": lambda t: t.diagonal(-1),
    "offset_past": lambda t: t.diagonal(5),
    "dims10": lambda t: t.diagonal(0, 1, 0),
    "neg_dims": lambda t: t.diagonal(0, -1, -2),
}
DIAGONALS_3D = {
    "3d_1_2_0": lambda t: t.diagonal(1, 2, 0),
    "3d_-1_1_2": lambda t: t.diagonal(-1, 1, 2),
    "3d_0_0_2": lambda t: t.diagonal(0, 0, 2),
    "3d_fn": lambda t: t.diagonal(offset=2, dim1=-1, dim2=1),
}


@pytest.mark.parametrize("name", list(DIAGONALS) + list(DIAGONALS_3D))
def test_diagonal_is_a_view(torch, name):
    fn = {**DIAGONALS, **DIAGONALS_3D}[name]
    shape = (3, 3) if name in DIAGONALS else (2, 3, 4)

    def shares(lib):  # K.diagonal().add_(...) changes K
        K = _mat(lib, shape, rg=False)
        d = fn(K)
        d.add_(1e-3)
        K.mul_(2)  # and the view sees its base's change
        return K, d, d._version, K._version

    def grads(lib):
        return _grad_through_inplace(fn, lib, shape)

    def leaf(lib):
        return fn(_mat(lib, shape)).mul_(10)

    def stale(lib):  # a view made before its base changed in place
        x = _mat(lib, shape)
        b = x * 1
        d = fn(b)
        b.mul_(2)
        (d * d).sum().backward()
        return x.grad, d

    for f in (shares, grads, leaf, stale):
        assert _outcome(f, tg) == _outcome(f, torch), f.__name__


def test_diagonal_gradients_by_finite_differences():
    for fn, shape in [(lambda t: t.diagonal(1), (3, 4)), (lambda t: t.diagonal(-1, 2, 0),
                                                          (3, 2, 4))]:
        def f(x):
            b = x * 1
            fn(b).mul_(fn(x) * 3)
            return (b * b).sum()

        x = tg.tensor(np.random.default_rng(0).standard_normal(shape), requires_grad=True)
        assert tg.autograd.gradcheck(f, (x,))
        assert tg.autograd.gradgradcheck(f, (x,))


def test_diagonal_of_a_transposed_view_writes_through(torch):
    def f(lib):
        K = _mat(lib, (3, 4), rg=False)
        K.T.diagonal(1).fill_(0)
        return K

    assert _outcome(f, tg) == _outcome(f, torch)


VIEWS = {
    "T": lambda t: t.T,
    "mT": lambda t: t.mT,
    "t": lambda t: t.t(),
    "select": lambda t: t[1],
    "select_col": lambda t: t[:, 2],
    "T_select": lambda t: t.T[0],
    "expand_new_dim": lambda t: t[0].expand(1, 3),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_in_place(torch, name):
    fn = VIEWS[name]

    def grads(lib):
        return _grad_through_inplace(fn, lib, op=lambda v: v.mul_(lib.tensor(
            np.arange(1.0, 4.0), dtype=lib.float64)))

    def leaf(lib):  # also a leaf that is itself a view (reshape) of a tensor without grad
        return fn(lib.arange(1.0, 10.0, dtype=lib.float64).reshape(3, 3)
                  .requires_grad_()).mul_(10)

    def plain_leaf(lib):
        return fn(_mat(lib)).mul_(10)

    for f in (grads, leaf, plain_leaf):
        assert _outcome(f, tg) == _outcome(f, torch), f.__name__


def test_expand_is_a_view(torch):
    def leaf(lib):
        return lib.ones(3, dtype=lib.float64, requires_grad=True).expand(2, 3).mul_(2)

    def nonleaf(lib):
        return (lib.ones(3, dtype=lib.float64, requires_grad=True) * 1).expand(2, 3).mul_(2)

    def nograd(lib):
        return lib.ones(3, dtype=lib.float64).expand(2, 3).mul_(2)

    def stale(lib):  # the base changed in place after expand: the view sees it, gradients too
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        b = x * 1
        e = b.expand(2, 3)
        b.mul_(lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))
        (e * lib.arange(6.0, dtype=lib.float64).reshape(2, 3)).sum().backward()
        return e, x.grad

    for f in (leaf, nonleaf, nograd, stale):
        mine, theirs = _outcome(f, tg), _outcome(f, torch)
        assert mine == theirs, (f.__name__, mine, theirs)


MULTI = {
    "unbind0": lambda t: t.unbind(0)[0],
    "unbind1": lambda t: t.unbind(1)[2],
    "split": lambda t: t.split(1)[0],
    "split_whole": lambda t: t.split(3)[0],
    "split_sizes": lambda t: t.split([1, 2])[1],
    "chunk": lambda t: t.chunk(2)[1],
    "fn_split": lambda t: t.split(2, 1)[1],
}


@pytest.mark.parametrize("name", list(MULTI))
def test_multi_output_views(torch, name):
    fn = MULTI[name]

    def nonleaf(lib):
        return fn(_mat(lib) * 1).add_(1)

    def leaf(lib):
        return fn(_mat(lib)).add_(1)

    def nograd(lib):  # nothing requires grad: allowed, and the base sees it
        x = _mat(lib, rg=False)
        fn(x).mul_(2)
        return x

    def grad_operand(lib):
        w = lib.ones(1, dtype=lib.float64, requires_grad=True)
        return fn(_mat(lib, rg=False)).mul_(w)

    def under_no_grad(lib):
        b = _mat(lib) * 1
        v = fn(b)
        with lib.no_grad():
            v.mul_(2)
        return b.detach()

    def stale(lib):  # the base changed in place: using the view raises
        b = _mat(lib) * 1
        v = fn(b)
        b.mul_(2)
        return v * 1

    def values(lib):
        return [v for v in (_mat(lib) * 2).split(2)] + list((_mat(lib) * 2).unbind(1))

    def grads(lib):
        x = _mat(lib)
        a, b, c = x.unbind(0)
        (a * b + c.split(2)[1].sum()).sum().backward()
        return x.grad

    for f in (nonleaf, leaf, nograd, grad_operand, under_no_grad, stale, values, grads):
        mine, theirs = _outcome(f, tg), _outcome(f, torch)
        assert mine == theirs, (f.__name__, mine, theirs)


def test_ravel_is_flatten_as_in_torch():
    torch = pytest.importorskip("torch")
    a = np.arange(12.0).reshape(3, 4)
    x = tg.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)
    y, yt = x.T.ravel(), xt.T.ravel()
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    w = np.linspace(-1.0, 1.0, 12)
    (y * tg.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    assert tuple(tg.tensor(2.0).ravel().shape) == tuple(torch.tensor(2.0).ravel().shape) == (1,)


def test_is_view_says_whether_storage_is_shared():
    x = tg.tensor(np.ones((4, 6)))
    b = x * 1
    views = [b[0], b.t(), b.reshape(24), b.unfold(0, 2, 1), b.view(-1)[2:], b.diagonal(),
             b.expand(2, 4, 6)]
    copies = [b, b.t().reshape(24), b.flip(0), b.detach() * 1, b[[0, 1]]]
    assert all(v._is_view() for v in views)
    assert not any(c._is_view() for c in copies)
