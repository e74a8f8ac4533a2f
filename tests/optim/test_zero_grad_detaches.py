"""``zero_grad(set_to_none=False)`` (optimizer and module) detaches a gradient before zeroing
it, as PyTorch's: one with history (create_graph) loses it, one that requires grad stops."""

import tapegrad as tg


def _program(lib):
    out = []
    x = lib.ones(3, requires_grad=True)
    p = lib.nn.Parameter(lib.ones(3))
    p.grad = (x * x).exp()
    lib.optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)
    out.append((p.grad.tolist(), p.grad.requires_grad, p.grad.grad_fn is None))
    q = lib.nn.Parameter(lib.ones(2))
    q.grad = lib.ones(2, requires_grad=True)
    m = lib.nn.Module()
    m.q = q
    m.zero_grad(set_to_none=False)
    out.append((q.grad.tolist(), q.grad.requires_grad, q.grad.grad_fn is None))
    return out


def test_zero_grad_detaches():
    assert _program(tg) == [([0.0] * 3, False, True), ([0.0] * 2, False, True)]


def test_zero_grad_detaches_as_torch(torch):
    assert _program(tg) == _program(torch)
