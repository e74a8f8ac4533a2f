"""The message of a backward that meets a saved value modified in place names, as PyTorch's
does, the op that produced the saved tensor last (its grad_fn now: the in-place op itself,
CopySlices after a write through a view, AsStrided for a view whose base was written) for a
saved input, and the saving op for a saved output; PyTorch's hint text. Full messages compared
(tensor type and module names aside). PyTorch keeps a saved tensor alive; here the name is
found among the live tensors, so the programs keep theirs."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _leaf(L):
    return L.tensor([1.0, 2.0, 3.0], dtype=L.float64, requires_grad=True)


def p_mul_add_(L):
    b = _leaf(L) * 2
    c = b * b
    b.add_(1)
    return c, locals()


def p_mul_then_two_writes(L):
    b = _leaf(L) * 2
    c = b * b
    b.mul_(2).add_(1)
    return c, locals()


def p_view_of_written_base(L):
    b = _leaf(L) * 2
    v = b[:2]
    c = v * v
    b.add_(1)
    return c, locals()


def p_view_written(L):
    b = _leaf(L) * 1
    v = b[1:]
    c = b.sin()
    v.mul_(2)
    return c, locals()


def p_view_saved_base_written(L):
    b = _leaf(L) * 1
    v = b.view(3)
    c = v * v
    b.add_(1)
    return c, locals()


def p_saved_output(L):
    b = _leaf(L) * 1
    c = b.exp()
    c.add_(1)
    return c, locals()


def p_sigmoid_output(L):
    b = _leaf(L).sigmoid()
    b.mul_(2)
    return b, locals()


def p_constant_written(L):
    w = L.tensor([1.0, 2.0, 3.0], dtype=L.float64)
    c = _leaf(L) * w
    w.add_(1)
    return c, locals()


def p_no_grad_write(L):
    b = _leaf(L) * 1
    c = b * b
    with L.no_grad():
        b.add_(1)
    return c, locals()


def p_detached_write(L):
    b = _leaf(L) * 1
    c = b * b
    b.detach().add_(1)
    return c, locals()


def p_clamp_(L):
    b = _leaf(L) * 1
    c = b.tanh() * b
    b.clamp_(0, 1)
    return c, locals()


def p_sigmoid_(L):
    b = _leaf(L) * 1
    c = b * b
    b.sigmoid_()
    return c, locals()


def p_pow_(L):
    b = _leaf(L) * 1
    c = b.sin()
    b.pow_(2)
    return c, locals()


def p_setitem(L):
    b = _leaf(L) * 1
    c = b.cos()
    b[0] = 5.0
    return c, locals()


def p_attribute_dict_made(L):
    b = _leaf(L) * 2
    v = b[:2]
    v.__dict__  # (made: the tensor refers to its version counter through it)
    c = v * v
    b.add_(1)
    return c, locals()


PROGRAMS = [p_attribute_dict_made, p_mul_add_, p_mul_then_two_writes, p_view_of_written_base, p_view_written,
            p_view_saved_base_written, p_saved_output, p_sigmoid_output, p_constant_written,
            p_no_grad_write, p_detached_write, p_clamp_, p_sigmoid_, p_pow_, p_setitem]


def _message(L, program):
    c, live = program(L)  # (the program's tensors alive, as PyTorch's saved tensors keep them)
    with pytest.raises(RuntimeError) as e:
        c.sum().backward()
    return str(e.value).replace("torch.", "tapegrad.")


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_inplace_message_as_pytorch(program):
    assert _message(tg, program) == _message(torch, program)
