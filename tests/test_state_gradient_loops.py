"""A simulation loop that asks, at every step, for the gradient of an energy with respect to
its current state (a non-leaf carrying the whole history), as a leapfrog integrator does."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.autograd import prune


def _leapfrog(lib, steps, dt=0.05):
    q0 = lib.tensor([1.0, 0.3], dtype=lib.float64, requires_grad=True)
    p0 = lib.tensor([0.0, 1.0], dtype=lib.float64, requires_grad=True)
    k = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)

    def force(q):
        energy = 0.5 * k * (q ** 2).sum() + 0.1 * (q ** 4).sum()
        return lib.autograd.grad(energy, q, create_graph=True)[0]

    q, p = q0, p0
    for _ in range(steps):
        p = p - dt / 2 * force(q)
        q = q + dt * p
        p = p - dt / 2 * force(q)
    loss = (q ** 2).sum() + 0.5 * (p ** 2).sum()
    return [g.detach().numpy() for g in lib.autograd.grad(loss, (q0, p0, k))]


def test_gradients_through_a_leapfrog_loop_match_pytorch():
    torch = pytest.importorskip("torch")
    for got, want in zip(_leapfrog(tg, 60), _leapfrog(torch, 60)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_each_step_does_not_pass_over_every_earlier_step(monkeypatch):
    # every autograd.grad here closes a tape segment; each call's pruning visits the segments
    # of all earlier steps (the state depends on them) but must not loop over their records:
    # that made the loop quadratic (200 steps: 80k passes, 17x PyTorch's time)
    passes = []
    grow = prune.Pruning.grow

    def counting(self, seg, m, need_of=None):
        passes.append(1)
        return grow(self, seg, m, need_of)

    monkeypatch.setattr(prune.Pruning, "grow", counting)
    steps = 100
    _leapfrog(tg, steps)
    assert len(passes) <= 4 * steps


def test_each_step_does_not_visit_every_earlier_step(monkeypatch):
    # the inputs asked for at each step (the state) are newer than every earlier step's
    # segment, so none of those can lead to them: they are not visited at all
    visits = []
    import_needs = prune.Pruning._import_needs

    def counting(self, seg, start):
        visits.append(1)
        return import_needs(self, seg, start)

    monkeypatch.setattr(prune.Pruning, "_import_needs", counting)
    steps = 100
    _leapfrog(tg, steps)
    assert len(visits) <= 8 * steps  # (quadratic: over 10000)
