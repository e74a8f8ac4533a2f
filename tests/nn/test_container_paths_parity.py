"""Container and module-path surface as PyTorch has it: ``Sequential``/``ModuleList.pop``,
``ParameterDict``'s key order (a plain dict's keys sorted), the parameter containers' reprs,
``Module.set_submodule``, and the registration errors' wording."""

from collections import OrderedDict

import pytest

import tapegrad as tg


def _container_program(lib):
    nn = lib.nn
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 4))
    popped = seq.pop(0)
    mlist = nn.ModuleList([nn.Linear(1, 1), nn.Tanh(), nn.Linear(1, 1)])
    mpopped = mlist.pop(-2)
    pd = nn.ParameterDict({"w": nn.Parameter(lib.ones(2)), "a": nn.Parameter(lib.zeros(1))})
    pd.update(OrderedDict([("z", nn.Parameter(lib.ones(3))), ("b", nn.Parameter(lib.ones(1)))]))
    pd.update([("y", lib.ones(1)), ("c", lib.ones(1))])
    return (type(popped).__name__, list(seq.state_dict()), type(mpopped).__name__,
            list(mlist.state_dict()), list(pd.keys()))


def test_pop_and_parameter_dict_order():
    popped, seq_keys, mpopped, mlist_keys, pd_keys = _container_program(tg)
    assert (popped, mpopped) == ("Linear", "Tanh")
    assert seq_keys == ["1.weight", "1.bias"]
    assert mlist_keys == ["0.weight", "0.bias", "1.weight", "1.bias"]
    # a plain dict's keys are sorted; ordered inputs keep their order
    assert pd_keys == ["a", "w", "z", "b", "y", "c"]


def test_pop_and_parameter_dict_order_match_torch(torch):
    assert _container_program(tg) == _container_program(torch)


def _update_errors(lib):
    out = []
    for bad in (5, [1], [(1, 2, 3)]):
        with pytest.raises((TypeError, ValueError)) as info:
            lib.nn.ParameterDict().update(bad)
        out.append((info.type, str(info.value)))
    return out


def test_parameter_dict_update_errors():
    assert _update_errors(tg) == [
        (TypeError, "ParametersDict.update should be called with an iterable of key/value "
                    "pairs, but got int"),
        (TypeError, "ParameterDict update sequence element #0 should be Iterable; isint"),
        (ValueError, "ParameterDict update sequence element #0 has length 3; 2 is required")]


def test_parameter_dict_update_errors_match_torch(torch):
    assert _update_errors(tg) == _update_errors(torch)


def _reprs(lib):
    pl = lib.nn.ParameterList([lib.ones(2, dtype=lib.float32), lib.ones(3, 1, dtype=lib.float64)])
    one = lib.nn.ParameterList([lib.ones(2, dtype=lib.float32)])
    pd = lib.nn.ParameterDict(OrderedDict(w=lib.ones(2, dtype=lib.float32)))
    return [repr(m).replace("tapegrad.", "torch.") for m in (pl, one, pd)]


def test_parameter_container_reprs():
    assert _reprs(tg) == [
        "ParameterList(\n    (0): Parameter containing: [torch.float32 of size 2]\n"
        "    (1): Parameter containing: [torch.float64 of size 3x1]\n)",
        "ParameterList(  (0): Parameter containing: [torch.float32 of size 2])",
        "ParameterDict(  (w): Parameter containing: [torch.FloatTensor of size 2])"]


def test_parameter_container_reprs_match_torch(torch):
    assert _reprs(tg) == _reprs(torch)


def _set_submodule(lib):
    nn = lib.nn
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    net.set_submodule("1.0", nn.Tanh())
    net.set_submodule("1.extra", nn.Identity())
    out = [[type(m).__name__ for _, m in net.named_modules()]]
    for args, kwargs in [(("1.nope", nn.ReLU()), {"strict": True}), (("0.weight", nn.ReLU()), {}),
                         (("", nn.ReLU()), {}), (("0", 3), {}), (("x.y", nn.ReLU()), {})]:
        with pytest.raises((AttributeError, ValueError)) as info:
            net.set_submodule(*args, **kwargs)
        out.append((info.type, str(info.value).replace("torch.", "")))
    return out


def test_set_submodule():
    out = _set_submodule(tg)
    assert out[0] == ["Sequential", "Linear", "Sequential", "Tanh", "Linear", "Identity"]
    assert out[1:] == [(AttributeError, "Sequential has no attribute `nope`"),
                       (AttributeError, "`weight` is not an nn.Module"),
                       (ValueError, "Cannot set the submodule without a target name!"),
                       (ValueError, "`module` is not an nn.Module, found <class 'int'>"),
                       (AttributeError, "Sequential has no attribute `x`")]


def test_set_submodule_matches_torch(torch):
    assert _set_submodule(tg) == _set_submodule(torch)


def _registration_errors(lib):
    m = lib.nn.Linear(2, 2)
    calls = [lambda: m.add_module("a.b", lib.nn.ReLU()), lambda: m.register_buffer("a.b", None),
             lambda: m.register_parameter("p", lib.ones(1, dtype=lib.float32)),
             lambda: setattr(m, "weight", lib.ones(1, dtype=lib.float64)),
             lambda: m.register_buffer("b", 3)]
    out = []
    for call in calls:
        with pytest.raises((KeyError, TypeError)) as info:
            call()
        out.append((info.type, str(info.value)))
    return out


def test_registration_errors_name_the_tensor_type():
    assert _registration_errors(tg) == [
        (KeyError, "'module name can\\'t contain \".\", got: a.b'"),
        (KeyError, "'buffer name can\\'t contain \".\"'"),
        (TypeError, "cannot assign 'torch.FloatTensor' object to parameter 'p' "
                    "(torch.nn.Parameter or None required)"),
        (TypeError, "cannot assign 'torch.DoubleTensor' as parameter 'weight' "
                    "(torch.nn.Parameter or None expected)"),
        (TypeError, "cannot assign 'int' object to buffer 'b' (torch Tensor or None required)")]


def test_registration_errors_match_torch(torch):
    assert _registration_errors(tg) == _registration_errors(torch)
