"""``Module.register_backward_hook``, PyTorch's deprecated non-full hook (Grad-CAM and guided
backprop scripts use it): called with the grad_input/grad_output of the node that made the
module's first output, its return replacing grad_input, PyTorch's FutureWarnings where the hook
misses gradients, and no mixing with full backward hooks."""

import warnings

import numpy as np
import pytest

import tapegrad as tg


def _record(lib, module, x, reduce=lambda y: y.sum()):
    log = []
    module.register_backward_hook(lambda m, gi, go: log.append(
        ([None if g is None else g.detach().numpy().copy() for g in gi],
         [g.detach().numpy().copy() for g in go])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = module(x)
    reduce(y).backward()
    return log, [str(w.message) for w in caught if w.category is FutureWarning]


def _program(lib):
    rng = np.random.default_rng(0)
    out = []
    conv = lib.nn.Conv2d(1, 2, 3).double()
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(rng.standard_normal((2, 1, 3, 3))))
        conv.bias.copy_(lib.tensor([0.5, -0.5]))
    x = lib.tensor(rng.standard_normal((1, 1, 4, 4)), requires_grad=True)
    out.append(_record(lib, conv, x))
    relu = lib.nn.ReLU()
    relu.register_backward_hook(lambda m, gi, go: (gi[0].clamp(min=0),))  # guided backprop
    x = lib.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    (relu(x * 2) * lib.tensor(rng.standard_normal((2, 3)))).sum().backward()
    out.append(x.grad.numpy())

    class Two(lib.nn.Module):
        def forward(self, x):
            return x * 2, x.exp()

    class Dict(lib.nn.Module):
        def forward(self, x):
            return {"a": x.sin(), "b": x.cos()}

    x = lib.tensor(rng.standard_normal(3), requires_grad=True)
    out.append(_record(lib, Two(), x * 1.0, lambda y: y[0].sum() + y[1].sum()))
    out.append(_record(lib, Dict(), x * 1.0, lambda y: y["a"].sum() + y["b"].sum()))
    return out


def _flatten(tree):
    if isinstance(tree, np.ndarray):
        return [tree]
    if isinstance(tree, (list, tuple)):
        return [a for t in tree for a in _flatten(t)]
    return [tree]


def test_legacy_hooks():
    (conv_log, conv_warned), guided, (two_log, two_warned), (dict_log, dict_warned) = \
        _program(tg)
    grad_input, grad_output = conv_log[0]
    assert [g.shape for g in grad_input] == [(1, 1, 4, 4), (2, 1, 3, 3), (2,)]
    assert [g.shape for g in grad_output] == [(1, 2, 2, 2)]
    np.testing.assert_allclose(grad_input[2], [4.0, 4.0])  # the bias: 2 x 2 outputs each
    assert conv_warned[0].startswith("Using a non-full backward hook when the forward contains "
                                     "multiple autograd Nodes is deprecated")
    assert (guided >= 0).all()
    assert two_warned[0].startswith("Using a non-full backward hook when outputs are generated "
                                    "by different autograd Nodes")
    assert dict_warned[0].startswith("Using non-full backward hooks on a Module that does not "
                                     "return a single Tensor or a tuple of Tensors")
    assert len(two_log) == len(dict_log) == 1


def test_legacy_hooks_match_torch(torch):
    ours, theirs = _program(tg), _program(torch)
    a, b = _flatten(ours), _flatten(theirs)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, np.ndarray):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-12)
        else:
            assert x == y


@pytest.mark.parametrize("first,second", [("register_backward_hook",
                                           "register_full_backward_hook"),
                                          ("register_full_backward_hook",
                                           "register_backward_hook")])
def test_hook_kinds_do_not_mix(first, second):
    m = tg.nn.Linear(1, 1)
    getattr(m, first)(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full "
                                           "backward hooks on a single Module"):
        getattr(m, second)(lambda *a: None)
