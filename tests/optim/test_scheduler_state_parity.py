"""Scheduler states as PyTorch keeps them: MultiStepLR's milestones (a Counter, with its closed
form for ``step(epoch)``), saved and resumed across tg.save/tg.load and torch.save."""

import io
import warnings
from collections import Counter

import pytest

import tapegrad as tg


def _lrs(lib, sched, opt, epochs):
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (step(epoch) is deprecated, in both)
        for e in epochs:
            opt.step()
            sched.step() if e is None else sched.step(e)
            out.append(opt.param_groups[0]["lr"])
    return out


def _sgd(lib):
    return lib.optim.SGD([lib.zeros(2, requires_grad=True)], lr=1.0, momentum=0.9)


@pytest.mark.parametrize("milestones", [[2, 5], [2, 2, 4], [4, 1, 1]])
def test_multistep_milestones_and_closed_form_as_torch(torch, milestones):
    """MultiStepLR kept its milestones as a sorted list (PyTorch: a Counter, in its state_dict
    too) and had no closed form, so ``step(epoch)`` left the lr at its base (1.0 where PyTorch
    gives base * gamma ** (milestones passed))."""
    runs = []
    for lib in (torch, tg):
        opt = _sgd(lib)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones, gamma=0.5)
        runs.append((sched, _lrs(lib, sched, opt, [None, None, 3, 5, 1, 6, None, None])))
    (ts, want), (s, got) = runs
    assert got == want
    assert type(s.milestones) is Counter and s.milestones == ts.milestones
    assert s.state_dict() == ts.state_dict()


def test_multistep_state_resumes_across_saves(torch):
    """A MultiStepLR state written by torch.save resumes in tapegrad as in PyTorch; tapegrad's
    own state round-trips through tg.save, and a state whose milestones are a plain list (as
    tapegrad saved them before) still resumes."""
    steps = [None] * 6
    opt, ref = _sgd(torch), None
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2, 2, 5], gamma=0.5)
    _lrs(torch, sched, opt, [None] * 3)
    buf = io.BytesIO()
    torch.save(sched.state_dict(), buf)
    ref = _lrs(torch, sched, opt, steps)
    buf.seek(0)
    state = tg.load(buf)
    for variant in ("torch", "tg.save", "list"):
        opt = _sgd(tg)
        s = tg.optim.lr_scheduler.MultiStepLR(opt, [1], gamma=0.5)
        if variant == "tg.save":
            b = io.BytesIO()
            tg.save(state, b)
            b.seek(0)
            state = tg.load(b)
            assert type(state["milestones"]) is Counter
        loaded = dict(state, milestones=sorted(state["milestones"].elements())) \
            if variant == "list" else state
        s.load_state_dict(loaded)
        opt.param_groups[0]["lr"] = state["_last_lr"][0]
        assert _lrs(tg, s, opt, steps) == ref, variant
