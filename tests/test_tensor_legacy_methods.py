"""cdouble/cfloat/chalf, hardshrink/prelu/histogram as methods, the legacy ``new``, resize_/
resize_as_, apply_/map_/map2_ and as_subclass: PyTorch's values, dtypes and errors."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch


def _error(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001 (the type and words are compared)
        return type(e).__name__, str(e)
    return None


def test_complex_casts_differentiate():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    assert x.cdouble().dtype == tg.complex128 and x.cfloat().dtype == tg.complex64
    assert tg.tensor([1, 2]).cfloat().tolist() == [1 + 0j, 2 + 0j]
    check_op(lambda t: tg.view_as_real(t.cdouble()), [np.array([0.5, -1.5])])
    with pytest.raises(TypeError, match="complex32"):
        x.chalf()


@needs_torch
def test_activation_and_histogram_methods_against_torch():
    v = np.array([0.3, -2.0, 1.2, -0.4])
    assert tg.tensor(v).hardshrink(0.5).tolist() == torch.tensor(v).hardshrink(0.5).tolist()
    got = tg.tensor(v).prelu(tg.tensor([0.25]))
    assert got.tolist() == torch.tensor(v).prelu(torch.tensor([0.25], dtype=torch.float64)).tolist()
    check_op(lambda x, w: x.prelu(w), [v, np.array([0.25])])
    hist, edges = tg.tensor(v).histogram(3)
    want = torch.tensor(v).histogram(3)
    np.testing.assert_allclose(hist.numpy(), want.hist.numpy())
    np.testing.assert_allclose(edges.numpy(), want.bin_edges.numpy())


@needs_torch
def test_new_against_torch():
    for lib in (tg, torch):
        lib.x = lib.tensor([1.0, -2.0], dtype=lib.float64)
    cases = [lambda lib: lib.x.new(2, 3), lambda lib: lib.x.new(),
             lambda lib: lib.x.new([1, 2]), lambda lib: lib.x.new((1, 2)),
             lambda lib: lib.x.new(lib.Size([2])),
             lambda lib: lib.tensor([1, 2]).new([1.5]), lambda lib: lib.x.new(lib.x)]
    for f in cases:
        got, want = f(tg), f(torch)
        assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype)[6:]
        if f not in (cases[0], cases[4]):  # (PyTorch's sized ones are uninitialised)
            assert got.tolist() == want.tolist()
    alias = tg.x.new(tg.x)
    alias[0] = 5.0
    assert tg.x[0].item() == 5.0
    with pytest.raises(TypeError):
        tg.x.new([1, 2], dtype=tg.float32)
    for lib in (tg, torch):
        del lib.x


@needs_torch
def test_resize_against_torch():
    for shape in [(2, 2), (6,), (2, 4), (0,), (3, 2)]:
        mine, theirs = tg.arange(6.0), torch.arange(6.0, dtype=torch.float64)
        mine.resize_(*shape)
        theirs.resize_(*shape)
        assert tuple(mine.shape) == tuple(theirs.shape)
        n = min(6, mine.numel())
        assert mine.reshape(-1)[:n].tolist() == theirs.reshape(-1)[:n].tolist()
    mine, theirs = tg.arange(6.0), torch.arange(6.0)
    assert mine.resize_as_(tg.ones(3, 2)).shape == theirs.resize_as_(torch.ones(3, 2)).shape
    assert _error(lambda: tg.ones(2, requires_grad=True).resize_(3)) == _error(
        lambda: torch.ones(2, requires_grad=True).resize_(3))
    assert _error(lambda: tg.ones(2, requires_grad=True).resize_as_(tg.ones(3))) == _error(
        lambda: torch.ones(2, requires_grad=True).resize_as_(torch.ones(3)))


def test_resize_shrinking_shares_memory_and_bumps_the_version():
    x = tg.arange(6.0)
    before = x._version
    x.resize_(2, 2)
    x[0, 0] = 7.0
    assert x._version > before and x.tolist() == [[7.0, 1.0], [2.0, 3.0]]


@needs_torch
def test_python_loops_against_torch():
    for lib in (tg, torch):
        lib.out = [lib.arange(3.0, dtype=lib.float64).apply_(lambda v: v * 2),
                   lib.arange(3).apply_(lambda v: v * 2.7),
                   lib.arange(3.0).map_(lib.ones(3), lambda a, b: a + b),
                   lib.arange(6.0).reshape(2, 3).map_(lib.arange(3.0), lambda a, b: a * b),
                   lib.arange(3.0).map2_(lib.ones(3), lib.ones(1) * 5, lambda a, b, c: a + b + c)]
    for got, want in zip(tg.out, torch.out):
        assert got.tolist() == want.tolist()
    for name, f in [("apply_", lambda lib, x: x.apply_(lambda v: v)),
                    ("map_", lambda lib, x: x.map_(x, lambda a, b: a)),
                    ("map2_", lambda lib, x: x.map2_(x, x, lambda a, b, c: a))]:
        assert _error(lambda: f(tg, tg.ones(2, requires_grad=True))) == _error(
            lambda: f(torch, torch.ones(2, requires_grad=True)))
    for lib in (tg, torch):
        del lib.out


def test_apply_writes_in_place_through_views():
    base = tg.arange(4.0)
    view = base[1:3]
    view.apply_(lambda v: -v)
    assert base.tolist() == [0.0, -1.0, -2.0, 3.0]


def test_as_subclass_keeps_history():
    class Sub(tg.Tensor):
        pass

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    s = x.as_subclass(Sub)
    assert type(s) is Sub and s.requires_grad
    (s * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    plain = tg.ones(2).as_subclass(Sub)
    assert type(plain) is Sub and not plain.requires_grad
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        x.as_subclass(int)


@needs_torch
def test_histogramdd_against_torch():
    pts = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [2.0, 2.0]])
    w = np.array([1.0, 2.0, 4.0, 8.0])
    cases = [lambda lib, x: lib.histogramdd(x, bins=[3, 3], weight=lib.tensor(w)),
             lambda lib, x: lib.histogramdd(x, bins=2, range=[0.0, 1.0, 0.0, 1.0], density=True),
             lambda lib, x: lib.histogramdd(x, bins=[lib.tensor([0.0, 1, 2], dtype=lib.float64),
                                                     lib.tensor([0.0, 2], dtype=lib.float64)]),
             lambda lib, x: lib.histogramdd(lib.ones(3, 2, dtype=lib.float64), bins=2),
             lambda lib, x: lib.histogramdd(x.reshape(2, 2, 2), bins=[1, 2])]
    for f in cases:
        got, want = f(tg, tg.tensor(pts)), f(torch, torch.tensor(pts))
        np.testing.assert_allclose(got.hist.numpy(), want.hist.numpy())
        assert len(got.bin_edges) == len(want.bin_edges)
        for g, e in zip(got.bin_edges, want.bin_edges):
            np.testing.assert_allclose(g.numpy(), e.numpy())
    for f in (lambda lib, x: lib.histogramdd(x, bins=[2]),
              lambda lib, x: lib.histogramdd(x.long(), bins=2),
              lambda lib, x: lib.histogramdd(x, bins=2, range=[0.0, 1.0]),
              lambda lib, x: lib.histogramdd(x[:, 0], bins=2)):
        assert _error(lambda: f(tg, tg.tensor(pts))) == _error(lambda: f(torch, torch.tensor(pts)))
