"""In-place clamps of an integer or bool tensor by a number bound its dtype cannot hold refuse
in PyTorch's words, which name the tensor's C type ('long int', 'unsigned char', 'bool'); by a
tensor bound the dtype's name ('Long'), as other in-place ops."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

_DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool"]
_CALLS = {
    "clamp_max": lambda t, lib: t.clamp_(max=1.5),
    "clamp_min_max": lambda t, lib: t.clamp_(min=0.5, max=2),
    "clamp_min_": lambda t, lib: t.clamp_min_(1.5),
    "clamp_max_": lambda t, lib: t.clamp_max_(1.5),
    "clip_": lambda t, lib: t.clip_(max=1.5),
    "int_bound": lambda t, lib: t.clamp_(max=300),
    "negative_int": lambda t, lib: t.clamp_max_(-1),
    "tensor_bound": lambda t, lib: t.clamp_(lib.tensor(1.5)),
    "tensor_bounds": lambda t, lib: t.clamp_(min=lib.tensor(0.5), max=lib.tensor(2.5)),
}


def _outcome(lib, dtype, call):
    t = lib.ones(3, dtype=getattr(lib, dtype))
    try:
        call(t, lib)
    except Exception as e:  # noqa: BLE001 (the refusal compared)
        return type(e).__name__, str(e)
    return "ok", t.tolist()


def _float_named_as_default(outcome):
    """A Python float bound's type is the default dtype: float64 here, float32 in PyTorch."""
    kind, msg = outcome
    return kind, msg.replace("result type Double ", "result type Float ") if kind != "ok" \
        else msg


@pytest.mark.parametrize("dtype", _DTYPES)
@pytest.mark.parametrize("name", list(_CALLS))
def test_refusals_as_torch(dtype, name):
    ours = _outcome(tg, dtype, _CALLS[name])
    assert _float_named_as_default(ours) == _outcome(torch, dtype, _CALLS[name])


def test_default_float64_names_double():
    kind, msg = _outcome(tg, "int64", _CALLS["clamp_max"])
    assert (kind, msg) == ("RuntimeError", "result type Double can't be cast to the desired "
                                           "output type long int")


def test_float_tensor_clamps_in_place():
    x = tg.tensor([-2.0, 0.5, 3.0])
    x.clamp_min_(0.0).clamp_max_(1.0)
    y = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64)
    y.clamp_min_(0.0).clamp_max_(1.0)
    assert x.tolist() == y.tolist()
