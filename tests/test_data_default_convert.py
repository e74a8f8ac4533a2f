"""``default_convert`` (the DataLoader's ``collate_fn`` for ``batch_size=None``): NumPy arrays
and scalars become tensors inside any nesting, tuples come back lists, named tuples and mapping
types are kept, string arrays and Python values are left alone, as PyTorch's."""

from collections import OrderedDict, namedtuple

import numpy as np

import tapegrad as tg

Pair = namedtuple("Pair", "a b")


def _norm(x):
    if type(x).__name__ in ("Tensor", "Parameter"):
        return ("T", str(x.dtype).replace("torch.", ""), x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: _norm(v) for k, v in x.items()})
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [_norm(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", x.tolist())
    return (type(x).__name__, x)


def _program(lib):
    convert = lib.utils.data.default_convert
    data = [np.arange(3), np.float64(2.5), np.int32(3), (np.ones(2), "x"),
            {"a": np.zeros(2, np.float32), "b": [np.int64(1), 2]}, OrderedDict(z=np.ones(1)),
            Pair(np.ones(1), 3), np.array(["a", "b"]), "str", 5]
    out = [_norm(convert(d)) for d in data]
    loader = lib.utils.data.DataLoader([np.ones(2) * i for i in range(2)], batch_size=None)
    out.append([_norm(b) for b in loader])
    return out


def test_default_convert():
    out = _program(tg)
    assert out[0] == ("T", "int64", [0, 1, 2]) and out[1] == ("T", "float64", 2.5)
    assert out[3] == ("list", [("T", "float64", [1.0, 1.0]), ("str", "x")])
    assert out[5][0] == "OrderedDict" and out[6][0] == "Pair"
    assert out[7] == ("ndarray", ["a", "b"]) and out[8:10] == [("str", "str"), ("int", 5)]
    assert out[10] == [("T", "float64", [0.0, 0.0]), ("T", "float64", [1.0, 1.0])]


def test_default_convert_matches_torch(torch):
    assert _program(tg) == _program(torch)
