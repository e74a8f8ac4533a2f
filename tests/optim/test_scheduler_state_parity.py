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


@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_state_resumes_from_torch(torch, three_phase):
    """OneCycleLR kept its phases as tuples where PyTorch keeps dicts (end_step, start_lr, ...),
    so a state torch.save wrote failed to resume (TypeError comparing the step with a key);
    the state_dicts are now equal, and tuple phases (older tg.save files) still resume."""
    def make(lib):
        opt = _sgd(lib)
        return opt, lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=12,
                                                      three_phase=three_phase)

    opt, sched = make(torch)
    _lrs(torch, sched, opt, [None] * 3)
    buf = io.BytesIO()
    torch.save({"opt": opt.state_dict(), "sched": sched.state_dict()}, buf)
    ref = [(lr, opt.param_groups[0]["momentum"]) for lr in _lrs(torch, sched, opt, [None])] + \
        _lrs(torch, sched, opt, [None] * 7)
    buf.seek(0)
    state = tg.load(buf)
    tg_sched = make(tg)[1]
    assert tg_sched.state_dict() == make(torch)[1].state_dict()
    for tuples in (False, True):
        opt, sched = make(tg)
        s = dict(state["sched"])
        if tuples:
            s["_schedule_phases"] = [tuple(p.values()) for p in s["_schedule_phases"]]
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(s)
        got = [(lr, opt.param_groups[0]["momentum"]) for lr in _lrs(tg, sched, opt, [None])] + \
            _lrs(tg, sched, opt, [None] * 7)
        assert got == pytest.approx(ref, rel=1e-14, abs=0), tuples
