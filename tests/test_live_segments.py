"""The thread's registry of live segments (what ``tape_stats`` counts and import pruning walks):
weak, exact, and bounded however many segments a loop opens and drops."""

import gc

import numpy as np

import tapegrad as tg
from tapegrad import tape
from tapegrad._live_segments import LiveSegments
from tests.thread_runner import run_threads


def test_a_training_loop_keeps_the_registry_bounded_and_counts_only_live_segments():
    w = tg.tensor(np.random.default_rng(0).standard_normal(8), requires_grad=True)
    for _ in range(2000):  # a fresh segment per backward: 2000 segments opened and dropped
        (w * w).sum().backward()
    live = tape._local.live
    assert len(live.refs) <= max(64, 2 * len(live)) + 1
    kept = [(w * k).sum() for k in range(3)]  # one open segment holding three outputs
    stats = tg.autograd.tape_stats()
    assert all(t._seg in set(live) for t in kept)
    assert stats["segments"] == len(live) == len({id(s) for s in live})
    assert stats["records"] == sum(s.n for s in live)
    del kept
    tape.close_current()
    gc.collect()
    assert tg.autograd.tape_stats()["records"] == 0


def test_segments_are_held_weakly_and_each_listed_once():
    reg = LiveSegments()
    segs = [tape.Segment() for _ in range(200)]
    for s in segs:
        reg.add(s)
    del s
    assert list(reg) == segs and len(reg) == 200 and reg
    del segs[::2]
    assert list(reg) == segs and len(reg) == 100
    for _ in range(300):  # dead references are swept as new ones come in
        reg.add(tape.Segment())
    assert len(reg) == 100 and len(reg.refs) <= 2 * 100 + 64
    del segs[:]
    assert not reg and list(reg) == []


def test_each_thread_has_its_own_registry():
    seen = []

    def other():
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        seen.append((y._seg in set(tape._local.live), tg.autograd.tape_stats()["segments"]))

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    mine = (x * 3.0).sum()
    run_threads([other])
    assert seen == [(True, 1)]
    assert mine._seg in set(tape._local.live)
