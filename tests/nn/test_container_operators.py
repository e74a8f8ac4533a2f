"""The rest of the containers' PyTorch surface: ``Sequential`` ``+``, ``+=``, ``*``, ``*=`` (the
same module objects repeated), ``ModuleDict.clear`` and ``ParameterDict``'s dict methods, and
their lookup errors (a missing ``ParameterDict`` key is an AttributeError, as PyTorch's)."""

from collections import OrderedDict

import tapegrad as tg


def _program(lib):
    nn = lib.nn
    out = []
    s = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    out.append([type(m).__name__ for m in s + nn.Sequential(nn.Tanh())])
    doubled = s * 2
    out += [[type(m).__name__ for m in doubled], doubled[0] is doubled[2], len(3 * s)]
    s2 = nn.Sequential(nn.ReLU())
    s2 *= 3
    s3 = nn.Sequential(nn.ReLU())
    s3 += nn.Sequential(nn.Tanh())
    out += [len(s2), list(s3.state_dict()) == [], [type(m).__name__ for m in s3]]
    for bad in (lambda: s * 0, lambda: s * 1.5, lambda: s + nn.ModuleList()):
        try:
            bad()
        except (TypeError, ValueError) as e:
            out.append(type(e).__name__ + ": " + str(e).split(" for ")[0].split(" of ")[0])
    md = nn.ModuleDict({"a": nn.ReLU()})
    md.clear()
    out.append(len(md))
    pd = nn.ParameterDict(OrderedDict(b=nn.Parameter(lib.ones(1)), a=nn.Parameter(lib.ones(2))))
    out.append(pd.popitem()[0])
    out.append(tuple(pd.setdefault("z", nn.Parameter(lib.zeros(3))).shape))
    out.append(tuple(pd.setdefault("z", None).shape))
    copied = pd.copy()
    out += [list(copied.keys()), copied["b"] is pd["b"]]
    fresh = pd.fromkeys(["x", "y"])
    out += [list(fresh.keys()), fresh["x"] is None]
    pd.clear()
    out.append(len(pd))
    return out


def test_container_operators():
    assert _program(tg) == [
        ["Linear", "ReLU", "Tanh"], ["Linear", "ReLU", "Linear", "ReLU"], True, 6, 3, True,
        ["ReLU", "Tanh"], "ValueError: Non-positive multiplication factor 0",
        "TypeError: unsupported operand type(s)", "ValueError: add operator supports only objects",
        0, "a", (3,), (3,), ["b", "z"], True, ["x", "y"], True, 0]


def test_container_operators_match_torch(torch):
    assert _program(tg) == _program(torch)


def _lookup_errors(lib):
    nn = lib.nn
    out = []
    s = nn.Sequential(nn.ReLU(), nn.Tanh())
    s[-1] = nn.ELU()
    out.append([type(m).__name__ for m in s])
    pd = nn.ParameterDict({"a": nn.Parameter(lib.ones(1))})
    out.append(pd.get("zz", 5))
    for call in (lambda: s.__setitem__(5, nn.ReLU()), lambda: pd["zz"], lambda: pd.pop("zz")):
        try:
            call()
        except (IndexError, AttributeError, KeyError) as e:
            out.append((type(e).__name__, str(e)))
    return out


def test_lookup_errors():
    assert _lookup_errors(tg) == [
        ["ReLU", "ELU"], 5, ("IndexError", "index 5 is out of range"),
        ("AttributeError", "'ParameterDict' object has no attribute 'zz'"),
        ("AttributeError", "'ParameterDict' object has no attribute 'zz'")]


def test_lookup_errors_match_torch(torch):
    assert _lookup_errors(tg) == _lookup_errors(torch)
