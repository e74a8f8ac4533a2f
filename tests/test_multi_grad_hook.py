"""``tg.autograd.graph.register_multi_grad_hook`` against PyTorch's."""

import threading

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

A, B, C = [1.0, 2.0], [3.0], 2.0


def _run(lib, backward, mode="all", nonleaf=False):
    """The calls ``fn`` gets over two backwards (``backward(lib, a, b, c)``), as lists."""
    a, b, c = (lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in (A, B, C))
    ts = (a * 1, b * 1, c * 1) if nonleaf else (a, b, c)
    calls = []

    def fn(gs):
        if mode == "any":
            calls.append(gs.tolist())
        else:
            calls.append([None if g is None else g.tolist() for g in gs])

    handle = lib.autograd.graph.register_multi_grad_hook(ts, fn, mode=mode)
    backward(lib, *ts)
    backward(lib, *ts)
    handle.remove()
    backward(lib, *ts)  # (removed: no call)
    return calls


def _some(lib, a, b, c):
    (a * 2).sum().backward(retain_graph=True)


def _every(lib, a, b, c):
    (a.sum() * b * c).sum().backward(retain_graph=True)


def _grad_of_one(lib, a, b, c):
    lib.autograd.grad((a * b).sum(), (a,), retain_graph=True)


def _create_graph(lib, a, b, c):
    ((a * a).sum() * b * c).sum().backward(create_graph=True)


@pytest.mark.parametrize("mode", ["all", "any"])
@pytest.mark.parametrize("nonleaf", [False, True])
@pytest.mark.parametrize("backward", [_some, _every, _create_graph])
def test_calls_match_pytorch(backward, nonleaf, mode):
    ours, theirs = _run(tg, backward, mode, nonleaf), _run(torch, backward, mode, nonleaf)
    if mode == "all":
        assert ours == theirs
    else:  # one call per backward, with a gradient of one of them (which one comes first
        # is the engine's order)
        assert len(ours) == len(theirs) == 2
        grads = _run(torch, backward, "all", nonleaf)[0]
        assert all(g in grads for g in ours)


@pytest.mark.parametrize("mode", ["all", "any"])
def test_pruned_by_inputs_matches_pytorch(mode):
    # (PyTorch refuses leaves here: it cannot tell which leaves autograd.grad will reach)
    assert _run(tg, _grad_of_one, mode, True) == _run(torch, _grad_of_one, mode, True)


def test_grads_finite_differences():
    a = tg.tensor([0.5, -1.5], dtype=tg.float64, requires_grad=True)
    h = a * 1.0
    w = h.exp()
    seen = []
    tg.autograd.graph.register_multi_grad_hook((h, w), seen.append)
    (w * w).sum().backward()
    x = np.array([0.5, -1.5])
    eps = 1e-6
    fd = ((np.exp(2 * (x + eps)) - np.exp(2 * (x - eps))) / (2 * eps))
    (gh, gw), = seen
    np.testing.assert_allclose(gh.numpy(), fd, rtol=1e-6)
    np.testing.assert_allclose(gw.numpy(), 2 * np.exp(x), rtol=1e-12)


def test_reentrant_backward_inside_hook_is_a_backward_of_its_own():
    def calls(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        seen = []
        lib.autograd.graph.register_multi_grad_hook(
            (x, y), lambda gs: seen.append([None if g is None else g.tolist() for g in gs]))

        def reenter(g):
            with lib.enable_grad():
                (y * 5).sum().backward()

        w = x * y
        w.register_hook(reenter)  # (before any of x's and y's: each backward is complete)
        w.sum().backward()
        return seen

    assert calls(tg) == calls(torch)


def test_threads_each_get_their_call():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([3.0], dtype=tg.float64, requires_grad=True)
    seen, lock = [], threading.Lock()

    def fn(gs):
        with lock:
            seen.append([g.tolist() for g in gs])

    tg.autograd.graph.register_multi_grad_hook((x, y), fn)
    errors = []

    def work():
        try:
            for _ in range(5):
                (x.sum() * y).sum().backward()
        except BaseException as e:  # raised in the test below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert seen == [[[3.0, 3.0], [3.0]]] * 15


def test_errors_as_pytorch():
    for lib in (tg, torch):
        a = lib.ones(2, requires_grad=True)
        with pytest.raises(ValueError, match="Expects mode to be one of"):
            lib.autograd.graph.register_multi_grad_hook((a,), print, mode="some")
        with pytest.raises(AssertionError):
            lib.autograd.graph.register_multi_grad_hook((a, lib.ones(2)), print)
        # "any" skips tensors that need no gradient
        lib.autograd.graph.register_multi_grad_hook((a, lib.ones(2)), print, mode="any")


def test_all_hook_removed_mid_backward_is_not_called_as_pytorch():
    # removed by another hook once one of its tensors was reached: PyTorch never calls fn
    # (the other tensor's hook is gone); nor is it called at the end of the backward
    def calls(lib):
        a = lib.ones(2, dtype=lib.float64, requires_grad=True)
        c = a * 2
        seen = []
        h = lib.autograd.graph.register_multi_grad_hook((c, a), lambda gs: seen.append(len(gs)))
        c.register_hook(lambda g: h.remove())
        (c * 3).sum().backward(retain_graph=True)
        (c * 3).sum().backward()
        return seen, a.grad.tolist()

    assert calls(tg) == calls(torch) == ([], [12.0, 12.0])
