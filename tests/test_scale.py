"""Scale: long tapes are swept iteratively in linear time; sizes and offsets are int64."""

import math
import os
import time

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _config, tape
from tapegrad.engine import sweep


def _fresh_segment():
    if tape._local.seg is not None:
        tape.retire(tape._local.seg)


def _chain(x, steps):
    """3 scalar records per step: y <- y + 0.001 * sin(y)."""
    y = x
    for _ in range(steps):
        y = y + tg.sin(y) * 0.001
    return y


def _chain_reference(x0, steps):
    y, d = x0, 1.0
    for _ in range(steps):
        d *= 1.0 + 0.001 * math.cos(y)
        y = y + math.sin(y) * 0.001
    return y, d


def _avail_bytes():
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 0


def _sweep_chain(steps):
    x = tg.tensor(0.3, requires_grad=True)
    t0 = time.perf_counter()
    y = _chain(x, steps)
    y.backward()
    return x, y, time.perf_counter() - t0


@pytest.mark.parametrize("one_segment", [True, False])
def test_million_scalar_records(monkeypatch, one_segment):
    steps = 333_334  # 10^6 records
    if one_segment:
        monkeypatch.setattr(_config, "SEGMENT_CAP", 1 << 21)
        monkeypatch.setattr(tape, "_ROLL_RECORDS", 1 << 21)
    _fresh_segment()
    x = tg.tensor(0.3, requires_grad=True)
    y = _chain(x, steps)
    seg = y._seg
    if one_segment:
        assert seg.n >= 3 * steps  # the whole chain on one segment
    y.backward()
    ref_y, ref_d = _chain_reference(0.3, steps)
    assert y.item() == pytest.approx(ref_y, rel=1e-12)
    assert x.grad.item() == pytest.approx(ref_d, rel=1e-9)
    del y, seg  # dropping a 10^6-long history must not recurse


def test_sweep_time_is_linear_in_tape_length():
    _sweep_chain(1000)  # warm up (kernel load)
    small = min(_sweep_chain(33_334)[2] for _ in range(2))  # 10^5 records
    big = _sweep_chain(333_334)[2]  # 10^6 records
    assert big / small < 30, (small, big)  # linear: ~10; quadratic: ~100


def test_offsets_are_int64():
    recs = np.zeros((4, tape.NFIELDS), np.int64)
    recs[:, tape.SIZE] = 1 << 30  # 2^32 adjoint elements in all: overflows int32
    offs = sweep.offsets(recs)
    assert offs.dtype == np.int64
    assert offs[-1] == 1 << 32 and offs[3] == 3 << 30


def test_record_fields_are_int64():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    assert y._seg.records().dtype == np.int64


@pytest.mark.slow
def test_ten_million_records():
    if _avail_bytes() < 4 << 30:
        pytest.skip("needs 4 GiB of free memory")
    steps = 3_333_334
    x, y, _ = _sweep_chain(steps)
    ref_y, ref_d = _chain_reference(0.3, steps)
    assert y.item() == pytest.approx(ref_y, rel=1e-11)
    assert x.grad.item() == pytest.approx(ref_d, rel=1e-8)


@pytest.mark.slow
def test_hundred_million_element_tensor():
    if _avail_bytes() < 8 << 30:
        pytest.skip("needs 8 GiB of free memory")
    n = 100_000_000
    x = tg.ones(n, requires_grad=True)
    (x * 3.0).sum().backward()
    g = x.grad.numpy()
    assert g.shape == (n,) and g[0] == 3.0 and g[-1] == 3.0 and float(g.sum()) == 3.0 * n
