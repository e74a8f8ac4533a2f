"""Tensor hooks, retain_grad and post-accumulate hooks, as in PyTorch."""

import re
import warnings

import numpy as np
import pytest

import tapegrad as tg


def leaf(values):
    return tg.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_leaf_hook_and_handle():
    x = leaf([1.0, 2.0])
    h = x.register_hook(lambda g: g * 2)
    assert type(h).__name__ == "RemovableHandle"
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    h.remove()
    h.remove()  # twice is fine
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    with x.register_hook(lambda g: g * 10):
        (x * 1).sum().backward()
    (x * 1).sum().backward()
    assert x.grad.tolist() == [11.0, 11.0]


def test_observer_hook():
    seen = []
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: seen.append(g.tolist()))
    (x * x).sum().backward()
    assert seen == [[2.0, 4.0]] and x.grad.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("order", ["hook_first", "retain_first"])
def test_nonleaf_hook_changes_upstream_and_retain_order(order):
    def setup():
        x = leaf([1.0, 1.0])
        y = x * 2
        if order == "retain_first":
            y.retain_grad()
        y.register_hook(lambda g: g * 10)
        if order == "hook_first":
            y.retain_grad()
        return x, y

    x, y = setup()
    (y * 3).sum().backward()
    assert x.grad.tolist() == [60.0, 60.0]
    assert y.grad.tolist() == [30.0, 30.0]  # stored after all hooks
    x, y = setup()
    g, = tg.autograd.grad((y * 3).sum(), x, create_graph=True)  # re-taping sweep
    assert g.tolist() == [60.0, 60.0]


def test_leaf_hook_sees_only_new_gradient():
    x = leaf([1.0])
    x.grad = tg.tensor([100.0])
    seen = []

    def hook(g):
        seen.append(g.tolist())
        return g * 2

    x.register_hook(hook)
    (x * 3).sum().backward()
    assert seen == [[3.0]] and x.grad.tolist() == [106.0]


def test_hooks_chain_in_order():
    for make in (lambda x: x, lambda x: x * 1):
        x = leaf([1.0])
        t = make(x)
        seen = []
        t.register_hook(lambda g: g + 1)
        t.register_hook(lambda g: (seen.append(g.item()), g * 10)[1])
        (t * 1).sum().backward()
        assert seen == [2.0] and x.grad.tolist() == [20.0]


def test_hook_called_once_with_summed_gradient():
    for make in (lambda x: x, lambda x: x * 1):
        x = leaf([1.0])
        t = make(x)
        calls = []
        t.register_hook(lambda g: calls.append(g.tolist()))
        (t * 2 + t * 3).sum().backward()
        assert calls == [[5.0]]


def test_hook_across_segments_called_once():
    from tapegrad import tape

    x = leaf([1.0])
    calls = []
    x.register_hook(lambda g: calls.append(g.item()))
    a = x * 2
    tape.retire(tape.current())  # the next records go to a new segment
    b = x * 3 + a
    b.sum().backward()
    assert calls == [5.0]


def test_hooks_under_autograd_grad():
    x = leaf([1.0])
    x.register_hook(lambda g: g * 2)
    assert tg.autograd.grad((x * 3).sum(), x)[0].tolist() == [6.0]
    assert x.grad is None
    x2 = leaf([1.0])
    y = x2 * 3
    y.register_hook(lambda g: g * 5)
    assert tg.autograd.grad((y * 2).sum(), x2)[0].tolist() == [30.0]
    # a hook on a leaf that autograd.grad was not asked about does not run
    z, calls = leaf([1.0]), []
    z.register_hook(lambda g: calls.append(g))
    tg.autograd.grad((x * z).sum(), x)
    assert calls == []


def test_hook_errors():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't "
                                           "require gradient"):
        tg.ones(1).register_hook(lambda g: g)
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: tg.ones(3))
    with pytest.raises(RuntimeError, match="hook '<lambda>' has changed the size of value"):
        (x * 1).sum().backward()
    y = leaf([1.0, 2.0])
    t = y * 1
    t.register_hook(lambda g: 3)
    with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
        (t * 1).sum().backward()
    # a hook may not change the gradient's dtype (a leaf's .grad would be of another type)
    for make in (lambda: leaf([1.0, 2.0]), lambda: leaf([1.0, 2.0]) * 1):
        for to, name in ((tg.float32, "torch.FloatTensor"), (tg.int64, "torch.LongTensor"),
                         (tg.bool, "CPUBoolType"), (tg.complex128, "CPUComplexDoubleType")):
            z = make()
            z.register_hook(lambda g, to=to: g.to(to))
            with pytest.raises(RuntimeError, match=re.escape(
                    "hook '<lambda>' has changed the type of value (was torch.DoubleTensor got "
                    f"{name})")):
                (z * 2).sum().backward()


def test_hook_exception_leaves_library_usable():
    x = leaf([1.0, 2.0])
    y = x * 2

    def boom(g):
        raise ValueError("boom")

    h = y.register_hook(boom)
    with pytest.raises(ValueError, match="boom"):
        (y * 3).sum().backward()
    assert tg.is_grad_enabled()
    h.remove()
    (y * 3).sum().backward()  # the graph was not freed by the failed backward
    assert x.grad.tolist() == [6.0, 6.0]
    z = leaf([3.0])
    (z * z).backward()
    assert z.grad.tolist() == [6.0]


def test_post_accumulate_grad_hook():
    x = leaf([1.0, 2.0])
    seen = []
    h = x.register_post_accumulate_grad_hook(lambda t: seen.append((t is x, t.grad.tolist())))
    (x * 3).sum().backward()
    (x * 1).sum().backward()
    assert seen == [(True, [3.0, 3.0]), (True, [4.0, 4.0])]
    h.remove()
    (x * 1).sum().backward()
    assert len(seen) == 2
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on "
                                           "non-leaf tensors"):
        (x * 1).register_post_accumulate_grad_hook(lambda t: None)


def test_post_accumulate_hook_can_update_in_place():
    """The optimizer-in-backward pattern: update the parameter inside the hook."""
    w = leaf([1.0, 2.0])

    def step(p):
        with tg.no_grad():
            p.sub_(0.5 * p.grad)
        p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w * w).sum().backward()
    assert w.tolist() == [0.0, 0.0] and w.grad is None


def test_post_accumulate_hook_returning_a_value_raises():
    """A value returned by the hook would be dropped: PyTorch's error, after the hook ran."""
    w = leaf([1.0, 2.0])
    w.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(3))
    with pytest.raises(RuntimeError, match=r"^Tensor post accumulate grad hooks should return "
                                           r"None\.$"):
        (w * 4).sum().backward()
    assert w.grad.tolist() == [12.0, 12.0]


@pytest.mark.parametrize("create_graph", [False, True])
def test_post_accumulate_hooks_run_in_the_backwards_grad_mode(create_graph):
    """As PyTorch: grad mode off inside the hook (unless create_graph), so an update of the
    parameter needs no ``no_grad`` of its own."""
    w, modes = leaf([1.0, 2.0]), []

    def step(p):
        modes.append(tg.is_grad_enabled())
        if not create_graph:
            p.sub_(0.1 * p.grad)
            p.grad = None

    w.register_post_accumulate_grad_hook(step)
    (w ** 2).sum().backward(create_graph=create_graph)
    assert modes == [create_graph] and tg.is_grad_enabled()
    if not create_graph:
        np.testing.assert_allclose(w.detach().numpy(), [0.8, 1.6], rtol=1e-15)


def test_hooks_match_torch(torch):
    def run(lib, x):
        y = x * 2
        y.register_hook(lambda g: g * 3)
        y.retain_grad()
        x.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        return x.grad.tolist(), y.grad.tolist()

    v = [1.0, -2.0]
    assert run(tg, leaf(v)) == run(torch, torch.tensor(v, requires_grad=True))


# ---- retain_grad -------------------------------------------------------------------------

def test_retain_grad():
    x = leaf(2.0)
    y = x * x
    y.retain_grad()
    assert y.retains_grad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (y + 1).backward()
        assert y.grad.item() == 1.0
    assert x.grad.item() == 4.0
    x.retain_grad()
    assert not x.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has "
                                           "requires_grad=False"):
        tg.ones(1).retain_grad()


def test_retained_grad_accumulates():
    x = leaf(2.0)
    y = x * 3
    y.retain_grad()
    (y * y).backward(retain_graph=True)
    assert y.grad.item() == 12.0
    (y * y).backward()
    assert y.grad.item() == 24.0 and x.grad.item() == 72.0


def test_retain_grad_create_graph():
    x = leaf([1.0, 2.0])
    y = x * x
    y.retain_grad()
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        (y * y).sum().backward(create_graph=True)
    assert y.grad.requires_grad and y.grad.tolist() == [2.0, 8.0]
    x.grad = None
    y.grad = None


def test_retain_grad_follows_inplace():
    x = leaf([1.0, 2.0])
    y = x * 1
    y.retain_grad()
    y.mul_(3)
    (y * y).sum().backward()
    assert y.grad.tolist() == [6.0, 12.0]  # the gradient of the new value, as in PyTorch
    assert x.grad.tolist() == [18.0, 36.0]


# ---- hooks that change their gradient in place ---------------------------------------------

_INPLACE_HOOKS = {
    "mul_": lambda g: g.mul_(10),
    "clamp_": lambda g: g.clamp_(-1, 1),
    "add_returned": lambda g: g.add_(1),  # returns g itself, changed
}


@pytest.mark.parametrize("create_graph", [False, True], ids=["numeric", "create_graph"])
@pytest.mark.parametrize("where", ["nonleaf", "leaf", "scalar_nonleaf", "float32"])
@pytest.mark.parametrize("hook", list(_INPLACE_HOOKS))
def test_hook_changing_its_gradient_in_place_propagates(torch, hook, where, create_graph):
    fn = _INPLACE_HOOKS[hook]

    def run(lib):
        dt = lib.float32 if where == "float32" else lib.float64
        vals = [0.5, -2.0] if where != "scalar_nonleaf" else 1.5
        x = lib.tensor(vals, dtype=dt, requires_grad=True)
        h = x * 3 if where != "leaf" else x
        h.register_hook(fn)
        y = (h * h * x).sum()
        (gx,) = lib.autograd.grad(y, [x], create_graph=create_graph)
        out = [np.asarray(gx.detach().numpy(), np.float64).tolist()]
        if create_graph:
            (gg,) = lib.autograd.grad(gx.sum(), [x])  # the hook runs again, as in PyTorch
            out.append(np.asarray(gg.detach().numpy(), np.float64).tolist())
        return out

    mine, theirs = run(tg), run(torch)
    assert np.allclose(mine, theirs, rtol=1e-6), (mine, theirs)


def test_inplace_hook_then_retain_grad_and_next_hook_see_the_change(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        h = x * 3
        h.retain_grad()
        seen = []
        h.register_hook(lambda g: g.mul_(10))
        h.register_hook(lambda g: seen.append(g.tolist()))
        (h * h).sum().backward()
        return x.grad.tolist(), h.grad.tolist(), seen

    assert run(tg) == run(torch)


@pytest.mark.parametrize("create_graph", [False, True])
def test_hooks_of_a_tensor_that_is_gone_still_run(create_graph):
    """A hook registered on an intermediate that the caller never sees (a function's local)
    lives on the graph, as in PyTorch: it observes and may replace the gradient."""
    seen = []

    def f(x):
        y = x * 3.0
        y.register_hook(lambda g: seen.append(g.detach().numpy().copy()))
        z = y * y
        z.register_hook(lambda g: g * 10.0)
        z.retain_grad()  # (retaining into a tensor nobody holds: no effect, no error)
        return z.sum()

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.autograd.grad(f(x), x, create_graph=create_graph)
    np.testing.assert_allclose(g.detach().numpy(), 10 * 2 * 9 * np.array([1.0, 2.0]))
    np.testing.assert_allclose(seen[0], 10 * 2 * 3 * np.array([1.0, 2.0]))
    x2 = tg.tensor([1.0, 2.0], requires_grad=True)

    def removed(x):
        y = x * 3.0
        return y.sum(), y.register_hook(lambda g: g * 10.0)

    loss, handle = removed(x2)
    handle.remove()  # removed after its tensor is gone: the hook does not run
    loss.backward()
    np.testing.assert_allclose(x2.grad.numpy(), [3.0, 3.0])


def test_hooks_of_a_tensor_that_is_gone_match_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for L in (tg, torch):
        x = L.tensor([0.5, -1.0, 2.0], dtype=L.float64, requires_grad=True)

        def layer(v):
            h = L.tanh(v * 2.0)
            h.register_hook(lambda g: g.clamp(-0.1, 0.1))
            return (h ** 3).sum()

        layer(x).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_backward_with_a_non_leaf_input_retains_its_grad():
    """As PyTorch: ``backward(inputs=[h])`` fills ``h.grad`` and makes ``h`` retain it, so a
    later backward adds into it."""
    x = leaf([1.0, 2.0])
    h = x.exp()
    y = (h * x).sum()
    y.backward(inputs=[h], retain_graph=True)
    assert h.retains_grad and x.grad is None
    y.backward()
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.grad.numpy(), np.exp([1.0, 2.0]) * [2.0, 3.0], rtol=1e-15)
