"""tg.compile on training loops as users write them: gradient clipping, learning-rate schedules,
values read from optimizers; compiled against eager tapegrad and, where installed, PyTorch."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.conftest import torch_float64_default


def _np(t):
    return None if t is None else np.array(t.detach().numpy() if hasattr(t, "detach") else t)


def _close(a, b, rtol=1e-12):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, rtol)
        return
    np.testing.assert_allclose(_np(b), _np(a), rtol=rtol, atol=1e-14)


def _run(make, B, calls, compiled=False):
    """``make(B)`` -> (step, params); the step's outputs and the parameters after each call."""
    step, params = make(B)
    if compiled:
        step = tg.compile(step)
    trail = []
    for x in calls:
        out = step(B.tensor(x))
        trail.append((out, [_np(p) for p in params], [_np(p.grad) for p in params]))
    return trail, step


def _compare_all(make, calls, warn=None, programs=None):
    """Compiled against eager (and PyTorch); ``warn``: the fallback's message, else none."""
    want, _ = _run(make, tg, calls)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        got, step = _run(make, tg, calls, compiled=True)
    msgs = [str(w.message) for w in seen if "tg.compile" in str(w.message)]
    if warn is None:
        assert msgs == []
    else:
        assert len(msgs) == 1 and warn in msgs[0], msgs
    if programs is not None:
        assert step._count == programs
    for (o1, p1, g1), (o2, p2, g2) in zip(want, got):
        _close(o1, o2)
        _close(p1, p2)
        for a, b in zip(g1, g2):
            assert (a is None) == (b is None)
            if a is not None:
                _close(a, b)
    try:
        import torch
    except ImportError:
        return
    with torch_float64_default(torch):
        ref, _ = _run(make, torch, calls)
    for (o1, p1, _), (o2, p2, _) in zip(ref, got):
        _close(o1, o2, 1e-10)
        _close(p1, p2, 1e-10)


def _linear_fit(opt_name, clip=None, sched=None, read_lr=False, **kw):
    def make(B):
        r = np.random.default_rng(0)
        w = B.tensor(r.standard_normal((3, 2)), requires_grad=True)
        b = B.tensor(r.standard_normal(2), requires_grad=True)
        X = B.tensor(r.standard_normal((8, 3)))
        opt = getattr(B.optim, opt_name)([w, b], lr=0.1, **kw)
        sch = sched(B.optim.lr_scheduler, opt) if sched else None
        utils = B.nn.utils

        def step(y):
            opt.zero_grad()
            loss = ((X @ w + b - y) ** 2).mean()
            loss.backward()
            if clip is not None:
                utils.clip_grad_norm_([w, b], clip)
            opt.step()
            if sch is not None:
                sch.step()
            if read_lr:
                return loss.detach(), opt.param_groups[0]["lr"]
            return loss.detach()

        return step, [w, b]

    return make


def _targets(n, seed=1):
    r = np.random.default_rng(seed)
    return [r.standard_normal((8, 2)) * 3 for _ in range(n)]


# ---- clip_grad_norm_ scales .grad through NumPy: traced whole (compile/clip_nodes.py) ----

@pytest.mark.parametrize("opt_name", ["Adam", "SGD"])
def test_clip_grad_norm_before_an_optimizer_step_is_never_dropped(opt_name):
    # Adam's step read the unclipped gradients the replay had (silently other parameters)
    _compare_all(_linear_fit(opt_name, clip=0.05), _targets(5), programs=1)


def test_clip_grad_norm_at_the_end_of_the_function_leaves_the_clipped_grad():
    def make(B):
        w = B.tensor([3.0, 4.0], requires_grad=True)

        def step(x):
            w.grad = None
            (w * x).sum().backward()
            B.nn.utils.clip_grad_norm_([w], 1.0)
            return x * 2

        return step, [w]

    _compare_all(make, [np.array([3.0, 4.0])] * 3, programs=1)


# ---- Python values of optimizers and schedulers ----

def test_learning_rate_read_from_the_optimizer_follows_its_changes():
    make = _linear_fit("SGD", read_lr=True, momentum=0.9)
    calls = _targets(6)
    results = {}  # the rate changes between calls, as a scheduler stepped outside changes it
    for name, compiled in (("eager", False), ("compiled", True)):
        fn, params = make(tg)
        opt = fn.__closure__[[c.cell_contents.__class__.__name__ for c in fn.__closure__]
                             .index("SGD")].cell_contents
        f = tg.compile(fn) if compiled else fn
        out = []
        for k, y in enumerate(calls):
            if k == 3:
                opt.param_groups[0]["lr"] = 0.01
            loss, lr = f(tg.tensor(y))
            out.append((loss.item(), lr, _np(params[0])))
        results[name] = out
    for (l1, r1, p1), (l2, r2, p2) in zip(results["eager"], results["compiled"]):
        assert r1 == r2
        _close(l1, l2)
        _close(p1, p2)


def test_hand_update_with_a_rate_read_from_an_adam_optimizer():
    results = {}
    for compiled in (False, True):
        w = tg.tensor([1.0, 2.0], requires_grad=True)
        opt = tg.optim.Adam([w], lr=0.1)

        def step(x, w=w, opt=opt):
            lr = opt.param_groups[0]["lr"]
            w.grad = None
            (w * x).pow(2).sum().backward()
            with tg.no_grad():
                w.sub_(lr * w.grad)
            return w.detach().clone()

        f = tg.compile(step) if compiled else step
        x = tg.tensor([1.0, 1.0])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # replayed: w and opt, default arguments, are found
            out = [f(x), f(x)]
            opt.param_groups[0]["lr"] = 0.0  # the update must stop
            out += [f(x), f(x)]
        results[compiled] = out
        if compiled:
            assert f._count == 2  # the rate was baked in, so it is guarded
    _close(results[False], results[True])
    _close(results[True][2], results[True][1])


@pytest.mark.parametrize("opt_name,kw", [("Adam", {}), ("SGD", {"momentum": 0.9}), ("SGD", {})])
@pytest.mark.parametrize("sched", ["exp", "lambda", "cosine"])
def test_scheduler_stepped_inside_replays_without_recording_again(opt_name, kw, sched):
    make_sched = {"exp": lambda S, o: S.ExponentialLR(o, gamma=0.8),
                  "lambda": lambda S, o: S.LambdaLR(o, lambda e: 1.0 / (1 + e)),
                  "cosine": lambda S, o: S.CosineAnnealingLR(o, T_max=4)}[sched]
    _compare_all(_linear_fit(opt_name, sched=make_sched, **kw), _targets(8), programs=1)


def test_plain_sgd_with_a_scheduler_stepped_outside():
    results = {}
    for compiled in (False, True):
        w = tg.tensor([2.0, -3.0], requires_grad=True)
        opt = tg.optim.SGD([w], lr=0.1)
        sch = tg.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)

        def step(x, w=w, opt=opt):
            loss = ((w - x) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        f = tg.compile(step) if compiled else step
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(10):  # epochs
                for _ in range(3):
                    out.append(f(tg.tensor([0.0, 1.0])))
                sch.step()
        results[compiled] = out + [w.detach()]
        if compiled:
            assert f._count <= 2  # the second trace leaves the rate to SGD's own step
    _close(results[False], results[True])


# ---- what runs eagerly says why ----

def test_recording_every_call_gives_up_once_with_a_hint():
    make = _linear_fit("Adam")

    def with_item(B):
        step, params = make(B)
        return (lambda y: step(y).item()), params

    calls = _targets(12)
    want, _ = _run(with_item, tg, calls)
    with pytest.warns(RuntimeWarning, match=r"loss\.detach\(\)"):
        got, step = _run(with_item, tg, calls, compiled=True)
    for (o1, p1, _), (o2, p2, _) in zip(want, got):
        _close(o1, o2)
        _close(p1, p2)
    assert all(v is tg.compile._Eager for v in step._cache.values())


def test_an_op_without_a_handler_is_named_through_its_gradient_function():
    conv = tg.nn.ConvTranspose2d(1, 2, 3)  # (nn.Conv2d's convolution is replayed)

    def f(x):
        return tg.relu(conv(x)).sum()

    with pytest.raises(RuntimeError, match="Convolution"):
        tg.compile(f, fullgraph=True)(tg.randn(1, 1, 5, 5))
