"""The compiled sweep alone (kernel time per record), and full backward on graph shapes."""

import numpy as np


def _chain(tg, n):
    x = tg.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(n // 4):
        y = y * 0.9999 + tg.sin(y) * 0.01
    return x, y


class ScalarSweep:
    """10^6 scalar records: ns per record of the compiled loop (target <= 10 ns)."""

    timeout = 300

    def setup(self):
        import tapegrad as tg
        from tapegrad import _config, tape
        from tapegrad.engine.addresses import address
        from tapegrad.engine.sweep import _SCRATCH, Sweep, kernel

        # one segment, so the kernel sees all 10^6 records (the chain keeps one tensor alive,
        # which would otherwise close the segment at tape._ROLL_RECORDS)
        _config.SEGMENT_CAP = 1 << 21
        tape._ROLL_RECORDS = 1 << 21
        self.x, self.y = _chain(tg, 1_000_000)
        self.sw = Sweep(self.y._seg)
        self.k, self.addr = kernel(), address
        # the kernel's scratch layout (odometer, pending count, a zero) is the engine's
        self.scratch = np.zeros(_SCRATCH, np.int64)
        self.n = self.y._seg.n
        assert self.n >= 1_000_000, self.n
        self._kernel()

    def _kernel(self):
        sw, t = self.sw, self.sw.tabs
        sw.adj[:] = 0.0
        sw.reached[:] = 0
        sw.scratch[:] = 0
        sw.seed(self.y._rec, np.ones(1))  # counts the seed as pending in sw.scratch
        self.scratch[:] = sw.scratch
        self.k(sw.recs, sw.offs, sw.adj, sw.reached, int(self.addr(t.fv)), t.aptr, t.iptr,
               t.iaux, t.faux, self.scratch, self.y._rec, 0, -1)

    def time_kernel_1e6_records(self):
        self._kernel()

    def track_kernel_ns_per_record(self):

        best = min(self._timed() for _ in range(5))
        return best / self.n * 1e9

    track_kernel_ns_per_record.unit = "ns"

    def _timed(self):
        import time

        t0 = time.perf_counter()
        self._kernel()
        return time.perf_counter() - t0


class GraphShapes:
    """Full forward + backward on HIPS/autograd bench_core-style graphs."""

    params = [["long_sin_chain", "fan_out_fan_in"]]
    param_names = ["graph"]

    def setup(self, graph):
        import tapegrad as tg

        self.tg = tg
        self.x = tg.tensor(np.linspace(0.1, 1.0, 100), requires_grad=True)
        self.time_forward_backward(graph)

    def time_forward_backward(self, graph):
        tg, x = self.tg, self.x
        x.grad = None
        if graph == "long_sin_chain":
            y = x
            for _ in range(200):
                y = tg.sin(y)
        else:  # Pearlmutter's fan-out/fan-in: many uses of x summed
            y = sum((x * float(i)).sin() for i in range(1, 200))
        y.sum().backward()


BROADCAST_CASES = {  # (scaled operand, batch): a per-feature scale of a large batch
    "gmm_qdiag_times_xc": ((1, 25, 10), (1000, 25, 10)),
    "layer_scale_gamma": ((256,), (4000, 256)),
}


class BroadcastSavedGrads:
    """``(q * x * w).sum()`` forward and backward with ``q`` broadcast over a batch, tapegrad
    and PyTorch: the record saves ``q`` as a broadcast view, not a batch-sized copy; ``track_``
    gives the bytes NumPy holds between the forward and the backward (tapegrad only)."""

    params = [list(BROADCAST_CASES), ["tapegrad", "torch"]]
    param_names = ["case", "implementation"]

    def setup(self, case, impl):
        from .common import library

        qs, xs = BROADCAST_CASES[case]
        r = np.random.default_rng(0)
        L = library(impl)
        self.q = L.tensor(r.standard_normal(qs), requires_grad=True)
        self.x = L.tensor(r.standard_normal(xs), requires_grad=True)
        self.w = L.tensor(r.standard_normal(xs))
        self.run()  # compile outside the timing

    def forward(self):
        return (self.q * self.x * self.w).sum()

    def run(self):
        self.q.grad = self.x.grad = None
        self.forward().backward()

    def time_forward_backward(self, case, impl):
        self.run()

    def track_megabytes_held_after_forward(self, case, impl):
        import tracemalloc

        if impl != "tapegrad":
            raise NotImplementedError  # (asv: not measured)
        tracemalloc.start()
        loss = self.forward()
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        loss.backward()
        return held / 1e6

    track_megabytes_held_after_forward.unit = "MB"


class FanOutGrads:
    """``((sin(u) * w + u * u + tanh(u) - u) * w).sum()`` forward and backward, ``u`` a large
    intermediate read by four records, tapegrad and PyTorch: each record after the first
    adds its formula into ``u``'s adjoint in one pass (the formula, then the addition, was
    two). (Without the last ``* w`` every record's gradient would be the sum's stride-0 view,
    which only NumPy's formulas read.)"""

    params = [[200_000, 2_000_000], ["tapegrad", "torch"]]
    param_names = ["n", "implementation"]

    def setup(self, n, impl):
        from .common import library

        r = np.random.default_rng(1)
        L = library(impl)
        self.L = L
        self.x = L.tensor(r.standard_normal(n), requires_grad=True)
        self.w = L.tensor(r.standard_normal(n))
        self.time_forward_backward(n, impl)  # compile outside the timing

    def time_forward_backward(self, n, impl):
        L, w = self.L, self.w
        self.x.grad = None
        u = self.x * 1.5
        ((L.sin(u) * w + u * u + L.tanh(u) - u) * w).sum().backward()
