"""One model stepped three ways: ``tg.compile`` of the step, the same step eagerly, and PyTorch.

``assert_adam_steps_agree`` builds the model with each library from the same seed, copies the
compiled one's weights into the other two, runs four Adam steps on the same batches, and checks
the compiled step recorded once and matches eager to 1e-12 and PyTorch to 1e-10.
"""

import warnings

import numpy as np
import torch

import tapegrad as tg


def assert_adam_steps_agree(make_model, make_loss, batch, steps=4):
    """``make_model(lib)`` -> a module; ``make_loss(lib)`` -> ``loss(output, target)``;
    ``batch(lib, rng)`` -> ``(input, target)``."""
    models = {"compiled": make_model(tg), "eager": make_model(tg), "torch": make_model(torch)}
    sd = models["compiled"].state_dict()
    models["eager"].load_state_dict(sd)
    models["torch"].load_state_dict({k: torch.tensor(v.numpy()) for k, v in sd.items()})
    results = {}
    for name, m in models.items():
        lib = torch if name == "torch" else tg
        opt = lib.optim.Adam(m.parameters(), lr=0.01)
        loss_of = make_loss(lib)

        def step(x, y, m=m, opt=opt, loss_of=loss_of):
            opt.zero_grad()
            loss = loss_of(m(x), y)
            loss.backward()
            opt.step()
            return loss.detach()

        f = tg.compile(step, fullgraph=True) if name == "compiled" else step
        rng = np.random.default_rng(1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            losses = [f(*batch(lib, rng)).item() for _ in range(steps)]
        if name == "compiled":
            assert f._count == 1
        results[name] = losses, [p.detach().numpy() for p in m.parameters()]
    for other, tol in (("eager", 1e-12), ("torch", 1e-10)):
        np.testing.assert_allclose(results["compiled"][0], results[other][0], rtol=tol)
        for a, b in zip(results["compiled"][1], results[other][1]):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * 1e-2)


def assert_replay_agrees(fn, arrays, rtol=1e-12, atol=1e-12):
    """``fn(lib, *tensors)`` -> a tensor. ``tg.compile`` of its value and its gradients (a seed
    of ones, every input) records once, without a warning, and its replays on the recorded
    inputs and on them shifted by 0.3 equal eager's bit for bit and PyTorch's to rtol/atol."""

    def f(*xs):
        y = fn(tg, *xs)
        return (y,) + tg.autograd.grad(y, xs, tg.ones_like(y))

    compiled = tg.compile(f, fullgraph=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled(*[tg.tensor(a, requires_grad=True) for a in arrays])  # (recording)
        for shift in (0.0, 0.3):
            args = [tg.tensor(a + shift, requires_grad=True) for a in arrays]
            got, want = compiled(*args), f(*args)
            for a, e in zip(got, want):
                np.testing.assert_array_equal(a.detach().numpy(), e.detach().numpy())
            targs = [torch.tensor(a + shift, requires_grad=True) for a in arrays]
            ty = fn(torch, *targs)
            tgrads = torch.autograd.grad(ty, targs, torch.ones_like(ty))
            for a, t in zip(got, (ty,) + tgrads):
                np.testing.assert_allclose(a.detach().numpy(), t.detach().numpy(),
                                           rtol=rtol, atol=atol)
    assert compiled._count == 1
