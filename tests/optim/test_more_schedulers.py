"""MultiplicativeLR, ConstantLR, LinearLR, PolynomialLR, CosineAnnealingWarmRestarts,
OneCycleLR, CyclicLR, SequentialLR and ChainedScheduler: learning rates, momenta and parameters step by step against
PyTorch's, and their closed forms without it; optim.swa_utils (SWALR, AveragedModel, update_bn)
against PyTorch's."""

import math
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.conftest import torch_float64_default


def _run(lib, make, opt="SGD", steps=12, opt_kw=None, epoch=None):
    a = lib.nn.Parameter(lib.tensor([1.0, -2.0], dtype=lib.float64))
    b = lib.nn.Parameter(lib.tensor([0.5], dtype=lib.float64))
    o = getattr(lib.optim, opt)([{"params": [a]}, {"params": [b], "lr": 0.2}],
                                **(opt_kw or dict(lr=0.1, momentum=0.9)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = make(lib.optim.lr_scheduler, o)
        trace = []
        for i in range(steps):
            o.zero_grad()
            ((a ** 2).sum() + (b ** 3).sum()).backward()
            o.step()
            s.step() if epoch is None else s.step(epoch(i))
            group = o.param_groups[0]
            trace.append([g["lr"] for g in o.param_groups] +
                         [group.get("momentum", group.get("betas", (None,))[0])])
    return trace, a.tolist() + b.tolist(), s.get_last_lr(), [str(w.message)[:60] for w in caught]


SCHEDULES = {
    "MultiplicativeLR": (lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9), {}),
    "MultiplicativeLR per group": (lambda L, o: L.MultiplicativeLR(
        o, [lambda e: 0.9, lambda e: 0.5 + 0.01 * e]), {}),
    "ConstantLR": (lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=4), {}),
    "LinearLR": (lambda L, o: L.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=7),
                 {}),
    "LinearLR with epochs": (lambda L, o: L.LinearLR(o, 0.2, total_iters=4),
                             {"epoch": lambda i: i + 1}),
    "PolynomialLR": (lambda L, o: L.PolynomialLR(o, total_iters=8, power=2.0), {}),
    "CosineAnnealingWarmRestarts": (lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=3, eta_min=0.01), {"steps": 14}),
    "CosineAnnealingWarmRestarts T_mult": (lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=2, T_mult=2), {"steps": 14}),
    "CosineAnnealingWarmRestarts fractional": (lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=2, T_mult=2), {"steps": 10, "epoch": lambda i: i * 0.7}),
    "OneCycleLR SGD": (lambda L, o: L.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=12), {}),
    "OneCycleLR linear three phases": (lambda L, o: L.OneCycleLR(
        o, max_lr=1.0, total_steps=12, anneal_strategy="linear", three_phase=True), {}),
    "OneCycleLR Adam": (lambda L, o: L.OneCycleLR(
        o, max_lr=0.3, epochs=3, steps_per_epoch=4, pct_start=0.25),
        {"opt": "Adam", "opt_kw": dict(lr=0.1)}),
    "SequentialLR warm-up then cosine": (lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, 0.1, total_iters=3), L.CosineAnnealingLR(o, T_max=6)],
        milestones=[3]), {}),
    "SequentialLR three": (lambda L, o: L.SequentialLR(
        o, [L.ConstantLR(o, 0.5, total_iters=2), L.ExponentialLR(o, 0.9), L.StepLR(o, 2, 0.5)],
        milestones=[2, 6]), {}),
    "CyclicLR triangular": (lambda L, o: L.CyclicLR(o, 0.01, [0.1, 0.3], step_size_up=3),
                            {"steps": 14}),
    "CyclicLR triangular2": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                     step_size_down=3, mode="triangular2"),
                             {"steps": 14}),
    "CyclicLR exp_range Adam": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                        mode="exp_range", gamma=0.9),
                                {"opt": "Adam", "opt_kw": dict(lr=0.1), "steps": 14}),
    "CyclicLR scale_fn": (lambda L, o: L.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                  scale_fn=lambda x: 0.5 ** x,
                                                  scale_mode="iterations",
                                                  cycle_momentum=False), {}),
    "ChainedScheduler": (lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, factor=0.1, total_iters=4), L.ExponentialLR(o, gamma=0.9)]), {}),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedules_match_torch(torch, name):
    make, kw = SCHEDULES[name]
    ours, theirs = _run(tg, make, **kw), _run(torch, make, **kw)
    assert ours[3] == theirs[3]  # warnings
    assert ours[2] == pytest.approx(theirs[2], rel=1e-13, abs=1e-15)
    for x, y in zip(ours[0], theirs[0]):
        assert x == pytest.approx(y, rel=1e-13, abs=1e-15)
    assert ours[1] == pytest.approx(theirs[1], rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("make", [
    lambda L, o: L.ConstantLR(o, factor=1.5),
    lambda L, o: L.LinearLR(o, start_factor=0.0),
    lambda L, o: L.SequentialLR(o, [L.ConstantLR(o)], milestones=[2]),
    lambda L, o: L.OneCycleLR(o, max_lr=1.0),
    lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0),
    lambda L, o: L.CyclicLR(o, 0.01, 0.1, mode="square"),
    lambda L, o: L.ChainedScheduler([]),
    lambda L, o: L.ChainedScheduler([L.ConstantLR(o), L.ReduceLROnPlateau(o)]),
])
def test_schedule_argument_errors_match_torch(torch, make):
    def error(lib):
        o = lib.optim.SGD([lib.nn.Parameter(lib.ones(1))], lr=0.1)
        with pytest.raises(ValueError) as info:
            make(lib.optim.lr_scheduler, o)
        return str(info.value)

    assert error(tg) == error(torch)


def test_schedules_closed_forms_without_torch():
    lrs = _run(tg, lambda L, o: L.LinearLR(o, 0.25, total_iters=3), steps=5)[0]
    assert [t[0] for t in lrs] == pytest.approx([0.05, 0.075, 0.1, 0.1, 0.1])
    lrs = _run(tg, lambda L, o: L.PolynomialLR(o, total_iters=4, power=2.0), steps=5)[0]
    assert [t[0] for t in lrs] == pytest.approx([0.1 * (1 - k / 4) ** 2 for k in (1, 2, 3, 4, 4)])
    lrs = _run(tg, lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=3), steps=6)[0]
    cos = [0.05 * (1 + math.cos(math.pi * k / 3)) for k in (1, 2, 0, 1, 2, 0)]
    assert [t[0] for t in lrs] == pytest.approx(cos)
    trace = _run(tg, lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=10,
                                               anneal_strategy="linear"), steps=9)[0]
    assert max(t[0] for t in trace) == pytest.approx(1.0)  # the peak, at step 2
    assert trace[-1][0] == pytest.approx(0.04 / 1e4)  # initial_lr / final_div_factor
    assert trace[1][2] == pytest.approx(0.85)  # momentum at its low at the lr peak
    with pytest.raises(ValueError, match="Tried to step 6 times"):
        _run(tg, lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=5), steps=6)
    seq = _run(tg, lambda L, o: L.SequentialLR(o, [L.ConstantLR(o, 0.5, total_iters=9),
                                                   L.ExponentialLR(o, 0.5)], milestones=[2]),
               steps=4)[0]
    assert [t[0] for t in seq] == pytest.approx([0.05, 0.1, 0.05, 0.025])


def test_cyclic_and_chained_without_torch():
    trace = _run(tg, lambda L, o: L.CyclicLR(o, 0.0, 1.0, step_size_up=2), steps=8)[0]
    assert [t[0] for t in trace] == pytest.approx([0.5, 1.0, 0.5, 0.0, 0.5, 1.0, 0.5, 0.0])
    assert [t[2] for t in trace][:4] == pytest.approx([0.85, 0.8, 0.85, 0.9])  # momentum
    chained = _run(tg, lambda L, o: L.ChainedScheduler([L.ConstantLR(o, 0.5, total_iters=2),
                                                        L.ExponentialLR(o, 0.5)]), steps=3)
    assert [t[0] for t in chained[0]] == pytest.approx([0.025, 0.025, 0.0125])
    assert chained[2] == pytest.approx([0.0125, 0.025])


def test_cyclic_lr_state_saves_without_its_function():
    import io

    p = tg.nn.Parameter(tg.zeros(2))
    opt = tg.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = tg.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2,
                                           scale_fn=lambda x: 0.9 ** x)
    for _ in range(3):
        opt.step()
        sched.step()
    buffer = io.BytesIO()
    tg.save(sched.state_dict(), buffer)  # (a lambda is not saved: PyTorch leaves it out)
    buffer.seek(0)
    again = tg.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2,
                                           scale_fn=lambda x: 0.9 ** x)
    again.load_state_dict(tg.load(buffer))
    assert again.last_epoch == 3 and again.get_last_lr() == sched.get_last_lr()
    opt.step()
    sched.step()
    again.step()
    assert again.get_last_lr() == pytest.approx(sched.get_last_lr())


def _swa_run(lib, swa_kw):
    swa = __import__(lib.__name__ + ".optim.swa_utils", fromlist=["_"])
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.standard_normal((16, 3)), dtype=lib.float64)
    y = lib.tensor(rng.standard_normal((16, 1)), dtype=lib.float64)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Tanh(),
                              lib.nn.Linear(4, 1)).double()
    with lib.no_grad():
        for k, p in enumerate(model.parameters()):
            p.copy_(lib.tensor(np.random.default_rng(k).standard_normal(tuple(p.shape))))
    averages = [swa.AveragedModel(model),
                swa.AveragedModel(model, multi_avg_fn=swa.get_ema_multi_avg_fn(0.9)),
                swa.AveragedModel(model, avg_fn=swa.get_ema_avg_fn(0.7), use_buffers=True),
                swa.AveragedModel(model, multi_avg_fn=swa.get_swa_multi_avg_fn())]
    opt = lib.optim.SGD([{"params": model[0].parameters()},
                         {"params": list(model[1].parameters()) + list(model[3].parameters()),
                          "lr": 0.2}], lr=0.1, momentum=0.5)
    sched = swa.SWALR(opt, **swa_kw)
    lrs = []
    for _ in range(6):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
        for m in averages:
            m.update_parameters(model)
        sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    swa.update_bn([(x[:8], y[:8]), (x[8:], y[8:])], averages[0])
    states = [{k: v.tolist() for k, v in m.state_dict().items()} for m in averages]
    return lrs, states, averages[0](x[:2]).tolist()


@pytest.mark.parametrize("swa_kw", [dict(swa_lr=0.02, anneal_epochs=3),
                                    dict(swa_lr=[0.05, 0.01], anneal_epochs=2,
                                         anneal_strategy="linear"),
                                    dict(swa_lr=0.05, anneal_epochs=0)])
def test_swa_utils_match_torch(torch, swa_kw):
    """SWALR's learning rates; SWA, EMA (both update forms, with and without buffers)
    averages; update_bn's recomputed statistics; PyTorch's state_dict keys."""
    with torch_float64_default(torch):  # (1 / (n_averaged + 1): a tensor of that dtype)
        ours, theirs = _swa_run(tg, swa_kw), _swa_run(torch, swa_kw)
    assert np.allclose(ours[0], theirs[0], rtol=1e-13, atol=0)
    for a, b in zip(ours[1], theirs[1]):
        assert list(a) == list(b)
        for k in a:
            assert np.allclose(a[k], b[k], rtol=1e-12, atol=1e-14), k
    assert np.allclose(ours[2], theirs[2], rtol=1e-12)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        tg.optim.swa_utils.SWALR(tg.optim.SGD([tg.nn.Parameter(tg.ones(1))], lr=0.1), 0.1,
                                 anneal_strategy="exp")
