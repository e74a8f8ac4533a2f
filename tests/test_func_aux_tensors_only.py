"""The aux output of the func transforms (has_aux=True) must hold tensors only: a number,
string or None anywhere in it raises torch.func's error; tensors in tuples, lists and dicts
(and empty ones) pass."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _call(L, name, aux_of):
    x = L.tensor([1.0, 2.0])
    f_vec = lambda x: (x.sin(), aux_of(L, x))  # noqa: E731
    f_sum = lambda x: (x.sin().sum(), aux_of(L, x))  # noqa: E731
    F = L.func
    calls = {
        "vjp": lambda: F.vjp(f_vec, x, has_aux=True),
        "jvp": lambda: F.jvp(f_vec, (x,), (x,), has_aux=True),
        "grad": lambda: F.grad(f_sum, has_aux=True)(x),
        "grad_and_value": lambda: F.grad_and_value(f_sum, has_aux=True)(x),
        "jacrev": lambda: F.jacrev(f_vec, has_aux=True)(x),
        "jacfwd": lambda: F.jacfwd(f_vec, has_aux=True)(x),
    }
    try:
        calls[name]()
    except RuntimeError as e:
        return str(e)
    return "ok"


AUX = {
    "int": lambda L, x: 3, "str": lambda L, x: "a", "none": lambda L, x: None,
    "tensor_none": lambda L, x: (x.cos(), None), "dict_none": lambda L, x: {"a": None},
    "nested_str": lambda L, x: [x, [x.cos(), "b"]], "float_in_dict": lambda L, x: {"k": 1.5},
    "empty_list": lambda L, x: [], "empty_dict": lambda L, x: {}, "empty_tuple": lambda L, x: (),
    "dict_tensor": lambda L, x: {"a": x.cos()}, "tensor": lambda L, x: x.cos(),
}


@pytest.mark.parametrize("name", ["vjp", "jvp", "grad", "grad_and_value", "jacrev", "jacfwd"])
@pytest.mark.parametrize("aux", sorted(AUX))
def test_aux_leaves_as_torch_func(name, aux):
    assert _call(tg, name, AUX[aux]) == _call(torch, name, AUX[aux])
