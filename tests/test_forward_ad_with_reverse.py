"""forward_ad levels mixed with reverse mode: a backward inside the level, tensors that
require grad, compared with torch.autograd.forward_ad."""

import numpy as np
import pytest

import tapegrad as tg

X = [0.5, -1.0, 2.0]
V = [1.0, 0.25, -0.5]
W = [1.5, -2.0, 0.75]


def _libs():
    torch = pytest.importorskip("torch")
    return [(tg, tg.autograd.forward_ad), (torch, torch.autograd.forward_ad)]


def _np(t):
    return None if t is None else t.detach().numpy()


def _backward_then_tangent(lib, fw, case):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    p = lib.tensor(X, dtype=lib.float64, requires_grad=case == "primal requires grad")
    lib.manual_seed(0)
    lin = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        lin.weight.copy_(lib.tensor([W, V], dtype=lib.float64))
        lin.bias.fill_(0.5)
    with fw.dual_level():
        d = fw.make_dual(p, lib.tensor(V, dtype=lib.float64))
        y = {"weight": lambda: (d * w).sin(), "primal requires grad": lambda: d * d.exp(),
             "linear": lambda: lin(d).tanh()}[case]()
        y.sum().backward()  # frees nothing the tangent below needs
        primal, tangent = fw.unpack_dual(y)
        grads = [_np(t.grad) for t in (w, p, lin.weight)]
        assert primal.requires_grad and tangent.requires_grad
    return _np(primal), _np(tangent), grads


def _tangent_differentiated(lib, fw):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    with fw.dual_level():
        d = fw.make_dual(lib.tensor(X, dtype=lib.float64), lib.tensor(V, dtype=lib.float64))
        tangent = fw.unpack_dual((d * w).sin() * d).tangent
        tangent.sum().backward()
    return _np(tangent), _np(w.grad)


@pytest.mark.parametrize("case", ["weight", "primal requires grad", "linear"])
def test_backward_inside_a_level_then_unpack_dual(case):
    (ours, theirs) = [_backward_then_tangent(lib, fw, case) for lib, fw in _libs()]
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for ga, gb in zip(ours[2], theirs[2]):
        assert (ga is None) == (gb is None)
        if ga is not None:
            np.testing.assert_allclose(ga, gb, rtol=1e-12)


def test_tangent_differentiable_in_a_weight():
    (ours, theirs) = [_tangent_differentiated(lib, fw) for lib, fw in _libs()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_tangent_by_finite_differences_after_backward():
    w = tg.tensor(W, dtype=tg.float64, requires_grad=True)
    fw = tg.autograd.forward_ad
    f = lambda x: (x * w).sin() * x  # noqa: E731
    with fw.dual_level():
        y = f(fw.make_dual(tg.tensor(X, dtype=tg.float64), tg.tensor(V, dtype=tg.float64)))
        y.sum().backward()
        tangent = fw.unpack_dual(y).tangent.detach().numpy()
    eps = 1e-6
    with tg.no_grad():
        hi = f(tg.tensor(np.add(X, np.multiply(eps, V)))).numpy()
        lo = f(tg.tensor(np.subtract(X, np.multiply(eps, V)))).numpy()
    np.testing.assert_allclose(tangent, (hi - lo) / (2 * eps), rtol=1e-7)


def _made_leaf(lib, fw, case):
    with fw.dual_level():
        d = fw.make_dual(lib.tensor(X, dtype=lib.float64), lib.tensor(V, dtype=lib.float64))
        leaf = {"dual": lambda: d, "clone": lambda: d.clone(), "view": lambda: d[0:2],
                "result": lambda: (d * 3.0).exp()}[case.split()[0]]()
        if case.endswith("setter"):
            leaf.requires_grad = True
        else:
            assert leaf.requires_grad_() is leaf
        flags = (leaf.requires_grad, leaf.is_leaf, leaf.grad_fn is None)
        y = leaf.sin() * leaf
        y.sum().backward()
        primal, tangent = fw.unpack_dual(y)
        got = (_np(leaf.grad), _np(primal), _np(tangent), tangent.requires_grad,
               _np(fw.unpack_dual(leaf).tangent), _np(fw.unpack_dual(d * 2.0).tangent))
    return flags, got, (leaf.requires_grad, leaf.is_leaf)


@pytest.mark.parametrize("case", ["dual", "clone", "view", "result", "dual setter",
                                  "clone setter"])
def test_requires_grad_on_a_dual_makes_a_leaf_with_its_tangent(case):
    (ours, theirs) = [_made_leaf(lib, fw, case) for lib, fw in _libs()]
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    for a, b in zip(ours[1], theirs[1]):
        if isinstance(b, bool):
            assert a == b
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def _after_level(lib, fw):
    w = lib.tensor(W, dtype=lib.float64, requires_grad=True)
    with fw.dual_level():
        d = fw.make_dual(lib.tensor(X, dtype=lib.float64), lib.tensor(V, dtype=lib.float64))
        y, z = (d * 2.0).exp(), d * w
    later = y * 3.0
    flags = [(t.requires_grad, t.is_leaf, t.grad_fn is None) for t in (d, y, z, later, y * w)]
    with pytest.raises(RuntimeError, match="does not require grad"):
        later.sum().backward()
    (y * w).sum().backward()  # reaches w, not the duals' hidden leaves
    got = _np(w.grad)
    z.sum().backward()
    return flags, got, _np(w.grad)


def test_results_of_duals_alone_require_no_grad_after_the_level():
    (ours, theirs) = [_after_level(lib, fw) for lib, fw in _libs()]
    assert ours[0] == theirs[0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_no_hook_left_once_the_level_results_are_gone():
    import gc
    import sys

    module = sys.modules[tg.Tensor.__module__]
    fw = tg.autograd.forward_ad
    with fw.dual_level():
        y = fw.make_dual(tg.tensor(X), tg.tensor(V)) * 2.0
    assert not y.requires_grad
    del y
    gc.collect()
    assert module.dual_only is None  # (requires_grad reads one global test again)


def test_level_open_around_a_training_loop_frees_each_steps_graph():
    # a dual made per step inside one open level: once a step's dual and results are gone,
    # its records and saved values are freed (backward inside a level keeps the graph for
    # unpack_dual), as PyTorch's, instead of growing with every step
    fwAD = tg.autograd.forward_ad
    tg.manual_seed(0)
    model = tg.nn.Sequential(tg.nn.Linear(8, 8), tg.nn.Tanh(), tg.nn.Linear(8, 2))
    opt = tg.optim.SGD(model.parameters(), lr=1e-3)
    x = tg.randn(4, 8)
    stats = []
    with fwAD.dual_level():
        for step in range(30):
            opt.zero_grad()
            loss = model(fwAD.make_dual(x, tg.ones_like(x))).pow(2).mean()
            loss.backward()
            opt.step()
            if step in (9, 29):
                stats.append(tg.autograd.tape_stats())
        y = model(fwAD.make_dual(x, tg.ones_like(x))).sum()  # (the level still works)
        y.backward()
        w1, w2 = model[0].weight, model[2].weight
        want = ((1 - model[1](model[0](x)) ** 2) * w1.sum(1)) @ w2.T
        assert np.allclose(fwAD.unpack_dual(y).tangent.item(), want.sum().item())
    assert stats[1]["records"] == stats[0]["records"]
    assert stats[1]["bytes"] == stats[0]["bytes"]


def test_results_of_a_closed_levels_result_answer_requires_grad_without_a_pass_each(
        monkeypatch):
    # after a level closed, each new result computed from a result of its duals asks whether
    # it reaches a leaf requiring grad: the segment's answer grows with its records instead
    # of a pass over every record per question (a loop of n ops was O(n^2)); values of
    # requires_grad as PyTorch's, interleaved with results that do require grad
    torch = pytest.importorskip("torch")
    from tapegrad.autograd import prune

    passes = []
    masks = prune.Pruning._masks
    monkeypatch.setattr(prune.Pruning, "_masks", lambda self, s: passes.append(s) or
                        masks(self, s))
    got = []
    for lib, fw in ((tg, tg.autograd.forward_ad), (torch, torch.autograd.forward_ad)):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        with fw.dual_level():
            y = fw.make_dual(lib.zeros(3, dtype=lib.float64),
                             lib.ones(3, dtype=lib.float64)) * 2
        flags, z = [], y
        for i in range(60):
            z = z * 2 if i % 7 else z * w
            flags.append((z.requires_grad, (y * 3).requires_grad, z.grad_fn is None))
        got.append(flags)
    assert got[0] == got[1]
    assert len(passes) < 10


def test_backward_twice_in_a_level_without_duals_raises_as_pytorch():
    # only a level holding duals keeps what a backward sweeps (for unpack_dual)
    torch = pytest.importorskip("torch")
    for lib, fw in ((tg, tg.autograd.forward_ad), (torch, torch.autograd.forward_ad)):
        w = lib.ones(3, dtype=lib.float64, requires_grad=True)
        with fw.dual_level():
            y = (w.sin() * w).sum()
            y.backward()
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                y.backward()


def test_backward_twice_through_duals_raises_as_pytorch_tangents_still_computed():
    # a level holding duals keeps what a backward sweeps for unpack_dual, but a second
    # backward through it (or a read of a saved value) raises as PyTorch's freed graph does
    torch = pytest.importorskip("torch")
    got = []
    for lib, fw in ((tg, tg.autograd.forward_ad), (torch, torch.autograd.forward_ad)):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        m = lib.ones(3, 3, dtype=lib.float64, requires_grad=True)
        with fw.dual_level():
            d = fw.make_dual(x, lib.ones(3, dtype=lib.float64))
            h = d.sin() * d
            e = d.exp()
            y = (h.sum() + (m @ h).sum())
            y.backward()
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                y.backward()
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                lib.autograd.grad(y, x)
            tangents = [fw.unpack_dual(h).tangent.detach().numpy(),
                        fw.unpack_dual(y).tangent.detach().numpy()]
            e.sum().backward()  # another branch: its records were never swept
            with pytest.raises(RuntimeError, match="backward through the graph a second time"):
                e.grad_fn._saved_result
            grads = [x.grad.numpy().copy(), m.grad.numpy().copy()]
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            y.backward()
        got.append((tangents, grads))
    for a, b in zip(got[0], got[1]):
        for u, v in zip(a, b):
            np.testing.assert_allclose(u, v, rtol=1e-12)
