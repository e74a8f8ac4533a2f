"""cross_entropy and nll_loss check a class-index target as PyTorch's kernels do: its rank and
sizes before its dtype (the 4-D kernel: dtype before sizes), and no Byte targets past 2-D."""

import pytest

import tapegrad as tg

CASES = [((3, 4), (3, 5)), ((3, 4), (3,)), ((3, 4), (5,)), ((3, 4, 2), (3, 2)),
         ((3, 4, 2), (3,)), ((3, 4, 2, 2), (3, 2)), ((3, 4, 2, 2), (3, 2, 3)), ((4,), (4, 2)),
         ((3, 4), (3, 4, 1)), ((3, 4, 2, 2, 2), (3, 2, 2, 2))]


def _outcomes(lib, fn, dtype):
    out = []
    for xs, ts in CASES:
        x, t = lib.zeros(xs, dtype=lib.float32), lib.zeros(ts, dtype=getattr(lib, dtype))
        try:
            getattr(lib.nn.functional, fn)(x, t)
            out.append("ok")
        except (RuntimeError, ValueError) as e:
            out.append(f"{type(e).__name__}: {e}")
    return out


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "int64"])
def test_target_checks_in_pytorchs_order(fn, dtype):
    torch = pytest.importorskip("torch")
    assert _outcomes(tg, fn, dtype) == _outcomes(torch, fn, dtype)
