"""tg.rand draws lie in [0, 1) in every float dtype, as torch.rand's: a float64 draw within
2**-25 of 1 would round to 1.0 in float32 (then -log(1 - u) is inf)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import creation


class _NearOne:
    def random(self, shape):
        return np.full(shape, 1.0 - 2.0 ** -30)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_rand_stays_below_one(dtype, monkeypatch):
    monkeypatch.setattr(creation, "draws", lambda generator=None: _NearOne())
    u = tg.rand(5, dtype=getattr(tg, dtype))
    assert u.dtype == getattr(tg, dtype)
    assert (u.numpy() < 1).all()
    assert np.isfinite((-(1 - u).log()).numpy()).all()


def test_rand_stream_unchanged_away_from_one():
    tg.manual_seed(3)
    a = tg.rand(1000, dtype=tg.float32).numpy()
    tg.manual_seed(3)
    b = tg.rand(1000, dtype=tg.float64).numpy()
    np.testing.assert_array_equal(a, b.astype(np.float32))
