"""tg.optim against torch.optim: float64 trajectories equal to 1e-12, schedules, state."""

import copy
import math

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as F
from tests.conftest import torch_float64_default

TOL = dict(rtol=1e-12, atol=1e-12)

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.2)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2), maximize=True)),
    ("ASGD", dict(lr=0.05)),
    ("ASGD", dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5, weight_decay=0.1)),
]


def _loss(lib, w, b, X):
    h = (X @ w + b)
    return (lib.tanh(h) ** 2).sum() + (w ** 4).sum() * 0.1


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{k}" for n, k in CONFIGS])
def test_trajectory_matches_torch(torch, name, kw):
    rng = np.random.default_rng(0)
    w0, b0 = rng.standard_normal((4, 3)), rng.standard_normal(3)
    w, b = tg.tensor(w0, requires_grad=True), tg.tensor(b0, requires_grad=True)
    tw, tb = torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    X = rng.standard_normal((6, 4))
    # two parameter groups, the second with its own lr
    opt = getattr(tg.optim, name)([{"params": [w]}, {"params": [b], "lr": 0.03}], **kw)
    topt = getattr(torch.optim, name)([{"params": [tw]}, {"params": [tb], "lr": 0.03}], **kw)
    with torch_float64_default(torch):  # (ASGD's eta and mu: scalars of the default dtype)
        _steps(opt, topt, w, b, tw, tb, X)
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["lr"] == 0.03
    assert sorted(opt.state[w]) == sorted(topt.state[tw])


def _steps(opt, topt, w, b, tw, tb, X):
    import torch

    Xt, Xth = tg.tensor(X), torch.tensor(X)
    for _ in range(25):
        def closure():
            opt.zero_grad()
            loss = _loss(tg, w, b, Xt)
            loss.backward()
            return loss

        def tclosure():
            topt.zero_grad()
            loss = _loss(torch, tw, tb, Xth)
            loss.backward()
            return loss

        l1, l2 = opt.step(closure), topt.step(tclosure)
        np.testing.assert_allclose(l1.item(), l2.item(), **TOL)
    np.testing.assert_allclose(w.detach().numpy(), tw.detach().numpy(), **TOL)
    np.testing.assert_allclose(b.detach().numpy(), tb.detach().numpy(), **TOL)


def test_state_dict_round_trip():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal(5)

    def run(n, opt=None, w=None):
        for _ in range(n):
            opt.zero_grad()
            ((w - 1) ** 2).sum().backward()
            opt.step()

    w = tg.tensor(w0, requires_grad=True)
    opt = tg.optim.Adam([w], lr=0.1)
    run(3, opt, w)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"} and sd["param_groups"][0]["params"] == [0]
    w_copy = tg.tensor(w.detach().numpy().copy(), requires_grad=True)
    opt2 = tg.optim.Adam([w_copy], lr=0.5)
    opt2.load_state_dict(copy.deepcopy(sd))
    assert opt2.param_groups[0]["lr"] == 0.1
    run(4, opt, w)
    run(4, opt2, w_copy)
    np.testing.assert_array_equal(w.detach().numpy(), w_copy.detach().numpy())


def _rosen_np(v):
    a, b = v
    f = (1 - a) ** 2 + 100 * (b - a * a) ** 2
    return f, np.array([-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)])


_T = np.linspace(0.0, 4.0, 25)
_Y = 2.5 * np.exp(-1.3 * _T) + 0.4 + 0.01 * np.sin(7 * _T)


def _decay_np(v):
    """Least squares of a * exp(-b t) + c against fixed data: 3 parameters."""
    a, b, c = v
    e = np.exp(-b * _T)
    r = a * e + c - _Y
    return float(r @ r), np.array([2 * r @ e, -2 * r @ (a * _T * e), 2 * r.sum()])


def _lbfgs_points(lib, fn, x0, steps, **kw):
    """Every point where L-BFGS evaluates ``fn`` (a NumPy closure, so that both libraries see
    bit-identical losses and gradients), and the losses ``step`` returns."""
    x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
    opt = lib.optim.LBFGS([x], **kw)
    points, losses = [], []

    def closure():
        v = x.detach().numpy().copy()
        points.append(v)
        f, g = fn(v)
        x.grad = lib.tensor(g)
        return lib.tensor(f, dtype=lib.float64)  # torch.tensor(float) would be float32

    for _ in range(steps):
        losses.append(opt.step(closure).item())
    st = opt.state[x]
    return np.array(points), np.array(losses), (st["func_evals"], st["n_iter"])


@pytest.mark.parametrize("fn,x0", [(_rosen_np, [-1.5, 2.0]), (_decay_np, [1.0, 0.5, 0.0])],
                         ids=["rosenbrock", "exp-decay-fit"])
@pytest.mark.parametrize("ls,lr", [("strong_wolfe", 1.0), (None, 0.1)])
def test_lbfgs_every_iterate_matches_torch(torch, fn, x0, ls, lr):
    """Every point L-BFGS evaluates, in and between line-search steps, equals PyTorch's to
    1e-12 (in fact to the last bit): vector updates are fused multiply-adds and dot products
    are summed in BLAS ddot's order, as PyTorch's CPU kernels do. With NumPy's ``y += a * x``
    and ``dot`` the Rosenbrock iterates drift apart by 3e-10 (strong Wolfe) and 4e-6 (fixed
    step) within 8 steps."""
    kw = dict(lr=lr, line_search_fn=ls, history_size=5, max_iter=10)
    ours = _lbfgs_points(tg, fn, x0, 8, **kw)
    theirs = _lbfgs_points(torch, fn, x0, 8, **kw)
    assert ours[0].shape == theirs[0].shape and len(ours[0]) > 20
    np.testing.assert_allclose(ours[0], theirs[0], **TOL)
    np.testing.assert_allclose(ours[1], theirs[1], **TOL)
    assert ours[2] == theirs[2]


def test_lbfgs_fused_primitives_are_exact():
    """The update is one rounding of alpha * x + y (checked with exact rationals), and the dot
    product is a fixed-order sum of correctly rounded fused multiply-adds."""
    from fractions import Fraction

    from tapegrad.optim._fused import axpy, dot

    rng = np.random.default_rng(0)
    y, x, alpha = rng.standard_normal(37), rng.standard_normal(37), float(rng.standard_normal())
    expect = [float(Fraction(alpha) * Fraction(float(b)) + Fraction(float(a)))
              for a, b in zip(y, x)]
    axpy(y, alpha, x)
    np.testing.assert_array_equal(y, expect)
    u, v = rng.standard_normal(3), rng.standard_normal(3)
    assert dot(u, v) == (u[0] * v[0] + u[2] * v[2]) + u[1] * v[1]
    u, v = rng.standard_normal(1000), rng.standard_normal(1000)
    assert abs(dot(u, v) - float(sum(Fraction(a) * Fraction(b) for a, b in zip(u, v)))) < 1e-12
    y32 = np.ones(3, np.float32)
    axpy(y32, 2.0, np.ones(3, np.float32))  # other dtypes: NumPy arithmetic
    np.testing.assert_array_equal(y32, [3, 3, 3])
    assert dot(y32, y32) == 27.0


def test_rosenbrock_lbfgs_autograd_closure(torch):
    """The usual closure (loss.backward()): PyTorch's iterates, and its converged point."""
    x = tg.tensor([-1.5, 2.0], requires_grad=True)
    tx = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = tg.optim.LBFGS([x], line_search_fn="strong_wolfe")
    topt = torch.optim.LBFGS([tx], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        return loss

    def tclosure():
        topt.zero_grad()
        loss = (1 - tx[0]) ** 2 + 100 * (tx[1] - tx[0] ** 2) ** 2
        loss.backward()
        return loss

    for _ in range(5):
        opt.step(closure)
        topt.step(tclosure)
        np.testing.assert_allclose(x.detach().numpy(), tx.detach().numpy(), **TOL)
    np.testing.assert_allclose(x.detach().numpy(), [1.0, 1.0], atol=1e-5)


def _sched_lrs(lib, make, n=25, metric=None):
    w = lib.zeros(2, requires_grad=True)
    opt = lib.optim.SGD([{"params": [w]}, {"params": [lib.zeros(1, requires_grad=True)],
                                           "lr": 0.3}], lr=1.0)
    sched = make(lib.optim.lr_scheduler, opt)
    out = []
    for i in range(n):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric(i))
        out.append([g["lr"] for g in opt.param_groups])
    return out


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)),
    "ReduceLROnPlateau": lambda m, o: m.ReduceLROnPlateau(o, factor=0.5, patience=2,
                                                          cooldown=1),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_schedulers_match_torch(torch, name):
    metric = (lambda i: [5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2][i % 12]) \
        if name == "ReduceLROnPlateau" else None
    ours = _sched_lrs(tg, SCHEDULES[name], metric=metric)
    theirs = _sched_lrs(torch, SCHEDULES[name], metric=metric)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)
    assert len({tuple(r) for r in ours}) > 1


def test_mlp_adamw_steplr_script_matches_torch(torch):
    """An MLP with nn.Linear + F.cross_entropy + AdamW + StepLR for 20 steps, as in PyTorch."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 4)), rng.integers(0, 3, 32)
    tg.manual_seed(0)

    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.Tanh(),
                             nn.Linear(16, 3))

    torch.manual_seed(0)
    tmodel = build(torch).double()
    model = build(tg)
    model.load_state_dict({k: tg.tensor(v.detach().numpy())
                           for k, v in tmodel.state_dict().items()})
    results = []
    for lib, m, Fn in ((tg, model, F), (torch, tmodel, torch.nn.functional)):
        opt = lib.optim.AdamW(m.parameters(), lr=0.01, weight_decay=0.05)
        sched = lib.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        Xl, yl = lib.tensor(X), lib.tensor(y)
        losses = []
        for _ in range(20):
            opt.zero_grad()
            loss = Fn.cross_entropy(m(Xl), yl, label_smoothing=0.05)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(loss.item())
        results.append((losses, [p.detach().numpy() for p in m.parameters()]))
    np.testing.assert_allclose(results[0][0], results[1][0], **TOL)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, **TOL)
    assert results[0][0][-1] < results[0][0][0]


def test_optimizer_errors():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        tg.optim.SGD([], lr=0.1)
    x = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        tg.optim.Adam([x * 2])
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an "
                                        "iterable of Tensors or dicts"):
        tg.optim.Adam(x)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        tg.optim.AdamW([x], lr=-1)
    with pytest.raises(ValueError, match="Invalid eta values: 1.5, 1.2"):
        tg.optim.Rprop([x], etas=(1.5, 1.2))
    opt = tg.optim.SGD([x], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter "
                                         "group"):
        opt.add_param_group({"params": [x]})
    with pytest.raises(ValueError, match="LBFGS doesn't support per-parameter options"):
        tg.optim.LBFGS([{"params": [x]}, {"params": [tg.zeros(1, requires_grad=True)]}])
    assert math.isfinite(opt.param_groups[0]["lr"])


def test_lbfgs_float32_keeps_float32_scalars(torch):
    """PyTorch's L-BFGS keeps its curvature scalars as float32 tensors for float32
    parameters; computed in float64 instead, the iterates drifted apart within 3 steps."""
    trace = []
    for lib in (tg, torch):
        x = lib.tensor([-1.5, 2.0], dtype=lib.float32, requires_grad=True)
        opt = lib.optim.LBFGS([x])
        for _ in range(3):
            def closure():
                opt.zero_grad()
                loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
                loss.backward()
                return loss

            opt.step(closure)
        trace.append(x.tolist())
    np.testing.assert_allclose(trace[0], trace[1], rtol=1e-5)
    assert isinstance(opt.state[x]["H_diag"], torch.Tensor)


def test_lbfgs_state_holds_tensors_as_torch(torch):
    """L-BFGS's state keeps tensors where PyTorch's does (direction, curvature pairs and
    scalars, previous gradient), with PyTorch's values; a state dict whose entries are tensors
    (any checkpoint) loads and the run goes on as PyTorch's."""
    rng = np.random.default_rng(3)
    A, b = rng.standard_normal((6, 3)), rng.standard_normal(6)
    runs = []
    for lib in (tg, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        At, bt = lib.tensor(A), lib.tensor(b)

        def make():
            return lib.optim.LBFGS([x], lr=0.5, max_iter=3, history_size=2)

        opt = make()

        def closure():
            opt.zero_grad()
            loss = (lib.tanh(At @ x - bt) ** 2).sum()
            loss.backward()
            return loss

        losses = [opt.step(closure).item() for _ in range(2)]
        state = opt.state[x]
        kept = {k: (type(v).__name__, [type(e).__name__ for e in v] if isinstance(v, list)
                    else None) for k, v in state.items()}
        firsts = [state["d"], state["prev_flat_grad"], state["H_diag"], state["ro"][0],
                  state["old_dirs"][-1], state["al"][0]]
        firsts = [np.array(v.tolist()) for v in firsts]
        sd = opt.state_dict()
        opt = make()
        opt.load_state_dict(sd)
        losses += [opt.step(closure).item() for _ in range(2)]
        runs.append((kept, firsts, losses, x.tolist()))
    (kept, firsts, losses, x), (tkept, tfirsts, tlosses, tx) = runs
    assert kept == tkept and kept["d"][0] == "Tensor"
    for a, b in zip(firsts, tfirsts):
        np.testing.assert_allclose(a, b, **TOL)
    np.testing.assert_allclose(losses, tlosses, **TOL)
    np.testing.assert_allclose(x, tx, **TOL)


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Rprop",
                                  "ASGD", "Adadelta"])
def test_capturable_on_cpu_refused_at_step_as_torch(torch, name):
    """capturable=True with CPU parameters: PyTorch's AssertionError at the step (naming each
    optimizer's state and devices), for a parameter with a gradient only; it ran before."""
    messages = []
    for lib in (torch, tg):
        w, b = lib.ones(3, requires_grad=True), lib.ones(1, requires_grad=True)
        opt = getattr(lib.optim, name)([{"params": [w]}, {"params": [b], "capturable": True}],
                                       lr=0.01)
        (w.sum() * 2).backward()
        opt.step()  # (the capturable group's parameter has no gradient)
        (b.sum() * 2).backward()
        with pytest.raises(AssertionError) as info:
            opt.step()
        messages.append(str(info.value))
    assert messages[1] == messages[0] and messages[1].startswith("If capturable=True, params")


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "RMSprop"])
def test_differentiable_step_refused_not_silently_unrecorded(torch, name):
    """differentiable=True: PyTorch records the step (a leaf parameter raises its in-place
    error; through a non-leaf one gradients reach what the update read). tapegrad's steps are
    not recorded: it raises PyTorch's error for a leaf and NotImplementedError otherwise, where
    it stepped silently and the gradient through the update was wrong."""
    messages = []
    for lib in (torch, tg):
        w = lib.ones(2, requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=0.1, differentiable=True)
        w.grad = lib.ones(2)
        with pytest.raises(RuntimeError) as info:
            opt.step()
        messages.append(str(info.value))
    assert messages[1] == messages[0]
    w0, s = tg.tensor([1.0, -2.0], requires_grad=True), tg.tensor(0.5, requires_grad=True)
    w = w0 * 1.0
    opt = getattr(tg.optim, name)([w], lr=0.1, differentiable=True)
    w.grad = s * tg.ones(2)  # (PyTorch: d(w_new ** 2).sum() / ds = 0.22 for SGD)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        opt.step()
    assert w.tolist() == [1.0, -2.0]


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_refusals_as_torch(torch, name):
    """fused=True: PyTorch refuses it with foreach=True or differentiable=True when the
    optimizer is made, and at the step for a complex parameter; tapegrad accepted all three
    (the complex parameter stepped). Each error is PyTorch's, in its type and words."""
    for kw in (dict(foreach=True), dict(differentiable=True)):
        messages = []
        for lib in (torch, tg):
            with pytest.raises(RuntimeError) as info:
                getattr(lib.optim, name)([lib.ones(2, requires_grad=True)], lr=0.1, fused=True,
                                         **kw)
            messages.append(str(info.value))
        assert messages[1] == messages[0]
    messages = []
    for lib in (torch, tg):
        w = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        z = lib.tensor(np.array([1 + 2j, -1j]), requires_grad=True)
        opt = getattr(lib.optim, name)([w, z], lr=0.1, fused=True)
        z.grad = lib.ones(2, dtype=lib.complex128)
        with pytest.raises(RuntimeError) as info:
            opt.step()
        messages.append(str(info.value))
        np.testing.assert_array_equal(z.detach().numpy(), [1 + 2j, -1j])
    assert messages[1] == messages[0]
    trajectories = []  # a float parameter steps as without fused=True, as PyTorch's
    for lib in (torch, tg):
        w = lib.tensor(np.linspace(-1.0, 1.0, 7), requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=0.05, fused=True)
        for _ in range(5):
            opt.zero_grad()
            (w.sin() * w).sum().backward()
            opt.step()
        trajectories.append(w.detach().numpy())
    np.testing.assert_allclose(trajectories[1], trajectories[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_lr_with_foreach_refused_as_torch(torch, name):
    """A tensor lr with foreach=True and capturable=False: PyTorch's Adam and AdamW refuse it
    when made (ValueError); tapegrad accepted it. Without foreach it steps as PyTorch's."""
    messages = []
    for lib in (torch, tg):
        with pytest.raises(ValueError) as info:
            getattr(lib.optim, name)([lib.ones(2, requires_grad=True)], lr=lib.tensor(0.01),
                                     foreach=True)
        messages.append(str(info.value))
    assert messages[1] == messages[0]
    steps = []
    for lib in (torch, tg):
        w = lib.tensor(np.array([0.5, -1.5]), requires_grad=True)
        opt = getattr(lib.optim, name)([w], lr=lib.tensor(0.1, dtype=lib.float64),
                                       weight_decay=0.1)
        for _ in range(3):
            opt.zero_grad()
            (w ** 3).sum().backward()
            opt.step()
        steps.append(w.detach().numpy())
    np.testing.assert_allclose(steps[1], steps[0], rtol=1e-12, atol=0)
