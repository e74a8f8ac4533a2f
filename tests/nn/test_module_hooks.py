"""nn.Module hooks: forward pre-hooks, forward hooks, full backward (pre-)hooks and their
handles, checked against the gradients worked out by hand and against torch.nn."""

import copy
import pickle
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import nn

W = np.array([[0.2, -0.4, 0.6], [0.8, 0.1, -0.3]])
B = np.array([0.1, -0.2])
X = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])


def linear(lib):
    m = lib.nn.Linear(3, 2).double()
    with lib.no_grad():
        m.weight.copy_(lib.tensor(W))
        m.bias.copy_(lib.tensor(B))
    return m


def to_np(t):
    return None if t is None else t.detach().numpy()


def backward_hook_run(lib, scale):
    """Loss sum(y**2) through a Linear whose backward hook records what it sees and
    multiplies grad_input by ``scale``."""
    m = linear(lib)
    seen = []

    def hook(module, grad_input, grad_output):
        assert module is m
        seen.append(([to_np(g) for g in grad_input], [to_np(g) for g in grad_output]))
        return (grad_input[0] * scale,)

    handle = m.register_full_backward_hook(hook)
    x = lib.tensor(X, requires_grad=True)
    (m(x) ** 2).sum().backward()
    return seen, x.grad.numpy(), m.weight.grad.numpy(), handle, m


def test_backward_hook_sees_and_replaces_grad_input():
    seen, xgrad, wgrad, _, _ = backward_hook_run(tg, 3.0)
    y = X @ W.T + B
    assert len(seen) == 1
    (gi,), (go,) = seen[0]
    np.testing.assert_allclose(go, 2 * y, rtol=1e-15)
    np.testing.assert_allclose(gi, 2 * y @ W, rtol=1e-15)
    np.testing.assert_allclose(xgrad, 3 * 2 * y @ W, rtol=1e-15)
    np.testing.assert_allclose(wgrad, 2 * y.T @ X, rtol=1e-15)  # parameters: unchanged


def test_backward_hook_matches_torch(torch):
    ours, theirs = backward_hook_run(tg, 3.0), backward_hook_run(torch, 3.0)
    for (gi, go), (tgi, tgo) in zip(ours[0], theirs[0], strict=True):
        np.testing.assert_allclose(gi[0], tgi[0], rtol=1e-15)
        np.testing.assert_allclose(go[0], tgo[0], rtol=1e-15)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-15)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-15)


def test_removed_backward_hook_is_not_called():
    seen, _, _, handle, m = backward_hook_run(tg, 1.0)
    handle.remove()
    handle.remove()  # twice is fine
    x = tg.tensor(X, requires_grad=True)
    (m(x) ** 2).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(x.grad.numpy(), 2 * (X @ W.T + B) @ W, rtol=1e-15)


def inputs_without_grad_run(lib):
    m = linear(lib)
    seen = []
    m.register_full_backward_hook(
        lambda mod, gi, go: seen.append((gi, [to_np(g) for g in go])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (m(lib.tensor(X)) ** 2).sum().backward()
    return seen, [str(w.message) for w in caught]


def test_backward_hook_when_no_input_requires_grad():
    seen, messages = inputs_without_grad_run(tg)
    assert len(seen) == 1 and seen[0][0] == (None,)
    np.testing.assert_allclose(seen[0][1][0], 2 * (X @ W.T + B), rtol=1e-15)
    assert any("no inputs require gradients" in msg for msg in messages)


def test_backward_hook_no_input_grad_matches_torch(torch):
    (ours, our_msgs), (theirs, their_msgs) = inputs_without_grad_run(tg), \
        inputs_without_grad_run(torch)
    assert ours[0][0] == theirs[0][0] == (None,)
    np.testing.assert_allclose(ours[0][1][0], theirs[0][1][0], rtol=1e-15)
    assert our_msgs == their_msgs


class Mix(nn.Module):
    """Several positional inputs: tensors with and without grad and a plain number."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(tg.tensor([1.5, -0.5]))

    def forward(self, a, k, b, c):
        return a * self.w * k + b.exp() + c, a.sum()


def mix_run(lib, mix):
    m = mix()
    seen = []
    pre_seen = []

    def pre_hook(module, grad_output):
        pre_seen.append([to_np(g) for g in grad_output])
        return (grad_output[0] * 10, grad_output[1])

    def hook(module, grad_input, grad_output):
        seen.append(([to_np(g) for g in grad_input], [to_np(g) for g in grad_output]))

    m.register_full_backward_pre_hook(pre_hook)
    m.register_full_backward_hook(hook)
    a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.3, -0.1], dtype=lib.float64, requires_grad=True)
    c = lib.tensor([1.0, 1.0], dtype=lib.float64)
    y, s = m(a, 2.0, b, c)
    ((y ** 2).sum() + 3 * s).backward()
    return seen, pre_seen, a.grad.numpy(), b.grad.numpy(), m.w.grad.numpy()


def test_backward_pre_hook_replaces_grad_output_and_inputs_line_up():
    seen, pre_seen, ga, gb, gw = mix_run(tg, Mix)
    a, b, c, w = np.array([1.0, 2.0]), np.array([0.3, -0.1]), 1.0, np.array([1.5, -0.5])
    y = a * w * 2 + np.exp(b) + c
    np.testing.assert_allclose(pre_seen[0][0], 2 * y, rtol=1e-15)
    np.testing.assert_allclose(pre_seen[0][1], 3.0)
    gi, go = seen[0]
    assert len(gi) == 4 and gi[1] is None  # a number
    np.testing.assert_array_equal(gi[3], [0.0, 0.0])  # a tensor that needs no gradient
    np.testing.assert_allclose(go[0], 20 * y, rtol=1e-15)  # what the pre-hook returned
    np.testing.assert_allclose(gi[0], 20 * y * w * 2 + 3, rtol=1e-15)
    np.testing.assert_allclose(gi[2], 20 * y * np.exp(b), rtol=1e-15)
    np.testing.assert_allclose(ga, gi[0], rtol=1e-15)
    np.testing.assert_allclose(gb, gi[2], rtol=1e-15)
    np.testing.assert_allclose(gw, 20 * y * a * 2, rtol=1e-15)


def test_backward_pre_hook_matches_torch(torch):
    class TorchMix(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor([1.5, -0.5], dtype=torch.float64))

        forward = Mix.forward

    ours, theirs = mix_run(tg, Mix), mix_run(torch, TorchMix)
    for o, t in zip(ours[0][0][0] + ours[0][0][1] + ours[1][0],
                    theirs[0][0][0] + theirs[0][0][1] + theirs[1][0], strict=True):
        assert (o is None) == (t is None)
        if o is not None:
            np.testing.assert_allclose(o, t, rtol=1e-15)
    for o, t in zip(ours[2:], theirs[2:], strict=True):
        np.testing.assert_allclose(o, t, rtol=1e-15)


def test_backward_hook_wrong_number_of_grads():
    m = linear(tg)
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="Backward hook returned an invalid number of "
                                           "grad_input, got 2, but expected 1"):
        m(tg.tensor(X, requires_grad=True)).sum().backward()
    m = linear(tg)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0], go[0]))
    with pytest.raises(RuntimeError, match="Backward pre hook returned an invalid number of "
                                           "grad_output, got 2, but expected 1"):
        m(tg.tensor(X, requires_grad=True)).sum().backward()


def test_backward_hook_in_sequential_sees_hidden_gradients():
    tg.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    seen = {}
    net[1].register_full_backward_hook(
        lambda mod, gi, go: seen.update(gi=gi[0].numpy().copy(), go=go[0].numpy().copy()))
    x = tg.tensor(X)
    hidden = net[0](x)
    hidden.retain_grad()
    act = tg.tanh(hidden)
    act.retain_grad()
    net[2](act).sum().backward()
    net(x).sum().backward()
    np.testing.assert_allclose(seen["gi"], hidden.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(seen["go"], act.grad.numpy(), rtol=1e-14)


def test_observing_backward_hook_keeps_second_derivatives():
    m = linear(tg)
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append(1))

    def f(x):
        return (m(x) ** 3).sum()

    x = tg.tensor(X, requires_grad=True)
    assert tg.autograd.gradgradcheck(f, (x,))
    (g,) = tg.autograd.grad(f(x), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    y = X @ W.T + B
    np.testing.assert_allclose(h.numpy(), (6 * y * W.sum(1)) @ W,
                               rtol=1e-14)
    assert calls


def forward_hooks_run(lib):
    m = linear(lib)
    log = []

    def pre(module, args):
        log.append("pre")
        return args[0] * 2  # a single value: becomes a 1-tuple

    def pre_kw(module, args, kwargs):
        log.append("pre_kw")
        return args, kwargs

    def post(module, args, output):
        log.append("post")
        return output + 1

    def post_first(module, args, kwargs, output):
        log.append("post_first")

    handles = [m.register_forward_pre_hook(pre), m.register_forward_pre_hook(pre_kw,
                                                                              with_kwargs=True),
               m.register_forward_hook(post),
               m.register_forward_hook(post_first, prepend=True, with_kwargs=True)]
    x = lib.tensor(X, requires_grad=True)
    y = m(x)
    y.sum().backward()
    out = [y.detach().numpy().copy(), x.grad.numpy().copy(), list(log)]
    for h in handles:
        h.remove()
    log.clear()
    out.append(m(lib.tensor(X)).detach().numpy())
    out.append(list(log))
    return out


def test_forward_hooks_modify_input_and_output():
    y, xgrad, log, plain, log_after = forward_hooks_run(tg)
    np.testing.assert_allclose(y, (2 * X) @ W.T + B + 1, rtol=1e-15)
    np.testing.assert_allclose(xgrad, 2 * np.ones((2, 2)) @ W, rtol=1e-15)
    assert log == ["pre", "pre_kw", "post_first", "post"]
    np.testing.assert_allclose(plain, X @ W.T + B, rtol=1e-15)
    assert log_after == []


def test_forward_hooks_match_torch(torch):
    ours, theirs = forward_hooks_run(tg), forward_hooks_run(torch)
    for o, t in zip(ours, theirs, strict=True):
        if isinstance(o, list):
            assert o == t
        else:
            np.testing.assert_allclose(o, t, rtol=1e-15)


def test_forward_hook_kwargs_and_always_call():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            if factor < 0:
                raise ValueError("negative factor")
            return x * factor

    m = Scale()
    calls = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}),
                                with_kwargs=True)
    with m.register_forward_hook(lambda mod, args, kwargs, out: calls.append(kwargs),
                                 with_kwargs=True):
        assert m(tg.tensor([1.0]), factor=2.0).item() == 3.0
    assert calls == [{"factor": 3.0}]
    m.register_forward_pre_hook(lambda mod, args, kwargs: 1, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        m(tg.tensor([1.0]))

    m = Scale()
    m.register_forward_hook(lambda mod, args, out: calls.append(("always", out)),
                            always_call=True)
    with pytest.raises(ValueError, match="negative factor"):
        m(tg.tensor([1.0]), factor=-1.0)
    assert calls[-1] == ("always", None)


def test_modules_with_hooks_copy_and_pickle():
    m = linear(tg)
    m.register_forward_hook(_add_one)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        np.testing.assert_allclose(clone(tg.tensor(X)).detach().numpy(), X @ W.T + B + 1, rtol=1e-15)


def _add_one(module, args, output):
    return output + 1
