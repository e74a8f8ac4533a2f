"""The tape: what is recorded, when, and what it costs (tested with a handful of ops)."""

import math

import numpy as np

import tapegrad as tg
from tapegrad import tape


def _records():
    return tg.autograd.tape_stats()["records"]


def test_nothing_recorded_without_grad():
    x = tg.tensor([1.0, 2.0])
    before = tape._local.seg, _records()
    y = (x * 2).sin().sum()
    assert (tape._local.seg, _records()) == before
    assert y.grad_fn is None


def test_nothing_recorded_under_no_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    x * 1  # make sure a segment exists
    n = _records()
    with tg.no_grad():
        for _ in range(10):
            x = x * 2
    assert _records() == n


def test_records_appended_in_topological_order():
    x = tg.tensor(1.5, requires_grad=True)
    a = x * 2.0
    b = a.sin()
    c = a * b
    seg = c._seg
    assert a._seg is b._seg is seg
    assert a._rec < b._rec < c._rec
    recs = seg.records()
    assert recs.dtype == np.int64 and recs.shape[1] == tape.NFIELDS
    # c = a * b: its inputs are the records of a and b on the same segment
    assert recs[c._rec, tape.A] == a._rec and recs[c._rec, tape.B] == b._rec
    # the leaf enters the segment through one IMPORT record, reused by later uses
    imp = recs[a._rec, tape.A]
    assert (recs[imp, tape.OP] & tape.CODE_MASK) == 0
    d = x * x
    assert recs.shape[0] <= seg.n and seg.records()[d._rec, tape.A] == imp


def test_record_structure_memory_is_about_48_bytes_per_record():
    import gc
    import tracemalloc

    x = tg.tensor(0.3, requires_grad=True)
    y = x * 1.0  # start on a fresh segment
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(60_000):
        y = y + x  # ADD of two tensors: no saved values, no constants
    y._seg.flush()
    gc.collect()
    per_record = (tracemalloc.get_traced_memory()[0] - before) / 60_000
    tracemalloc.stop()
    stats = tg.autograd.tape_stats()
    # 48 bytes of int64 per record; the buffer grows by doubling, so up to 2x is capacity
    assert 40 <= stats["bytes_per_record"] <= 2 * 48 + 8
    assert per_record <= 2 * 48 + 16, f"{per_record:.1f} bytes per record"


def test_flush_moves_records_into_int64_buffer():
    x = tg.tensor(0.3, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    seg = y._seg
    assert len(seg.ints) < tape._FLUSH_INTS
    y.backward()
    assert x.grad.item() == np.float64(1.0001) ** 10_000 or abs(
        x.grad.item() - 1.0001 ** 10_000) < 1e-9


def test_backward_retires_the_segment():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * x
    seg = y._seg
    y.backward()
    assert seg.retired
    z = x * 3
    assert z._seg is not seg


def test_tape_stats_reports_bytes():
    x = tg.tensor(np.ones(1000), requires_grad=True)
    y = (x * x).sum()
    stats = tg.autograd.tape_stats()
    assert stats["records"] >= 3
    assert stats["bytes"] >= 2 * 8000  # MUL saves both 1000-element inputs
    y.backward()


def test_an_array_saved_by_several_records_counts_once_towards_closing_a_segment():
    """``x * x``, ``sin(x)`` and ``exp(-x * x)`` all save ``x``: the bytes that close a segment
    (64 MB) count the arrays it holds, so this 48 MB graph stays on one segment, while four
    distinct arrays of the same size do not."""
    x = tg.tensor(np.random.default_rng(0).standard_normal(1 << 21), requires_grad=True)
    y = tg.sin(x) * tg.exp(-(x * x))  # holds x, exp(-x*x) and sin(x) (16.8 MB each)
    loss = y.sum()
    assert loss._seg is y._seg
    loss.backward()  # (the next records go to a fresh segment)
    z = (tg.sin(x) * tg.exp(-(x * x))) * tg.cos(x)  # and the product, and cos(x): 84 MB
    assert z.sum()._seg is not z._seg


def test_a_referenced_chain_probes_its_segment_a_logarithmic_number_of_times(monkeypatch):
    # After each check that finds the segment referenced, _renew looks record by record for a
    # moment nothing refers to it; a chain that is referenced throughout (a scalar loop) must
    # not pay that window at every check, only at checks twice as far apart each time.
    calls = []
    renew = tape._renew
    monkeypatch.setattr(tape, "_renew", lambda seg: calls.append(seg.n) or renew(seg))
    x = tg.tensor(0.5, requires_grad=True)
    y = x
    n = 16 * tape._CHECK_EVERY
    for _ in range(n):
        y = y * 0.999
    windows = 5  # opened at about 1, 2, 4, 8 and 16 check intervals
    assert len(calls) <= n // tape._CHECK_EVERY + windows * tape._PROBE + 2
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 0.999 ** n, rtol=1e-9)


def test_a_loop_that_drops_its_outputs_still_closes_its_segment_in_the_first_window():
    x = tg.tensor(np.ones(3), requires_grad=True)
    orders = set()
    for _ in range(4 * tape._CHECK_EVERY // 3):
        out = (x * 2.0).sum()  # three records, dropped at the next iteration
        orders.add(out._seg.order)
        del out
    # closed at each check (window included), never left to grow to _ROLL_RECORDS
    assert len(orders) >= 3


def test_the_pending_records_of_a_long_scalar_chain_stay_bounded():
    # the scalar fast paths leave flushing to the segment check (_renew)
    x = tg.tensor(0.5, requires_grad=True)
    y, most, v, dv = x, 0, 0.5, 1.0
    for _ in range(3 * tape._FLUSH_INTS // tape.NFIELDS // 4):
        y = y * 0.9999 + tg.sin(y) * 0.01
        dv *= 0.9999 + math.cos(v) * 0.01  # the chain rule, by hand
        v = v * 0.9999 + math.sin(v) * 0.01
        most = max(most, len(y._seg.ints))
    assert most <= tape._FLUSH_INTS + tape.NFIELDS * tape._CHECK_EVERY
    assert y._seg.nbuf > 0  # flushed along the way, not only at backward
    y.backward()
    assert y.item() == v
    np.testing.assert_allclose(x.grad.item(), dv, rtol=1e-12)
