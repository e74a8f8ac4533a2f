"""``functional_call`` with tied weights and ``strict`` as ``torch.func``'s: a value given under
one name of a tied tensor stands for all its names (strict counts them as given), different
values for one tied tensor are refused, and strict lists unexpected keys first, sorted. A name
that is a plain tensor attribute (or no attribute yet) is swapped too, and restored after."""

import numpy as np
import pytest

import tapegrad as tg

from tests.op_checks import needs_torch, torch


def _tied(lib):
    class Tied(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Linear(2, 2, bias=False, dtype=lib.float64)
            self.b = lib.nn.Linear(2, 2, bias=False, dtype=lib.float64)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    return Tied()


def test_strict_counts_every_name_of_a_tied_weight():
    m = _tied(tg)
    out = tg.func.functional_call(m, {"a.weight": tg.eye(2) * 2}, (tg.tensor([[1.0, 2.0]]),),
                                  strict=True)
    np.testing.assert_array_equal(out.numpy(), [[4.0, 8.0]])


def test_different_values_for_a_tied_weight_are_refused():
    m, x, w = _tied(tg), tg.tensor([[1.0, 2.0]]), tg.eye(2) * 2
    with pytest.raises(ValueError, match=r"functional_call got multiple values for keys "
                                         r"\['a.weight', 'b.weight'\], which are tied"):
        tg.func.functional_call(m, {"a.weight": w, "b.weight": tg.eye(2) * 3}, (x,))
    same = tg.func.functional_call(m, {"a.weight": w, "b.weight": w}, (x,))
    np.testing.assert_array_equal(same.numpy(), [[4.0, 8.0]])
    untied = tg.func.functional_call(m, {"a.weight": w, "b.weight": tg.eye(2) * 3}, (x,),
                                     tie_weights=False)
    np.testing.assert_array_equal(untied.numpy(), [[6.0, 12.0]])


def test_strict_message_lists_unexpected_then_missing_sorted():
    m = tg.nn.Sequential(tg.nn.Linear(2, 2), tg.nn.Linear(2, 1))
    with pytest.raises(RuntimeError) as info:
        tg.func.functional_call(m, {"z": tg.ones(1), "c": tg.ones(1), "1.bias": tg.ones(1)},
                                (tg.ones(1, 2),), strict=True)
    assert str(info.value) == ("Error(s) in reparametrizing for Sequential:\n\t"
                               "Unexpected key(s): 'c', 'z'.\n\t"
                               "Missing key(s): '0.bias', '0.weight', '1.weight'.")


def _scaled(lib):
    class Scaled(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2, dtype=lib.float64)
            self.scale = lib.tensor([2.0, 3.0], dtype=lib.float64)  # a plain attribute
            self.register_buffer("unset", None)

        def forward(self, x):
            out = self.lin(x) * self.scale
            extra = getattr(self.lin, "shift", None)
            return out if extra is None else out + extra

    m = Scaled()
    with lib.no_grad():
        m.lin.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64))
        m.lin.bias.copy_(lib.tensor([0.5, -0.5], dtype=lib.float64))
    return m


def test_plain_tensor_attributes_are_swapped_and_restored():
    m, x = _scaled(tg), tg.tensor([[1.0, -1.0]])
    scale = m.scale
    out = tg.func.functional_call(m, {"scale": tg.tensor([10.0, 10.0]),
                                      "lin.shift": tg.tensor([1.0, 1.0])}, (x,))
    np.testing.assert_array_equal(out.detach().numpy(), [[-4.0, -14.0]])
    assert m.scale is scale and not hasattr(m.lin, "shift")
    g = tg.func.grad(lambda s: tg.func.functional_call(m, {"scale": s}, (x,)).sum())(tg.ones(2))
    np.testing.assert_array_equal(g.detach().numpy(), [-0.5, -1.5])
    out = tg.func.functional_call(m, {"unset": tg.ones(1)}, (x,))  # a buffer that was None
    assert m.unset is None and out.shape == (1, 2)
    with pytest.raises(AttributeError, match="Scaled has no attribute `nope`"):
        tg.func.functional_call(m, {"nope.w": tg.ones(1)}, (x,))
    with pytest.raises(TypeError, match="(?s)submodule `lin.weight`: .* is not an instance of "
                                        "torch.nn.Module"):  # (a path through a tensor)
        tg.func.functional_call(m, {"lin.weight.w": tg.ones(1)}, (x,))
    assert m.scale is scale  # (nothing left swapped by the refused call)


@needs_torch
def test_plain_attributes_match_torch():
    def run(lib):
        m, x = _scaled(lib), lib.tensor([[1.0, -1.0]], dtype=lib.float64)
        s = lib.tensor([1.0, 4.0], dtype=lib.float64)
        return lib.func.grad(lambda s: (lib.func.functional_call(
            m, {"scale": s, "lin.shift": s * 2}, (x,)) ** 2).sum())(s).detach().numpy()

    np.testing.assert_allclose(run(tg), run(torch))


@needs_torch
def test_tied_weights_match_torch():
    def run(lib):
        m, x = _tied(lib), lib.tensor([[1.0, 2.0]], dtype=lib.float64)
        w = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        out = lib.func.functional_call(m, {"b.weight": w}, (x,), strict=True)
        with pytest.raises(ValueError) as info:
            lib.func.functional_call(m, {"a.weight": w, "b.weight": w * 1}, (x,))
        return out.detach().numpy(), str(info.value)

    (a, msg_a), (b, msg_b) = run(tg), run(torch)
    np.testing.assert_allclose(a, b)
    assert msg_a == msg_b
