"""``F.pad``'s argument checks as PyTorch: RuntimeError for an odd or too long ``pad`` and for
circular padding that wraps twice, NotImplementedError for an unknown mode and for the
non-constant paddings outside 1-3 spatial dims after 1 or 2 leading dims."""

import itertools

import pytest

import tapegrad as tg
import tapegrad.nn.functional as F

_CASES = [(mode, nd, n) for mode, nd, n in itertools.product(
    ("constant", "reflect", "replicate", "circular"), range(1, 8), (2, 4, 6, 8))]


def _outcome(lib, mode, nd, pad):
    x = lib.ones(*[3] * nd)
    try:
        return "ok", tuple(lib.nn.functional.pad(x, pad, mode=mode).shape)
    except (RuntimeError, NotImplementedError) as e:
        return type(e).__name__, str(e)


def test_pad_checks():
    assert _outcome(tg, "constant", 3, (1,)) == ("RuntimeError",
                                                 "Padding length must be divisible by 2")
    assert _outcome(tg, "reflect", 1, (1, 1, 1, 1))[0] == "RuntimeError"
    assert _outcome(tg, "circular", 3, (4, 4)) == (
        "RuntimeError", "Padding value causes wrapping around more than once.")
    assert _outcome(tg, "bogus", 3, (1, 1)) == ("NotImplementedError",
                                                "Unrecognised padding mode bogus")
    kind, msg = _outcome(tg, "reflect", 4, (1, 1))  # one spatial dim after three leading dims
    assert kind == "NotImplementedError"
    assert msg.startswith("Padding size 2 is not supported for 4D input tensor.\n")
    assert _outcome(tg, "replicate", 1, (1, 1, 1, 1, 1, 1))[0] == "RuntimeError"  # (crashed)
    assert _outcome(tg, "circular", 5, (1,) * 6) == ("ok", (3, 3, 5, 5, 5))
    assert _outcome(tg, "constant", 7, (1,) * 8) == ("ok", (3, 3, 3, 5, 5, 5, 5))
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D"):
        F.pad(tg.ones(3), (1, 1), mode="reflect")


@pytest.mark.parametrize("mode,nd,n", _CASES)
def test_pad_checks_match_torch(torch, mode, nd, n):
    assert _outcome(tg, mode, nd, (1,) * n) == _outcome(torch, mode, nd, (1,) * n)
