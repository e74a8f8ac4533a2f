"""The first sweep of a small segment makes its records and tables in one block
(``engine.first_tables``): the same records, tables and offsets as flushing and converting them
one by one, and gradients as PyTorch's, also when the segment grows or is swept again after."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape
from tapegrad.engine import first_tables as F
from tapegrad.engine import sweep as S

torch = pytest.importorskip("torch")


def _unaligned(values):
    buf = np.zeros(values.nbytes + 1, np.uint8)
    a = np.ndarray(values.shape, values.dtype, buffer=buf, offset=1)
    a[...] = values
    return a


def _graph(kind):
    """A loss whose segment has never been flushed, saving what ``kind`` names."""
    tape.close_current()  # (its records alone in a fresh segment)
    rng = np.random.default_rng(1)
    x = tg.tensor(rng.standard_normal(5), requires_grad=True)
    if kind == "floats":  # size-1 saved values and scalar constants
        s = tg.tensor(1.5, requires_grad=True)
        return (s * s * 2.5 + (x * 0.5).exp().sum() * s).sin()
    if kind == "index":  # an index array and the int side table
        return (x[np.array([4, 0, 0, 2])] * x[1:5].cos()).sum()
    if kind == "float32":  # float32 arrays: marked in the address table
        y = tg.tensor(rng.standard_normal(5).astype(np.float32), requires_grad=True)
        return (y * y.tanh()).sum()
    if kind == "freed":  # a saved array already dropped (None in the saved list)
        loss = (x * x.exp()).sum()
        loss._seg.avals[0] = None
        return loss
    if kind == "unaligned":  # an array at an odd address: replaced by an aligned copy
        u = tg.from_numpy(_unaligned(rng.standard_normal(5))).requires_grad_()
        return (u * x).sum() + (x * u.exp()).sum()
    raise AssertionError(kind)


def _twin(seg):
    """A fresh segment holding the same pending records and saved values as ``seg``."""
    t = tape.Segment()
    for name in ("ints", "avals", "ivals", "iaux", "fvals", "faux"):
        setattr(t, name, list(getattr(seg, name)))
    t.n = seg.n
    return t


@pytest.mark.parametrize("kind", ["floats", "index", "float32", "freed", "unaligned"])
@pytest.mark.parametrize("cut", [False, True])
def test_one_block_gives_the_tables_made_one_by_one(kind, cut):
    loss = _graph(kind)
    seg = loss._seg
    assert seg.nbuf == 0 and seg._cache is None and len(seg.ints) // tape.NFIELDS == seg.n
    twin = _twin(seg)
    top = seg.n - 2 if cut else None  # a sweep that cannot reach the newest record
    got = F.first_tables(seg, top, 7, S.SweepArrays)
    assert got is not None
    recs, offs, scratch, total, tabs, buf = got
    assert buf is seg.buf and recs.base is buf.base  # (the records are the buffer's)
    want_recs = twin.records()
    if cut:
        want_recs = want_recs[: top + 1]
    want_work = np.full(len(want_recs) + 1 + 7, -1, np.int64)
    want_total = S._lay_out(want_recs, want_work)
    want_tabs = S.SweepArrays().update(twin)
    np.testing.assert_array_equal(recs, want_recs)
    np.testing.assert_array_equal(seg.records(), twin.records())
    np.testing.assert_array_equal(offs, want_work[: len(recs) + 1])
    np.testing.assert_array_equal(scratch, want_work[len(recs) + 1 :])
    assert total == want_total
    for k in (0, 3, 4):  # saved floats, int and float side tables
        assert tabs[k].dtype == want_tabs[k].dtype
        np.testing.assert_array_equal(tabs[k], want_tabs[k])
    # the address tables: each saved array's data address, the lowest bit marking float32
    # (an unaligned array was replaced in the saved list by an aligned copy, in each segment)
    for k, arrays in ((1, seg.avals), (2, seg.ivals)):
        assert tabs[k].dtype == np.int64 and len(tabs[k]) == len(arrays)
        assert tabs[k].tolist() == [0 if a is None else a.ctypes.data |
                                    (a.dtype == np.float32) for a in arrays]
        assert all(a is None or a.flags.aligned for a in arrays)
    assert seg.ints == [] and seg.nbuf == seg.n


def test_a_segment_it_does_not_take_is_left_as_it_was():
    loss = _graph("floats")
    seg = loss._seg
    seg.records()  # already flushed: the tables are made one by one
    assert F.first_tables(seg, None, 7, S.SweepArrays) is None
    assert seg._cache is None


def _both(make):
    """``make(lib, tensor)`` run with tapegrad and with PyTorch on the same values."""
    values = [np.linspace(-1.0, 1.5, 6), np.linspace(0.5, 2.0, 6)]
    out = []
    for lib, tensor in ((tg, tg.tensor), (torch, torch.tensor)):
        xs = [tensor(v, requires_grad=True) for v in values]
        out.append([np.asarray(g.detach().numpy()) for g in make(lib, xs)])
    return out


def test_second_derivatives_grow_the_first_block():
    # the create_graph sweep appends records to the swept segment (into the block's spare
    # rows) and the second sweep extends the tables made from the block
    def hvp(lib, xs):
        x, w = xs
        loss = (lib.sin(x * w) * 2.5 + x * x * w).sum()
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        (h,) = lib.autograd.grad((g * g.cos()).sum(), (x,))
        return g, h

    got, want = _both(hvp)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_sweeping_part_of_a_segment_then_the_rest():
    # the first sweep stops below the newest record; the second one sweeps the whole segment
    def twice(lib, xs):
        x, w = xs
        y = x * w * 0.5
        first = y.sum()
        second = (y.exp() * x).sum()
        (g1,) = lib.autograd.grad(first, x, retain_graph=True)
        (g2,) = lib.autograd.grad(second, (w,))
        return g1, g2

    got, want = _both(twice)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
