"""Higher order: Hessian-vector products by double backward, tapegrad vs PyTorch (one process).

``f(x) = sum(tanh(A @ x) ** 2)``, float64, ``g = grad(f, x, create_graph=True)``,
``hvp = grad(g, x, v)``. Compilation happens in ``setup`` (one warm-up call), never in
``time_*``. ``track_records_per_record`` reports what re-taping costs in tape records.
"""

from .common import rng, torch_or_skip


def _problem(n):
    r = rng(0)
    return r.standard_normal((n, n)) / n ** 0.5, r.standard_normal(n), r.standard_normal(n)


def make_hvp(library, n):
    """A zero-argument function computing one HVP with ``library`` ("tapegrad" or "torch")."""
    A, x0, v0 = _problem(n)
    if library == "torch":
        torch = torch_or_skip()
        torch.set_num_threads(1)
        lib, grad = torch, torch.autograd.grad
        At, v = torch.tensor(A), torch.tensor(v0)
        x = torch.tensor(x0, requires_grad=True)
    else:
        import tapegrad as lib

        grad = lib.autograd.grad
        At, v = lib.tensor(A), lib.tensor(v0)
        x = lib.tensor(x0, requires_grad=True)

    def hvp():
        f = (lib.tanh(At @ x) ** 2).sum()
        g = grad(f, x, create_graph=True)[0]
        return grad(g, x, v)[0]

    return hvp


class HessianVectorProduct:
    params = [[50, 200], ["tapegrad", "torch"]]
    param_names = ["n", "library"]
    timeout = 300
    repeat = (3, 10, 60.0)

    def setup(self, n, library):
        self.hvp = make_hvp(library, n)
        self.hvp()  # compile / warm caches outside the timing

    def time_hvp(self, n, library):
        self.hvp()


class RetapeRecords:
    """Records the re-taping sweep emits per record of the forward graph (f has 4 + 1 import)."""

    def setup(self):
        import tapegrad as tg

        A, x0, _ = _problem(20)
        self.At, self.x, self.tg = tg.tensor(A), tg.tensor(x0, requires_grad=True), tg

    def track_records_per_record(self):
        tg = self.tg
        f = (tg.tanh(self.At @ self.x) ** 2).sum()
        seg = f._seg
        before = seg.n
        forward = before - 1  # minus the IMPORT of x
        tg.autograd.grad(f, self.x, create_graph=True)
        return (seg.n - before) / forward

    track_records_per_record.unit = "records"


class HessianRosenbrock:
    params = [["tapegrad", "torch"]]
    param_names = ["library"]
    repeat = (3, 10, 60.0)

    def setup(self, library):
        x0 = rng(1).uniform(-1, 1, 5)
        if library == "torch":
            torch = torch_or_skip()
            F, x = torch.autograd.functional, torch.tensor(x0)
        else:
            import tapegrad as tg

            F, x = tg.autograd.functional, tg.tensor(x0)

        def rosen(a):
            return (100.0 * (a[1:] - a[:-1] ** 2) ** 2 + (1.0 - a[:-1]) ** 2).sum()

        self.run = lambda: F.hessian(rosen, x)
        self.run()

    def time_hessian(self, library):
        self.run()
