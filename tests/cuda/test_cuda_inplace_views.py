"""In-place ops on views of CUDA tensors reach the base (device views are copies that write
themselves back, ops/cuda_views.py): values, version counters, grad_fn and gradients are the
CPU path's, on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

RNG = np.random.default_rng(7)
A = RNG.uniform(-1.0, 1.0, (3, 4))
W = RNG.uniform(-1.0, 1.0, (3, 4))


def _same(cuda_tensor, cpu_tensor):
    assert cuda_tensor.device == "cuda"
    np.testing.assert_allclose(cuda_tensor.detach().cpu().numpy(), cpu_tensor.detach().numpy(),
                               rtol=1e-12, atol=1e-15)


NO_GRAD = {  # (x: a (3, 4) tensor) -> None, changing x through a view
    "column_zero_": lambda x: x[:, 0].zero_(),
    "slice_iadd": lambda x: x[1:].__iadd__(1.0),
    "slice_iadd_assigned": lambda x: x.__setitem__(slice(1, None), x[1:].__iadd__(1.0)),
    "mask_setitem": lambda x: x.__setitem__(x > 0.2, 0.0),
    "view_setitem": lambda x: x.view(-1).__setitem__(2, 5.0),
    "transpose_mul_": lambda x: x.T.mul_(2.0),
    "diagonal_fill_": lambda x: x.diagonal().fill_(1.0),
    "view_of_view": lambda x: x[1:][:, 2:].T.sub_(3.0),
    "view_setitem_key": lambda x: x[1:, ::2].__setitem__((0, 1), -7.0),
    "view_mask_setitem": lambda x: x[:2].__setitem__(x[:2] < 0, 9.0),
    "unsqueeze_": lambda x: x[0].unsqueeze_(0).mul_(3.0),
    "t_": lambda x: x[:2, :2].t_().add_(tg.arange(2.0, device=x.device)),
    "detached_view": lambda x: x[2].detach().fill_(4.0),
    "copy_from_cpu": lambda x: x[0].copy_(tg.arange(4.0)),
    "stale_view": lambda x: (lambda v: (x.add_(1.0), v.mul_(2.0)))(x[0]),
}


@pytest.mark.parametrize("name", sorted(NO_GRAD))
def test_a_write_through_a_view_reaches_the_base(name):
    xs = [tg.tensor(A, device=dev) for dev in ("cpu", "cuda")]
    for x in xs:
        NO_GRAD[name](x)
    _same(xs[1], xs[0])
    assert xs[1]._version == xs[0]._version > 0


def _program(dev):
    """A leaf's clone changed through views, then backward."""
    w = tg.tensor(W, device=dev, requires_grad=True)
    y = w.clone() * 1.0
    col = y[:, 1]
    col.mul_(w[:, 0])
    y.T[2].add_(w[0, :3])
    y.diagonal().fill_(0.5)
    y[1:] += w[:2] ** 2
    y.view(-1)[5] = w.sum()
    y[y > 0.7] = 0.0
    z = y[0]  # made before the base changes: regathered when used
    y[:, 3].exp_()
    out = (y * tg.tensor(A, device=dev)).sum() + (z * 2.0).sum()
    out.backward()
    return y, w.grad, col.grad_fn.name(), y.grad_fn.name(), y._version


def test_gradients_through_views_changed_in_place_match_the_cpu():
    c, d = _program("cpu"), _program("cuda")
    _same(d[0], c[0])
    _same(d[1], c[1])
    assert d[2:] == c[2:]


def test_a_view_of_a_leaf_that_requires_grad_raises_and_is_written_under_no_grad():
    for dev in ("cpu", "cuda"):
        w = tg.tensor(A, device=dev, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
            w[0].add_(1.0)
        with tg.no_grad():
            w[0].add_(1.0)
            w.T[:, 1].zero_()
        np.testing.assert_allclose(w.detach().cpu().numpy()[0], A[0] + 1.0)
        assert not w.detach().cpu().numpy()[1].any()


def test_an_expanded_view_refuses_in_place_writes_as_the_cpu():
    for dev in ("cpu", "cuda"):
        x = tg.tensor(A[0], device=dev)
        with pytest.raises(RuntimeError, match="more than one element of the written-to"):
            x.expand(2, 4).add_(1.0)
        np.testing.assert_array_equal(x.cpu().numpy(), A[0])
        x.expand(1, 4).add_(1.0)  # no repeated element: a writeable view
        np.testing.assert_allclose(x.cpu().numpy(), A[0] + 1.0)


def test_saved_view_modified_in_place_raises_at_backward():
    w = tg.tensor(A, device="cuda", requires_grad=True)
    y = w * 1.0
    s = y[0].sin()
    y[0].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()


READ_AFTER = {  # (x: a (3, 4) tensor) -> None, an in-place change of x or one of its views
    "base_add_": lambda x: x.add_(100.0),
    "base_setitem": lambda x: x.__setitem__(1, 5.0),
    "sibling_column_mul_": lambda x: x[:, 1].mul_(2.0),
    "sibling_slice_masked_fill_": lambda x: x[1:].masked_fill_(x[1:] > 6.0, -1.0),
    "base_index_add_": lambda x: x.index_add_(0, tg.tensor([0, 2], device=x.device),
                                              tg.ones(2, 4, device=x.device)),
    "base_copy_from_cpu": lambda x: x.copy_(tg.ones(3, 4)),
    "detached_base_exp_": lambda x: x.detach().exp_(),
}


@pytest.mark.parametrize("name", sorted(READ_AFTER))
def test_views_read_after_a_write_to_their_storage_show_it(name):
    """Views taken before the change, read (not written) after it: the new values, as the
    CPU's views (NumPy views of one buffer) and PyTorch's."""
    seen = []
    for dev in ("cpu", "cuda"):
        x = tg.tensor(A, device=dev)
        views = [x[0], x[:, 1], x.T, x.view(-1)[3:7], x.diagonal(), x[1:][:, ::2],
                 x[2].detach()]
        READ_AFTER[name](x)
        seen.append([v.cpu().numpy().copy() for v in views] + [(views[0] * 2.0).cpu().numpy()])
    for cpu_value, cuda_value in zip(*seen):
        np.testing.assert_array_equal(cuda_value, cpu_value)


def test_a_dead_view_leaves_nothing_behind():
    """The table of copies per storage holds the copies weakly: a view that dies is dropped."""
    import gc
    import weakref

    from tapegrad.ops import cuda_views

    x = tg.tensor(A, device="cuda")
    view = x[0]
    copy = weakref.ref(view._data)
    assert copy() in cuda_views._copies[x._data]
    del view
    gc.collect()
    assert copy() is None
    x.add_(1.0)  # writes with no live copy left
    np.testing.assert_allclose(x.cpu().numpy(), A + 1.0)


def test_writing_kept_rows_one_by_one_regathers_only_what_overlaps(monkeypatch):
    """Rows kept alive and written in turn: each write regathers the copies that may share
    elements with it (its own row's span), not every live row (n**2 launches)."""
    from tapegrad.ops import cuda_views

    n = 12
    x = tg.zeros(n, 4, device="cuda")
    rows = [x[i] for i in range(n)]
    cols = x[:, 1]  # overlaps every row's span: regathered after each write
    launches = []
    real = cuda_views.K.launch
    monkeypatch.setattr(cuda_views.K, "launch", lambda name, *a: (launches.append(name),
                                                                 real(name, *a))[1])
    for i, r in enumerate(rows):
        r.add_(float(i))
    assert launches.count("take") <= 3 * n  # (its own regather before the op, the column)
    expected = np.repeat(np.arange(n, dtype=float)[:, None], 4, axis=1)
    np.testing.assert_array_equal(x.cpu().numpy(), expected)
    np.testing.assert_array_equal(cols.cpu().numpy(), expected[:, 1])
    for i, r in enumerate(rows):
        np.testing.assert_array_equal(r.cpu().numpy(), expected[i])


@pytest.mark.parametrize("how", ["data", "no_grad"])
def test_parameter_of_a_view_writes_its_base_as_on_the_cpu(how):
    # Parameter(view) shares the view's storage (PyTorch's too): a write to it shows in the
    # base, and a write to the base shows in it
    torch = pytest.importorskip("torch")
    results = []
    for lib, dev in ((torch, "cpu"), (tg, "cpu"), (tg, "cuda")):
        x = lib.arange(6.0, device=dev) if lib is tg else lib.arange(6.0)
        p = lib.nn.Parameter(x[1:4])
        if how == "data":
            p.data.mul_(10)
        else:
            with lib.no_grad():
                p.add_(100)
        x.sub_(1)
        results.append((x.cpu().tolist(), p.detach().cpu().tolist()))
    assert results[1] == results[0]
    assert results[2] == results[0]
