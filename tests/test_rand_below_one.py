"""tg.rand draws lie in [0, 1) in every float dtype, as torch.rand's: a float64 draw within
2**-25 of 1 would round to 1.0 in float32 (then -log(1 - u) is inf)."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import creation


class _NearOne:
    def random(self, shape):
        return np.full(shape, 1.0 - 2.0 ** -30)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64"])
def test_rand_stays_below_one(dtype, monkeypatch):
    monkeypatch.setattr(creation, "draws", lambda generator=None: _NearOne())
    u = tg.rand(5, dtype=getattr(tg, dtype))
    assert u.dtype == getattr(tg, dtype)
    v = u.numpy()
    for part in (v.real, v.imag) if v.dtype.kind == "c" else (v,):
        assert (part < 1).all()
    if v.dtype.kind != "c":
        assert np.isfinite((-(1 - u).log()).numpy()).all()


def test_rand_stream_unchanged_away_from_one():
    tg.manual_seed(3)
    a = tg.rand(1000, dtype=tg.float32).numpy()
    tg.manual_seed(3)
    b = tg.rand(1000, dtype=tg.float64).numpy()
    np.testing.assert_array_equal(a, b.astype(np.float32))


def test_rand_like_stays_below_one(monkeypatch):
    monkeypatch.setattr(creation, "draws", lambda generator=None: _NearOne())
    assert (tg.rand_like(tg.zeros(4, dtype=tg.float32)).numpy() < 1).all()


def test_windows_keep_their_values():
    np.testing.assert_allclose(tg.hann_window(5).numpy(), np.hanning(6)[:-1])
    np.testing.assert_allclose(tg.kaiser_window(4, periodic=False, beta=3.0).numpy(),
                               np.kaiser(4, 3.0))
