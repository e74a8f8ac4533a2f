"""x.view(dtype): the bytes reinterpreted, PyTorch's shapes, errors and (lack of) history."""

import numpy as np
import pytest

import tapegrad as tg

NAMES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool",
         "complex64"]


def _cases(lib):
    """(name, tensor) pairs built the same way in tapegrad and torch."""
    base = lib.arange(24, dtype=lib.float32).reshape(4, 6)
    return [("plain", base), ("cols", base[:, 2:4]), ("rows", base[1:, :4]),
            ("odd_offset", base.reshape(-1)[1:]), ("step", base[:, ::2]),
            ("t", base.t()), ("t_row", base.t()[:1]), ("expand", base[:, :1].expand(4, 4)),
            ("scalar", base[0, 1]), ("every_other_row", base[::2]), ("empty", base[:0])]


def test_reinterprets_bytes_without_torch():
    x = tg.tensor([1.0, -2.0, 3.5, 0.25], dtype=tg.float32)
    for name in NAMES:
        dt = getattr(tg, name)
        v = x.view(dt)
        want = x.numpy().view(np.dtype(dt))
        assert v.dtype == want.dtype and v.shape == want.shape
        np.testing.assert_array_equal(v.numpy(), want)
    assert x.view(dtype=tg.int32).shape == (4,)
    with pytest.raises(RuntimeError, match=r"self.dim\(\) cannot be 0 to view Float as Half"):
        x[0].view(tg.float16)


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch(name):
    torch = pytest.importorskip("torch")
    for (case, a), (_, b) in zip(_cases(tg), _cases(torch)):
        try:
            want = b.view(getattr(torch, name))
        except RuntimeError as e:
            with pytest.raises(RuntimeError) as got:
                a.view(getattr(tg, name))
            assert str(got.value) == str(e), case
            continue
        got = a.view(getattr(tg, name))
        assert tuple(got.shape) == tuple(want.shape), case
        assert got.stride() == want.stride() or 1 in want.shape, case
        np.testing.assert_array_equal(got.numpy(), want.numpy(), err_msg=case)


def test_no_history_shared_storage_and_version():
    torch = pytest.importorskip("torch")
    for lib in (tg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True, dtype=lib.float32)
        y = x * 2
        for src in (x, y):
            v = src.view(lib.float32)
            assert v.requires_grad is False and v.grad_fn is None and v.is_leaf
        z = y.exp()
        v = y.view(lib.float32)
        with lib.no_grad():
            v.add_(1)  # y's storage changed: exp's saved result is still fine, y's version moved
        assert y._version == 1
        np.testing.assert_array_equal(y.detach().numpy(), [3.0, 5.0])
        z.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([2.0, 4.0]))
