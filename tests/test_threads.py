"""Threads: one tape and one grad mode per thread, thread-safe accumulation,
tensors crossing threads, and the compiled sweep running without the GIL."""

import threading
import time

import numpy as np
import pytest
from thread_runner import run_threads

import tapegrad as tg
from tapegrad import tape


def test_each_thread_has_its_own_tape_and_grad_mode():
    seen = {}
    x = tg.tensor(1.0, requires_grad=True)

    def worker():
        seen["enabled"] = tg.is_grad_enabled()
        y = x * 2
        seen["rg"] = y.requires_grad
        seen["seg"] = y._seg
        seen["local"] = tape._local.seg
        tg.set_grad_enabled(False)
        y.backward()

    with tg.no_grad():
        run_threads([worker])
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert seen["enabled"] and seen["rg"]
    assert seen["local"] is seen["seg"] and seen["seg"] is not tape._local.seg
    assert x.grad.item() == 2.0


def test_concurrent_backward_on_a_shared_leaf():
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    start = threading.Barrier(4)

    def worker():
        start.wait()
        for _ in range(50):
            (w * 2).sum().backward()

    run_threads([worker] * 4)
    np.testing.assert_array_equal(w.grad.numpy(), [400.0, 400.0, 400.0])


def test_shared_leaf_imported_at_different_record_ids():
    """Each thread uses the shared leaf after a different number of records, so a torn
    (segment, record) import cache would send gradients to the wrong record."""
    w = tg.tensor([0.5, -0.25], requires_grad=True)
    start = threading.Barrier(4)
    out = {}

    def worker(k):
        def run():
            u = tg.tensor([1.0, 2.0], requires_grad=True)
            start.wait()
            for i in range(60):
                z = u
                for _ in range((i + k) % 5):
                    z = z * 1.0
                (z * w).sum().backward()
            out[k] = u.grad.numpy().copy()
        return run

    run_threads([worker(k) for k in range(4)])
    np.testing.assert_allclose(w.grad.numpy(), 240 * np.array([1.0, 2.0]))
    for k in range(4):
        np.testing.assert_allclose(out[k], 60 * np.array([0.5, -0.25]))


def test_tensor_from_another_thread_backprops():
    x = tg.tensor([0.3, -0.7], requires_grad=True)
    made = {}

    def producer():
        made["h"] = (x * 2.0).exp()  # history on the producer's tape

    run_threads([producer])
    h = made["h"]
    res = {}

    def consumer():
        y = (h * 3.0).sum() + (x * x).sum()
        y.backward()
        res["ok"] = True

    run_threads([consumer])
    xv = x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 6 * np.exp(2 * xv) + 2 * xv, rtol=1e-14)
    assert res["ok"]


def test_import_from_a_newer_foreign_segment_keeps_order():
    """Thread B starts recording first; A's tensor (a newer segment) joins B's graph later."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    b_started, a_done = threading.Event(), threading.Event()
    made, res = {}, {}

    def b():
        early = (x * 3.0).sin()  # B's segment: lower order than A's
        b_started.set()
        a_done.wait()
        h = made["h"]
        assert h._seg.order > early._seg.order
        y = (early * h).sum()
        y.backward()
        res["done"] = True

    def a():
        b_started.wait()
        made["h"] = (x * x).exp()
        a_done.set()

    run_threads([b, a])
    xv = np.array([1.0, 2.0])
    expect = 3 * np.cos(3 * xv) * np.exp(xv ** 2) + np.sin(3 * xv) * np.exp(xv ** 2) * 2 * xv
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-13)
    assert res["done"]


def test_producer_keeps_recording_while_consumer_sweeps():
    """The producer's segment is closed when another thread imports from it."""
    x = tg.tensor(0.5, requires_grad=True)
    handoff, go = threading.Event(), threading.Event()
    made, res = {}, {}

    def producer():
        h = x.sin()
        made["h"] = h
        handoff.set()
        go.wait()
        y = x
        for _ in range(20_000):  # records (and flushes) while the consumer sweeps h
            y = y * 1.0
        y.backward()
        res["producer"] = True

    def consumer():
        handoff.wait()
        h = made["h"]
        z = h
        for _ in range(5000):
            z = z * 1.0
        go.set()
        (g,) = tg.autograd.grad(z, x)
        res["g"] = g.item()

    run_threads([producer, consumer])
    assert res["g"] == pytest.approx(np.cos(0.5), rel=1e-14)
    assert x.grad.item() == 1.0 and res["producer"]


def test_hooks_run_on_the_thread_that_calls_backward():
    x = tg.tensor(2.0, requires_grad=True)
    where = []

    def worker():
        y = x * 3
        y.register_hook(lambda g: where.append(threading.get_ident()))
        y.backward()
        where.append(("caller", threading.get_ident()))

    run_threads([worker])
    assert where[0] == where[1][1] != threading.get_ident()


def test_sweep_kernel_releases_the_gil():
    from tapegrad.engine import sweep

    assert sweep.kernel().targetoptions.get("nogil") is True


def test_two_threads_sweep_big_tapes_concurrently():
    n, reps = 50_000, 40
    results = {}
    ready = threading.Barrier(2)

    def worker(k):
        def run():
            x = tg.tensor(np.linspace(-1, 1, n) + k, requires_grad=True)
            y = x
            for _ in range(reps):
                y = tg.sin(y) * 0.9 + y * 0.1
            loss = y.sum()
            ready.wait()  # both tapes recorded: sweep them at the same time
            loss.backward()
            results[k] = x.grad.numpy()
        return run

    run_threads([worker(0), worker(1)])
    for k in range(2):
        xv = np.linspace(-1, 1, n) + k
        g = np.ones(n)
        for _ in range(reps):
            g = g * (0.9 * np.cos(xv) + 0.1)
            xv = np.sin(xv) * 0.9 + xv * 0.1
        np.testing.assert_allclose(results[k], g, rtol=1e-12)


# ---- a backward on one thread while another records on the same segment ----------------------

def test_consumer_sweeps_the_producers_growing_segment():
    """One thread records without pause; another differentiates its newest output again and
    again (retain_graph keeps the producer on one segment, so every flush of pending records
    races the consumer's read of the record buffer). 20 rounds, every gradient exact."""
    for _ in range(20):
        x = tg.tensor(0.5, requires_grad=True)
        shared = {"y": None, "done": False}
        got = []

        def producer():
            # at least 12,000 steps, and on until the consumer has swept a few times (a thread
            # may start late on a busy machine, or spend its first call compiling the sweep)
            deadline = time.monotonic() + 60
            try:
                i = 0
                while i < 12_000 or (len(got) < 5 and time.monotonic() < deadline):
                    shared["y"] = (x * 1.0) * 2.0
                    i += 1
            finally:
                shared["done"] = True

        def consumer():
            while not shared["done"]:
                y = shared["y"]
                if y is not None:
                    got.append(tg.autograd.grad(y, x, retain_graph=True)[0].item())

        run_threads([producer, consumer])
        assert got and set(got) == {2.0}
        assert x.grad is None


def test_backward_on_another_thread_while_the_owner_records():
    """The owner hands each result to a consumer, which calls ``backward`` on it (sweeping and
    freeing the owner's current segment) while the owner records the next ones."""
    import queue

    for _ in range(20):
        x = tg.tensor(0.5, requires_grad=True)
        w = tg.tensor([1.0, -2.0, 0.5], requires_grad=True)
        q = queue.Queue(maxsize=4)
        items = 60

        def producer():
            try:
                for i in range(items):
                    y = x
                    for _ in range(20):
                        y = y * 1.0 + 0.0
                    q.put(y * 2.0 + (w * 1.0).sum())
            finally:
                q.put(None)

        def consumer():
            try:
                while (y := q.get()) is not None:
                    y.backward()
            except BaseException:
                while q.get() is not None:  # let the producer finish, then report
                    pass
                raise

        run_threads([producer, consumer])
        assert x.grad.item() == 2.0 * items
        np.testing.assert_array_equal(w.grad.numpy(), [items] * 3)


def test_eight_threads_accumulate_into_shared_leaves():
    """8 threads, shared leaves, each thread its own graphs: ``.grad`` sums exactly."""
    for _ in range(20):
        w = tg.tensor([0.5, -1.0, 2.0, 0.25], requires_grad=True)
        s = tg.tensor(3.0, requires_grad=True)
        start = threading.Barrier(8)
        steps = 10

        def worker(k):
            def run():
                c = tg.tensor([1.0, 2.0, 3.0, 4.0]) * (k + 1)
                start.wait()
                for _ in range(steps):
                    (w * c).sum().backward()  # d/dw = c
                    (s * (k + 1)).backward()  # d/ds = k + 1
            return run

        run_threads([worker(k) for k in range(8)])
        np.testing.assert_array_equal(w.grad.numpy(), steps * 36 * np.array([1.0, 2, 3, 4]))
        assert s.grad.item() == steps * 36


def test_unpack_hook_that_waits_for_a_thread_unpacking_a_graph_of_its_own():
    # the worker's unpacking must not wait for this one's (they shared one lock)
    hooks = tg.autograd.graph.saved_tensors_hooks
    w = tg.tensor([0.5, 1.5], requires_grad=True)

    def worker(out):
        with hooks(lambda t: t, lambda t: t):
            y = (w * w).sin()
        out.append(tg.autograd.grad(y.sum(), w)[0])

    def unpack(t):
        out = []
        th = threading.Thread(target=worker, args=(out,), daemon=True)
        th.start()
        th.join(5)
        assert out, "the worker's unpacking waited for this one"
        return t

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with hooks(lambda t: t, unpack):
        y = (x * x).sin()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 * np.cos(1.0), 4 * np.cos(4.0)], rtol=1e-14)
