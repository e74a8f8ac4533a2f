"""Function transforms: the 100-dimensional Rosenbrock Hessian (tapegrad and PyTorch in the
same process, ``vectorize=True`` and the ``func`` transforms), a 100-output Jacobian (one sweep
carrying every seed against 100 separate backwards), forward mode on a 1000-element chain,
vmap of a per-example gradient, and activation checkpointing of a 100-layer tanh MLP."""

import numpy as np

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


class Jacobian100:
    """A 100-output Jacobian of a 50-input function: ``is_grads_batched=True`` (one sweep
    carrying the 100 seeds), ``functional.jacobian(vectorize=True)``, ``func.jacrev``, and the
    100 separate backwards they replace (target: batched <= 0.2x separate)."""

    params = [["batched", "functional_vectorize", "jacrev", "separate"]]
    param_names = ["api"]
    timeout = 300
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, api):
        import numpy as np

        import tapegrad as tg

        r = rng(3)
        W = tg.tensor(r.standard_normal((100, 50)))
        x = tg.tensor(r.standard_normal(50))

        def f(a):
            return tg.tanh(W @ a).exp() * 2 + W @ a.sin()

        eye = tg.tensor(np.eye(100))
        rows = [tg.tensor(np.eye(100)[i]) for i in range(100)]

        def batched():
            a = x.detach().requires_grad_()
            return tg.autograd.grad(f(a), a, eye, is_grads_batched=True)

        def separate():
            a = x.detach().requires_grad_()
            y = f(a)
            return [tg.autograd.grad(y, a, r_, retain_graph=True) for r_ in rows]

        self.run = {"batched": batched, "separate": separate,
                    "functional_vectorize": lambda: tg.autograd.functional.jacobian(
                        f, x, vectorize=True),
                    "jacrev": lambda: tg.func.jacrev(f)(x)}[api]
        self.run()

    def time_jacobian(self, api):
        self.run()


class ForwardModeChain:
    """``func.jvp`` of a 1000-element elementwise chain: tangents pushed through the records
    (``tapegrad``) and ``torch.func.jvp`` in the same process."""

    params = [["tapegrad", "torch"]]
    param_names = ["library"]
    timeout = 300
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, library):
        r = rng(4)
        x0, t0 = r.uniform(0.5, 1.5, 1000), r.standard_normal(1000)

        def chain(a):
            for _ in range(5):
                a = (a.sin() * a + a.exp() * 0.1).tanh() + a.sqrt()
            return a

        if library == "torch":
            torch = torch_or_skip()
            torch.set_num_threads(1)
            x, t = torch.tensor(x0), torch.tensor(t0)
            self.run = lambda: torch.func.jvp(chain, (x,), (t,))
        else:
            import tapegrad as tg

            x, t = tg.tensor(x0), tg.tensor(t0)
            self.run = lambda: tg.func.jvp(chain, (x,), (t,))
        self.run()

    def time_jvp(self, library):
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


def _mlp_step(every, width, lib="tapegrad"):
    """One step of the 100-layer network (checkpointed every ``every`` layers, 0: never) in
    ``lib``; returns what tapegrad's tape held before the backward (PyTorch: None)."""
    if lib == "torch":
        T = torch_or_skip()
        from torch.utils.checkpoint import checkpoint

        T.set_num_threads(1)
    else:
        import tapegrad as T
        from tapegrad.utils.checkpoint import checkpoint

    r = rng(2)
    ws = [T.tensor(r.standard_normal((width, width)) / np.sqrt(width), requires_grad=True)
          for _ in range(100)]
    x = T.tensor(r.standard_normal((width // 2, width)))

    def block(h, *chunk):
        for w in chunk:
            h = T.tanh(h @ w)
        return h

    def step():
        h = x
        for i in range(0, 100, every or 100):
            chunk = ws[i:i + (every or 100)]
            h = checkpoint(block, h, *chunk, use_reentrant=False) if every else block(h, *chunk)
        peak = T.autograd.tape_stats()["bytes"] if lib == "tapegrad" else None
        h.sum().backward()
        return peak

    return step


class Checkpoint:
    """A 100-layer tanh MLP, batch = width / 2: its cost per layer grows with the width while
    checkpointing's own cost (a segment per chunk, its values recomputed from the kept
    records before the backward sweeps it) stays fixed per chunk."""

    params = [[0, 10], [64, 256]]
    param_names = ["every", "width"]
    timeout = 300
    number = 1
    repeat = (3, 10, 60.0)

    def setup(self, every, width):
        self.run = _mlp_step(every, width)
        self.run()

    def time_step(self, every, width):
        self.run()

    def track_peak_tape_bytes(self, every, width):
        return self.run()

    track_peak_tape_bytes.unit = "bytes"


class CheckpointTorch(Checkpoint):
    """``Checkpoint``'s step in PyTorch (one thread), for the ratio PyTorch's own
    checkpointing pays on the same network (measured: 2.8x at width 64, 1.6x at 256)."""

    def setup(self, every, width):
        self.run = _mlp_step(every, width, "torch")
        self.run()

    def track_peak_tape_bytes(self, every, width):
        raise NotImplementedError("tapegrad's tape only")
