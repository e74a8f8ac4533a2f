"""grad_outputs / backward(gradient=...) of the wrong shape: PyTorch's full message text."""

import pytest

import tapegrad as tg


def _message(f):
    with pytest.raises(RuntimeError) as e:
        f()
    return str(e.value)


def _cases(lib):
    x = lib.ones(3, requires_grad=True)
    return {
        "grad one output": lambda: lib.autograd.grad(x * 2, x, lib.ones(2)),
        "grad scalar output": lambda: lib.autograd.grad((x * 2).sum(), x, lib.ones(3)),
        "grad 0-d against [1]": lambda: lib.autograd.grad((x * 2).sum(), x, lib.ones(1)),
        "grad 2-d": lambda: lib.autograd.grad(x * lib.ones(2, 3), x, lib.ones(3, 2)),
        "grad create_graph": lambda: lib.autograd.grad(x * 2, x, lib.ones(1), create_graph=True),
        "backward gradient": lambda: (x * 2).backward(lib.ones(2)),
        "backward scalar": lambda: (x * 2).sum().backward(lib.ones(3)),
        "backward 2-d": lambda: (x * lib.ones(2, 3)).backward(lib.ones(3)),
        # a later output: PyTorch finds the positions with list.index, comparing tensors
        "grad second output": lambda: lib.autograd.grad([x * 2, x * 3], x,
                                                        [lib.ones(3), lib.ones(2)]),
        "autograd.backward second": lambda: lib.autograd.backward([x * 2, x * 3],
                                                                  [lib.ones(3), lib.ones(1, 3)]),
        "batched": lambda: lib.autograd.grad(x * 2, x, lib.ones(2, 2), is_grads_batched=True),
        "batched 3-d": lambda: lib.autograd.grad(x * lib.ones(2, 3), x, lib.ones(4, 3, 2),
                                                 is_grads_batched=True),
        "func.vjp": lambda: lib.func.vjp(lambda v: v * 2, lib.ones(3))[1](lib.ones(2)),
    }


def test_wrong_shape_messages_match_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = _cases(tg), _cases(torch)
    for name in ours:
        assert _message(ours[name]) == _message(theirs[name]), name


def test_wrong_shape_message_prints_a_torch_size():
    x = tg.ones(3, requires_grad=True)
    assert _message(lambda: tg.autograd.grad(x * 2, x, tg.ones(2))) == (
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a "
        "shape of torch.Size([3]).")
