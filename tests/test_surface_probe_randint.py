"""``randint``'s arguments against PyTorch: bounds an integer, bool or half dtype cannot hold
raise (NumPy drew and wrapped them: ``randint(0, 300, dtype=uint8)`` gave values past 255 mod
256, ``dtype=bool`` with ``high=10`` all True), float bounds and a missing size raise PyTorch's
TypeErrors (a float was truncated), float32/float64 warn beyond their exact integers."""
import warnings

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = ["(0, 300, (2,), dtype=M.uint8)", "(-1, 3, (2,), dtype=M.uint8)",
         "(0, 256, (50,), dtype=M.uint8)", "(-129, 0, (2,), dtype=M.int8)",
         "(-128, 128, (50,), dtype=M.int8)", "(0, 2, (20,), dtype=M.bool)",
         "(0, 3, (2,), dtype=M.bool)", "(-1, 1, (2,), dtype=M.bool)",
         "(0, 2 ** 40, (2,), dtype=M.int32)", "(0, 2 ** 31, (2,), dtype=M.int32)",
         "(0, 2 ** 31 + 1, (2,), dtype=M.int32)", "(0, 70000, (2,), dtype=M.float16)",
         "(0, 65505, (2,), dtype=M.float16)", "(0, 10, (2,), dtype=M.complex64)",
         "(0, 2 ** 25, (2,), dtype=M.float32)", "(-2 ** 25, 0, (2,), dtype=M.float32)",
         "(0, 2 ** 54, (2,), dtype=M.float64)", "(0, 2 ** 24, (2,), dtype=M.float32)",
         "(0, 2.5, (2,))", "(0.0, 3, (2,))", "(True, 3, (2,))", "(2.5, (2,))", "(10,)",
         "(0, 10)", "(5, 3, (2,))", "(0, 2 ** 63, (2,))", "(-2 ** 63, 0, (2,))",
         "(np.int64(3), (2,))", "(-5, 5, (4,), dtype=M.int16)", "(5, (3, 2))",
         "(0, 10, size=(2,))", "(M.tensor(4), (3,))"]


def outcome(M, call):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        try:
            r = eval("M.randint" + call, {"M": M, "np": np})
        except (RuntimeError, TypeError, ValueError) as e:
            return type(e).__name__, str(e), []
    msgs = [str(x.message).split(" (Triggered internally")[0] for x in w]
    return "ok", (str(r.dtype).replace("torch.", ""), tuple(r.shape)), msgs, r


@pytest.mark.parametrize("call", CALLS)
def test_randint_as_torch(call):
    expected, got = outcome(torch, call), outcome(tg, call)
    assert got[:3] == expected[:3]
    if got[0] == "ok":
        args = eval("args" + call, {"args": lambda *a, **k: a, "M": tg, "np": np})
        low, high = (0, args[0]) if isinstance(args[1], tuple) else args[:2]
        v = got[3].numpy().astype(float)
        assert (v >= int(low)).all() and (v < int(high)).all()


def test_randint_narrow_dtype_reaches_both_ends():
    tg.manual_seed(0)
    v = tg.randint(-128, 128, (4000,), dtype=tg.int8).numpy()
    assert v.min() == -128 and v.max() == 127
    v = tg.randint(0, 2, (200,), dtype=tg.bool).numpy()
    assert v.any() and not v.all()
