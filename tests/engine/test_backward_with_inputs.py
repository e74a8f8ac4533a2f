"""A backward with ``inputs`` (``autograd.grad``, ``backward(inputs=...)``) runs only the part of
the graph that leads to them, as PyTorch: records off every path are not run, so their saved
values may be freed or modified in place, their custom backward and hooks do not run, and they
stay usable for a later backward. Within one segment and across segments, re-taping and in
anomaly mode."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape


def T(L, values):
    return L.tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _programs(L, split):
    """``name -> result`` of small programs PyTorch runs; ``split()`` closes the tape's segment
    (a no-op for PyTorch) so each runs within one segment and across several."""
    out = {}
    x, w = T(L, [1.0, 2.0]), T(L, [3.0, 4.0])
    y = x.exp()
    split()
    y.sum().backward()  # frees exp's saved output
    out["freed_elsewhere"] = L.autograd.grad((y * w).sum(), w)[0]
    x = T(L, [1.0, 2.0])
    y = x.exp()
    y.add_(1.0)  # exp's saved output modified: only a backward past y may read it
    split()
    out["modified_past_the_input"] = L.autograd.grad((y * 5.0).sum(), y)[0]

    class Boom(L.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2.0

        @staticmethod
        def backward(ctx, g):
            raise AssertionError("a backward off the path ran")

    x, w = T(L, [1.0, 2.0]), T(L, [3.0, 4.0])
    out["custom_off_the_path"] = L.autograd.grad((Boom.apply(x) * w).sum(), w)[0]
    x, w = T(L, [1.0, 2.0]), T(L, [3.0, 4.0])
    z = x.exp()
    split()
    seen = []
    z.register_hook(lambda g: seen.append(1))
    z.retain_grad()
    (z * w).sum().backward(inputs=[w])
    out["inputs_backward"] = (w.grad, x.grad is None, z.grad is None, seen == [])
    d, gen = T(L, [0.5, -1.0]), T(L, [1.0, 2.0])
    fake = gen * 3.0
    split()
    (fake.detach() * d).sum().backward()  # a discriminator step, then the generator's
    out["gan"] = L.autograd.grad((d * d).sum() + (fake * d).sum(), d)[0]
    x = T(L, [1.0, 2.0])
    y = x * 2.0
    out["input_and_beyond"] = L.autograd.grad((y * y).sum(), [y, x])
    x, w = T(L, [1.0, 2.0]), T(L, [3.0, 4.0])
    y = x.exp()
    split()
    first = L.autograd.grad((y * w).sum(), w)[0]
    (y * 2.0).sum().backward()  # exp was not run above: its saved output is still there
    out["later_backward"] = (first, x.grad)
    x, w = T(L, [1.0, 2.0]), T(L, [3.0, 4.0])
    y = x.sin()
    y.sum().backward()
    split()
    g = L.autograd.grad((y * w * w).sum(), w, create_graph=True)[0]
    out["create_graph"] = (g, L.autograd.grad(g.sum(), w)[0])
    return out


@pytest.mark.parametrize("segments", ["one", "several"])
def test_only_the_paths_to_the_inputs_run(segments):
    ours = _programs(tg, tape.close_current if segments == "several" else lambda: None)
    assert ours["inputs_backward"][1:] == (True, True, True)
    np.testing.assert_allclose(ours["freed_elsewhere"].numpy(), np.exp([1.0, 2.0]), rtol=1e-15)
    np.testing.assert_array_equal(ours["modified_past_the_input"].numpy(), [5.0, 5.0])
    torch = pytest.importorskip("torch")
    theirs = _programs(torch, lambda: None)

    def flat(v):
        if isinstance(v, (tuple, list)):
            return [a for item in v for a in flat(item)]
        return [v.detach().numpy() if hasattr(v, "detach") else v]

    for name in theirs:
        for a, b in zip(flat(ours[name]), flat(theirs[name])):
            np.testing.assert_allclose(a, b, rtol=1e-14, err_msg=name)


def test_anomaly_mode_and_python_ops_off_the_path():
    with tg.autograd.detect_anomaly():
        x, w = T(tg, [1.0, 2.0]), T(tg, [3.0, 4.0])
        y = x.exp()
        y.sum().backward()
        np.testing.assert_allclose(tg.autograd.grad((y * w).sum(), w)[0].numpy(),
                                   np.exp([1.0, 2.0]), rtol=1e-15)
    a, x, w = T(tg, np.eye(2) * 2.0), T(tg, [1.0, 2.0]), T(tg, [3.0, -1.0])
    y = a @ x  # a matrix product (a record run in NumPy) off the path to w
    y.sum().backward()
    np.testing.assert_allclose(tg.autograd.grad((y * w).sum(), w)[0].numpy(), [2.0, 4.0])


def test_a_backward_through_what_was_run_still_raises():
    x, w = T(tg, [1.0, 2.0]), T(tg, [3.0, 4.0])
    h = x.sin() * w
    tg.autograd.grad(h.exp().sum(), [x])  # runs the product and the sine, frees them
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        tg.autograd.grad((h * 3.0).sum(), [w])


def test_backward_inputs_that_need_no_grad_raise_pytorchs_error():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    for inputs in (tg.tensor([1.0]), [x, tg.tensor([2.0])]):
        with pytest.raises(RuntimeError, match="^can't retain_grad on Tensor that has "
                                               "requires_grad=False$"):
            (x * 2).sum().backward(inputs=inputs)
    with pytest.raises(RuntimeError, match="^all inputs have to be Tensors or GradientEdges, "
                                           "but got float$"):
        (x * 2).sum().backward(inputs=[1.0])
    assert x.grad is None  # nothing ran


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("retained", [False, True])
def test_non_leaf_input_grad_accumulates_once_per_backward(split, retained):
    # a non-leaf asked for by backward(inputs=...) starts retaining its .grad; the sweep then
    # stores it, and the inputs' own accumulation must not add it a second time (the second
    # backward gave 3x the gradient, a retain_grad()-ed one 2x from the first)
    torch = pytest.importorskip("torch")
    got = []
    for L in (tg, torch):
        a = T(L, [1.0, 2.0])
        k = a * 3
        if split:  # (closes tapegrad's segment: k is imported by the next one)
            L.autograd.grad(k.sum(), a, retain_graph=True)
        if retained:
            k.retain_grad()
        out = (k * k).sum()
        grads = []
        for ins in ([k], [k], [k, k], [k, a]):
            out.backward(inputs=ins, retain_graph=True)
            grads.append(k.grad.detach().numpy().copy())
        got.append(grads + [a.grad.detach().numpy()])
    for mine, theirs in zip(*got):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)
