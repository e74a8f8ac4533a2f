"""``Tensor.type`` and ``Module.type`` as PyTorch's: ``t.type()`` is the type name
(``torch.FloatTensor``), a dtype or a type name converts (integer values too, for a module),
an unknown name raises; ``Module.share_memory`` returns the module."""

import pytest

import tapegrad as tg


def _tensor_program(lib):
    t = lib.ones(2, dtype=lib.float32, requires_grad=True)
    out = [t.type(), lib.ones(1, dtype=lib.bool).type(), t.type(lib.int32).type()]
    y = t.type("torch.DoubleTensor")
    (y * 3).sum().backward()
    out += [str(y.dtype).replace("torch.", ""), t.grad.tolist(), t.type("torch.FloatTensor") is t]
    for bad in ("foo", "FloatTensor", "torch.float64"):
        with pytest.raises(ValueError) as info:
            t.type(bad)
        out.append(str(info.value))
    return out


def test_tensor_type():
    assert _tensor_program(tg) == [
        "torch.FloatTensor", "torch.BoolTensor", "torch.IntTensor", "float64", [3.0, 3.0], True,
        "invalid type: 'foo'", "invalid type: 'FloatTensor'", "invalid type: 'torch.float64'"]


def test_tensor_type_matches_torch(torch):
    assert _tensor_program(tg) == _tensor_program(torch)


def _module_program(lib):
    m = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3))
    out = [m.type(lib.float64) is m]
    out += [str(t.dtype).replace("torch.", "") for t in m.state_dict().values()]
    m.type("torch.FloatTensor")
    out += [str(t.dtype).replace("torch.", "") for t in m.state_dict().values()]
    out.append(m.share_memory() is m)
    return out


def test_module_type_casts_every_tensor():
    assert _module_program(tg) == [True] + ["float64"] * 7 + ["float32"] * 7 + [True]


def test_module_type_matches_torch(torch):
    assert _module_program(tg) == _module_program(torch)
