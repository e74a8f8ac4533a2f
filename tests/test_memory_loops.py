"""Loops PyTorch users write, run for N and then 5N iterations: the tape must not grow with N.

For each loop pattern, live records (``tape_stats``), tape bytes and the process RSS
(``/proc/self/statm``) are measured after N iterations and again after 5N; PyTorch keeps all
three flat in these loops, and so must tapegrad, up to a small constant (a segment is closed
and freed as a whole, so a few hundred records of slack).
"""

import functools
import gc
import os
import threading

import numpy as np
import pytest
from thread_runner import run_threads

import tapegrad as tg
from tapegrad import tape

N = 300
# A segment is checked every _CHECK_EVERY records (then record by record for _PROBE more) and
# freed as a whole once nothing refers to it; one closed in the middle of an op stays alive
# until the segment after it is closed too: live records saw-tooth within three such spans.
RECORD_SLACK = 3 * (tape._CHECK_EVERY + tape._PROBE)
RSS_SLACK = 8 << 20


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _measure():
    gc.collect()
    s = tg.autograd.tape_stats()
    return s["records"], s["bytes"], _rss()


def _data():
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((16, 8)))
    y = tg.tensor(rng.standard_normal((16, 1)))
    W1 = tg.tensor(rng.standard_normal((8, 16)) * 0.3, requires_grad=True)
    b1 = tg.zeros(16, requires_grad=True)
    W2 = tg.tensor(rng.standard_normal((16, 1)) * 0.3, requires_grad=True)
    return x, y, [W1, b1, W2]


def _forward(x, ps):
    W1, b1, W2 = ps
    return tg.tanh(x @ W1 + b1) @ W2


def _sgd(ps, lr=1e-3):
    with tg.no_grad():
        for p in ps:
            if p.grad is not None:
                p -= lr * p.grad
    for p in ps:
        p.grad = None


def training():
    x, y, ps = _data()

    def step():
        loss = ((_forward(x, ps) - y) ** 2).mean()
        loss.backward()
        _sgd(ps)
    return step


def evaluation_without_no_grad():
    x, y, ps = _data()
    w = ps[0]

    def step():
        out = (x @ w).sum()  # a Python (matmul) record, then a sum
        del out
    return step


def evaluation_keeping_the_last_output():
    """The previous output is alive while the next one records."""
    x, y, ps = _data()
    state = {}

    def step():
        state["out"] = ((_forward(x, ps) - y) ** 2).mean()
    return step


def retain_graph_loop():
    x, y, ps = _data()

    def step():
        loss = ((_forward(x, ps) - y) ** 2).mean()
        loss.backward(retain_graph=True)
        loss.backward(retain_graph=True)
        _sgd(ps)
    return step


def create_graph_with_grad_none():
    x, y, ps = _data()

    def step():
        loss = ((_forward(x, ps) - y) ** 2).mean()
        with pytest.warns(UserWarning, match="reference cycle"):
            loss.backward(create_graph=True)
        _sgd(ps)  # sets .grad = None: PyTorch's advice to break the cycle
    return step


def gradient_penalty():
    x, y, ps = _data()

    def step():
        loss = ((_forward(x, ps) - y) ** 2).mean()
        gs = tg.autograd.grad(loss, ps, create_graph=True)
        penalty = sum((g ** 2).sum() for g in gs)
        (loss + 0.1 * penalty).backward()
        _sgd(ps)
    return step


def rnn():
    rng = np.random.default_rng(1)
    W = tg.tensor(rng.standard_normal((4, 4)) * 0.4, requires_grad=True)
    b = tg.tensor(rng.standard_normal(4) * 0.1, requires_grad=True)
    xs = tg.tensor(rng.standard_normal((5, 1, 4)))

    def step():
        h = tg.zeros(1, 4)
        for t in range(5):
            h = tg.tanh(h @ W + b + xs[t])
        (h ** 2).sum().backward()
        _sgd([W, b])
    return step


def exception_mid_forward():
    x, y, ps = _data()
    bad = tg.ones(3, 5)

    def step():
        try:
            h = tg.tanh(x @ ps[0] + ps[1])
            h @ bad  # shapes do not match: raises after some records
        except RuntimeError:
            pass
        loss = ((_forward(x, ps) - y) ** 2).mean()
        loss.backward()
        _sgd(ps)
    return step


LOOPS = [training, evaluation_without_no_grad, evaluation_keeping_the_last_output,
         retain_graph_loop, create_graph_with_grad_none, gradient_penalty, rnn,
         exception_mid_forward]


def _check(first, second, what, slack=RECORD_SLACK):
    r1, b1, m1 = first
    r5, b5, m5 = second
    per_record = max(b1 / r1 if r1 else 0, b5 / r5 if r5 else 0, 48)
    byte_slack = int(per_record * slack)  # the same slack, in bytes (saved values included)
    assert r5 <= r1 + slack, f"{what}: live records {r1} at N, {r5} at 5N"
    assert b5 <= b1 + byte_slack, f"{what}: tape bytes {b1} at N, {b5} at 5N"
    assert m5 <= m1 + RSS_SLACK + byte_slack, \
        f"{what}: RSS {m1 >> 20} MiB at N, {m5 >> 20} MiB at 5N"


@pytest.mark.parametrize("loop", LOOPS, ids=[f.__name__ for f in LOOPS])
def test_loop_memory_does_not_grow_with_iterations(loop):
    if tape._local.seg is not None:
        tape.retire(tape._local.seg)
    step = loop()
    n = getattr(loop, "n", N)
    for _ in range(n):
        step()
    first = _measure()
    for _ in range(4 * n):
        step()
    second = _measure()
    print(f"{loop.__name__}: records/bytes/RSS at N={n}: {first}, at 5N: {second}")
    _check(first, second, loop.__name__, getattr(loop, "slack", RECORD_SLACK))


def test_threads_training_memory_does_not_grow():
    """Two threads train models of their own on shared data; each thread's tape stays flat."""
    results = {}
    barrier = threading.Barrier(2)

    def worker(k):
        x, y, ps = _data()

        def step():
            loss = ((_forward(x, ps) - y) ** 2).mean()
            loss.backward()
            _sgd(ps)
        barrier.wait()
        for _ in range(N):
            step()
        first = _measure()
        for _ in range(4 * N):
            step()
        results[k] = (first, _measure())

    run_threads([functools.partial(worker, k) for k in range(2)])
    for k in range(2):
        first, second = results[k]
        # RSS is the whole process: both threads' steps and allocator noise share it
        _check(first, second, f"thread {k}")
