"""Function transforms: the 100-dimensional Rosenbrock Hessian (tapegrad and PyTorch in the
same process, ``vectorize=True`` and the ``func`` transforms), vmap of a per-example
gradient, and activation checkpointing of a 100-layer tanh MLP."""

from .common import rng, torch_or_skip


def _rosen(a):
    return ((1 - a[:-1]) ** 2 + 100 * (a[1:] - a[:-1] ** 2) ** 2).sum()


class RosenbrockHessian:
    params = [["tapegrad", "torch"], ["functional_vectorize", "func_hessian"]]
    param_names = ["library", "api"]
    timeout = 300
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, library, api):
        x0 = rng(0).standard_normal(100)
        if library == "torch":
            torch = torch_or_skip()
            torch.set_num_threads(1)
            x = torch.tensor(x0)
            if api == "functional_vectorize":
                self.run = lambda: torch.autograd.functional.hessian(_rosen, x, vectorize=True)
            else:
                self.run = lambda: torch.func.hessian(_rosen)(x)
        else:
            import tapegrad as tg

            x = tg.tensor(x0)
            if api == "functional_vectorize":
                self.run = lambda: tg.autograd.functional.hessian(_rosen, x, vectorize=True)
            else:
                self.run = lambda: tg.func.hessian(_rosen)(x)
        self.run()

    def time_hessian(self, library, api):
        self.run()


class PerExampleGrad:
    timeout = 300
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self):
        import tapegrad as tg

        r = rng(1)
        w = tg.tensor(r.standard_normal((16, 16)))
        xs = tg.tensor(r.standard_normal((64, 16)))
        g = tg.vmap(tg.func.grad(lambda w, x: tg.tanh(x @ w).pow(2).sum()), in_dims=(None, 0))
        self.run = lambda: g(w, xs)
        self.run()

    def time_vmap_grad(self):
        self.run()


def _mlp_step(every):
    import tapegrad as tg
    from tapegrad.utils.checkpoint import checkpoint

    r = rng(2)
    ws = [tg.tensor(r.standard_normal((64, 64)) / 8.0, requires_grad=True) for _ in range(100)]
    x = tg.tensor(r.standard_normal((32, 64)))

    def block(h, *chunk):
        for w in chunk:
            h = tg.tanh(h @ w)
        return h

    def step():
        h = x
        peak = 0
        for i in range(0, 100, every or 100):
            chunk = ws[i:i + (every or 100)]
            h = checkpoint(block, h, *chunk, use_reentrant=False) if every else block(h, *chunk)
        peak = tg.autograd.tape_stats()["bytes"]
        h.sum().backward()
        return peak

    return step


class Checkpoint:
    params = [[0, 10]]
    param_names = ["every"]
    timeout = 300
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, every):
        self.run = _mlp_step(every)
        self.run()

    def time_step(self, every):
        self.run()

    def track_peak_tape_bytes(self, every):
        return self.run()

    track_peak_tape_bytes.unit = "bytes"
