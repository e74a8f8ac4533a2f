"""backward() / autograd.grad() semantics against PyTorch 2.13."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

FREED = "Trying to backward through the graph a second time"


def test_backward_fills_leaf_grad_and_returns_none():
    x = tg.tensor(2.0, requires_grad=True)
    assert (x * x).backward() is None
    assert x.grad.item() == 4.0
    assert not x.grad.requires_grad and x.grad.is_leaf and x.grad.dtype == np.float64


def test_non_scalar_needs_gradient():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()
    (x * 2).backward(tg.tensor([1.0, 0.1, 0.01]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.2, 0.02])


def test_one_element_outputs_and_empty():
    a = tg.tensor([5.0], requires_grad=True)
    (a * 5).backward()
    assert a.grad.tolist() == [5.0]
    m = tg.ones(1, 1, requires_grad=True)
    (m * 3).backward()
    assert m.grad.tolist() == [[3.0]]
    e = tg.ones(0, requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar"):
        (e * 2).backward()
    e.sum().backward()
    assert e.grad.shape == (0,)


def test_gradient_shape_mismatch():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of"):
        (x * 2).backward(tg.ones(2))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(tg.tensor(1.0))


def test_gradient_type_errors():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(TypeError, match="gradients can be either Tensors or None, but got float"):
        (x * 2).backward([1.0, 1.0, 1.0])
    with pytest.raises(TypeError, match="not iterable"):
        (x * 2).backward(3.0)


def test_backward_on_tensor_without_grad():
    msg = "element 0 of tensors does not require grad and does not have a grad_fn"
    with pytest.raises(RuntimeError, match=msg):
        tg.tensor(1.0).backward()
    with pytest.raises(RuntimeError, match=msg):
        (tg.tensor(1.0) * 2).backward()
    x = tg.tensor(1.0, requires_grad=True)
    with tg.no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match=msg):
        y.backward()


def test_backward_on_leaf():
    d = tg.tensor(5.0, requires_grad=True)
    d.backward()
    assert d.grad.item() == 1.0


def test_accumulation_zero_and_reset():
    a = tg.tensor(3.0, requires_grad=True)
    (a * a).backward()
    (a * a).backward()
    assert a.grad.item() == 12.0
    g = a.grad
    a.grad.zero_()
    assert a.grad is g and g.item() == 0.0
    (a * a).backward()
    assert a.grad is g and g.item() == 6.0
    a.grad = None
    (a * a).backward()
    assert a.grad is not g and a.grad.item() == 6.0


def test_accumulation_in_place_matches_torch_for_shapes_and_dtypes():
    """A second backward adds into the existing .grad (same object, version bumped), for a
    float32 2-D leaf and a float64 one, with the values PyTorch accumulates."""
    torch = pytest.importorskip("torch")
    for dtype, tdtype in ((np.float32, torch.float32), (np.float64, torch.float64)):
        v = np.arange(1.0, 7.0).reshape(2, 3).astype(dtype)
        w, wt = tg.tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
        for t, mod in ((w, tg), (wt, torch)):
            (mod.sin(t) * t).sum().backward()
        g, version = w.grad, w.grad._version
        for t, mod in ((w, tg), (wt, torch)):
            (t * t).sum().backward()
        assert w.grad is g and g._version == version + 1 and g.dtype == dtype
        np.testing.assert_allclose(g.numpy(), wt.grad.numpy(), rtol=1e-6)


def test_accumulation_into_a_grad_that_requires_grad():
    """Without create_graph, in place (PyTorch's AccumulateGrad adds under no_grad); with it,
    out of place, so the total keeps its history."""
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    w.grad = tg.tensor([1.0, 1.0], requires_grad=True)
    old = w.grad
    (w * 3).sum().backward()
    assert w.grad is old and w.grad.requires_grad and w.grad.tolist() == [4.0, 4.0]
    (w * 3).sum().backward(create_graph=True)
    assert w.grad is not old and w.grad.tolist() == [7.0, 7.0] and old.tolist() == [4.0, 4.0]


def test_accumulation_into_an_expanded_grad_is_refused_as_in_torch():
    """A .grad set to an expanded tensor cannot be added into (its elements share memory):
    PyTorch's error on every accumulation path, not NumPy's read-only one."""
    torch = pytest.importorskip("torch")
    messages = []
    for L in (torch, tg):
        for hooked in (False, True):
            w = L.ones(2, 3, dtype=L.float64, requires_grad=True)
            if hooked:
                w.register_hook(lambda g: g * 2)
            w.grad = L.ones(3, dtype=L.float64).expand(2, 3)
            with pytest.raises(RuntimeError) as info:
                (w * 1).sum().backward()
            messages.append(str(info.value))
    assert len(set(messages)) == 1 and "refers to a single memory location" in messages[0]
    w = tg.ones(2, 3, requires_grad=True)
    w.grad = tg.ones(3).expand(2, 3).clone()
    (w * 1).sum().backward()
    assert w.grad.tolist() == [[2.0] * 3] * 2


def test_implicit_seed_is_not_shared_with_a_leaf_grad():
    x = tg.tensor(2.0, requires_grad=True)
    x.backward()
    x.grad.mul_(5.0)  # the leaf's grad is its own array: the next implicit seed is still 1
    x.grad = None
    x.backward()
    (x * 3).backward()
    assert x.grad.item() == 4.0


def test_accumulation_keeps_array_grad_object():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()
    g = w.grad
    (w * 3).sum().backward()
    assert w.grad is g
    assert g.tolist() == [6.0, 6.0]


def test_second_backward_through_freed_graph():
    b = tg.tensor(2.0, requires_grad=True)
    y = b * b
    y.backward()
    with pytest.raises(RuntimeError, match=FREED):
        y.backward()


def test_shared_subgraph_freed_by_first_backward():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    a, b = (y * 2).sum(), (y * 3).sum()
    a.backward()
    with pytest.raises(RuntimeError, match=FREED):
        b.backward()


def test_independent_graph_recorded_in_between_stays_usable():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a = (x.sin() * x).sum()
    b = (x.exp() * x).sum()  # recorded after a, on the same tape
    a.backward()
    ga = x.grad.numpy().copy()
    x.grad = None
    b.backward()
    xv = np.array([1.0, 2.0])
    np.testing.assert_allclose(ga, np.cos(xv) * xv + np.sin(xv))
    np.testing.assert_allclose(x.grad.numpy(), np.exp(xv) * (xv + 1))


def test_inputs_argument():
    p = tg.tensor(2.0, requires_grad=True)
    q = tg.tensor(3.0, requires_grad=True)
    (p * q).backward(inputs=[p])
    assert p.grad.item() == 3.0 and q.grad is None
    a = tg.tensor(2.0, requires_grad=True)
    b = a * 3
    (b * b).backward(inputs=[b])
    assert b.grad.item() == 12.0 and a.grad is None


def test_unreachable_leaf_keeps_none():
    x = tg.tensor(1.0, requires_grad=True)
    z = tg.tensor(1.0, requires_grad=True)
    (x * 2).backward()
    assert z.grad is None


def test_fan_out_and_mean():
    q = tg.tensor(3.0, requires_grad=True)
    (q * q * q).backward()
    assert q.grad.item() == 27.0
    x = tg.tensor(1.0, requires_grad=True)
    (x * 2 + x * 3).backward()
    assert x.grad.item() == 5.0
    v = tg.tensor([1.0, 2.0], requires_grad=True)
    v.mean().backward()
    assert v.grad.tolist() == [0.5, 0.5]


def test_autograd_backward_lists():
    f = tg.tensor(2.0, requires_grad=True)
    tg.autograd.backward([f * f, f * 3])
    assert f.grad.item() == 7.0
    f.grad = None
    tg.autograd.backward(f * f, grad_tensors=tg.tensor(2.0))
    assert f.grad.item() == 8.0
    c = tg.tensor(2.0, requires_grad=True)
    tg.autograd.backward([c * c, c * 10], [tg.tensor(1.0), tg.tensor(1.0)])
    assert c.grad.item() == 14.0


def test_mixed_dtypes():
    f = tg.tensor([1.0, 2.0], dtype=np.float32, requires_grad=True)
    d = tg.tensor([3.0, 4.0], requires_grad=True)
    y = f * d
    assert y.dtype == np.float64
    y.sum().backward()
    assert f.grad.dtype == np.float32 and d.grad.dtype == np.float64
    np.testing.assert_allclose(f.grad.numpy(), [3.0, 4.0])


def test_grad_returns_tuple_and_leaves_grad_alone():
    x = tg.tensor(3.0, requires_grad=True)
    (g,) = tg.autograd.grad(x * x, x)
    assert g.item() == 6.0 and x.grad is None and not g.requires_grad


def test_grad_errors():
    x = tg.tensor(3.0, requires_grad=True)
    u = tg.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="The differentiated Tensor at index 1 appears to not"):
        tg.autograd.grad(x * x, [x, u])
    g = tg.autograd.grad(x * x, [x, u], allow_unused=True)
    assert g[0].item() == 6.0 and g[1] is None
    g = tg.autograd.grad(x * x, [x, u], materialize_grads=True)
    assert g[1].item() == 0.0
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require"):
        tg.autograd.grad(x * x, [tg.tensor(1.0)])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        tg.autograd.grad((x * x), [])
    with pytest.raises(RuntimeError, match="all inputs have to be Tensors"):
        tg.autograd.grad(x * x, [1.0])
    z = tg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        tg.autograd.grad([z * 2, z * 3], z, grad_outputs=[tg.ones(2)])


def test_grad_wrt_non_leaf_and_self():
    x = tg.tensor(3.0, requires_grad=True)
    h = x * 2
    assert tg.autograd.grad(h * h, h)[0].item() == 12.0
    a = tg.tensor(1.0, requires_grad=True)
    assert tg.autograd.grad(a, a)[0].item() == 1.0
    x1, x2 = tg.tensor(1.0, requires_grad=True), tg.tensor(2.0, requires_grad=True)
    assert [g.item() for g in tg.autograd.grad(x1 * x2, (x1, x2))] == [2.0, 1.0]


def test_grad_list_outputs_with_grad_outputs():
    x = tg.tensor(1.0, requires_grad=True)
    (g,) = tg.autograd.grad([x * 2, x * 3], x, grad_outputs=[tg.tensor(1.0), tg.tensor(10.0)])
    assert g.item() == 32.0


def test_hessian_by_hand():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    f = x[0] ** 2 * x[1] + x[1] ** 3
    (g,) = tg.autograd.grad(f, x, create_graph=True)
    assert g.tolist() == [4.0, 13.0]
    rows = [tg.autograd.grad(g[i], x, retain_graph=True)[0].tolist() for i in range(2)]
    assert rows == [[4.0, 2.0], [2.0, 12.0]]


def test_create_graph_third_order():
    x = tg.tensor(2.0, requires_grad=True)
    (g1,) = tg.autograd.grad(x ** 3, x, create_graph=True)
    (g2,) = tg.autograd.grad(g1, x, create_graph=True)
    (g3,) = tg.autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == (12.0, 12.0, 6.0)
    assert g1.requires_grad and g1.grad_fn is not None and not g3.requires_grad


def test_backward_create_graph_warns_and_accumulates_out_of_place():
    x = tg.tensor(3.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Using backward\\(\\) with create_graph=True"):
        (x ** 3).backward(create_graph=True)
    assert x.grad.item() == 27.0 and x.grad.requires_grad
    g = x.grad
    x.grad = None
    g.backward()
    assert x.grad.item() == 18.0


def test_nonleaf_grad_warns_and_retain_grad():
    x = tg.tensor(2.0, requires_grad=True)
    y = x * x
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None
    y.retain_grad()
    assert y.retains_grad
    (y + 1).backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad.item() == 1.0
    assert x.grad.item() == 4.0


def test_grad_mode_off_during_backward():
    seen = []
    x = tg.tensor(2.0, requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: seen.append(tg.is_grad_enabled()))
    (y * y).backward()
    assert seen == [False]


def test_backward_inside_no_grad():
    e = tg.tensor(2.0, requires_grad=True)
    y = e * e
    with tg.no_grad():
        y.backward()
    assert e.grad.item() == 4.0


def test_partial_graph_through_no_grad():
    x = tg.tensor(1.0, requires_grad=True)
    y = x * 2
    with tg.no_grad():
        z = y * 3
    (y + z).backward()
    assert x.grad.item() == 2.0


def test_matmul_pause_and_resume(rng):
    a = tg.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    b = tg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    out = ((a @ b).tanh() * 2.0).sum()  # elementwise records around a NumPy-backward record
    out.backward()
    an, bn = a.detach().numpy(), b.detach().numpy()
    gt = 2 * (1 - np.tanh(an @ bn) ** 2)
    np.testing.assert_allclose(a.grad.numpy(), gt @ bn.T)
    np.testing.assert_allclose(b.grad.numpy(), an.T @ gt)


def test_against_torch_on_a_small_program(torch, rng):
    xs = rng.standard_normal((3, 4))
    ws = rng.standard_normal((4,))
    x = tg.tensor(xs, requires_grad=True)
    w = tg.tensor(ws, requires_grad=True)
    tx = torch.tensor(xs, requires_grad=True)
    tw = torch.tensor(ws, requires_grad=True)
    out = ((x * w).sigmoid().sum(1) - (x / (w * w + 1)).mean()).exp().sum()
    tout = ((tx * tw).sigmoid().sum(1) - (tx / (tw * tw + 1)).mean()).exp().sum()
    out.backward()
    tout.backward()
    np.testing.assert_allclose(out.item(), tout.item(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


def test_leaf_gradient_owns_its_memory_and_sums_over_segments():
    from tapegrad import tape

    # a small arena's leaf adjoints stay views until accumulation: a new .grad is a copy of
    # its own, and a leaf imported into several segments gets the sum
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    (x * x).sum().backward()
    first = x.grad
    owner = first._data if first._data.base is None else first._data.base
    assert owner.base is None and owner.size == 4  # not the arena's memory
    np.testing.assert_array_equal(first.numpy(), 2 * np.arange(4.0))
    a = (x * 3.0).sum()
    tape.close_current()  # (the next op opens a segment of its own)
    b = (x * x * 2.0).sum()
    assert a._seg is not b._seg
    (a + b).backward()
    assert x.grad is first  # accumulated in place
    np.testing.assert_allclose(first.numpy(), 2 * np.arange(4.0) + 3.0 + 4 * np.arange(4.0))


def test_materialize_grads_under_create_graph_and_with_allow_unused_false():
    """As PyTorch: the zeros of an unused input require grad under create_graph (a leaf, so a
    gradient of them is None), and ``allow_unused=False`` with ``materialize_grads`` is a
    ValueError."""
    x, z = tg.ones(2, requires_grad=True), tg.ones(2, requires_grad=True)
    plain = tg.autograd.grad((x * 2.0).sum(), [x, z], materialize_grads=True)
    assert not plain[1].requires_grad and plain[1].tolist() == [0.0, 0.0]
    graph = tg.autograd.grad((x * 2.0).sum(), [x, z], materialize_grads=True, create_graph=True)
    assert graph[1].requires_grad and graph[1].is_leaf and graph[1].tolist() == [0.0, 0.0]
    assert tg.autograd.grad(graph[1].sum(), [x], allow_unused=True) == (None,)
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed when "
                                         "materialize_grads=True"):
        tg.autograd.grad((x * 2.0).sum(), [x, z], materialize_grads=True, allow_unused=False)
