"""stft/istft (functions and methods): PyTorch's values, shapes, defaults, gradients and errors;
finite differences to second order."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op, needs_torch, torch

SIGNAL = np.random.default_rng(3).standard_normal((2, 21))
OPTIONS = [dict(), dict(hop_length=3, win_length=6), dict(normalized=True, onesided=False),
           dict(center=False), dict(pad_mode="constant"), dict(pad_mode="circular"),
           dict(pad_mode="replicate")]


def _window(lib, options, n_fft=8):
    return lib.hann_window(options.get("win_length", n_fft), dtype=lib.float64)


@needs_torch
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_stft_values_and_gradients_against_torch(options):
    xs = [tg.tensor(SIGNAL, requires_grad=True), _window(tg, options).requires_grad_()]
    ts = [torch.tensor(SIGNAL, requires_grad=True), _window(torch, options).requires_grad_()]
    got = tg.stft(xs[0], 8, window=xs[1], return_complex=True, **options)
    want = torch.stft(ts[0], 8, window=ts[1], return_complex=True, **options)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    w = np.random.default_rng(0).standard_normal(tuple(want.shape) + (2,))
    (tg.view_as_real(got) * tg.tensor(w)).sum().backward()
    (torch.view_as_real(want) * torch.tensor(w)).sum().backward()
    for a, b in zip(xs, ts):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)


@needs_torch
@pytest.mark.parametrize("options", [o for o in OPTIONS if "pad_mode" not in o], ids=str)
def test_istft_values_and_gradients_against_torch(options):
    # (a window without zeros: center=False keeps the first and last samples)
    spec = torch.stft(torch.tensor(SIGNAL), 8, window=_window(torch, options) + 0.1,
                      return_complex=True, **options)
    parts = torch.view_as_real(spec).numpy()
    length = 21 if options.get("center", True) else None
    xs, ts = tg.tensor(parts, requires_grad=True), torch.tensor(parts, requires_grad=True)
    got = tg.istft(tg.view_as_complex(xs), 8, window=_window(tg, options) + 0.1,
                   length=length, **options)
    want = torch.istft(torch.view_as_complex(ts), 8, window=_window(torch, options) + 0.1,
                       length=length, **options)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    if length:
        np.testing.assert_allclose(got.detach().numpy(), SIGNAL, atol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(want.shape))
    (got * tg.tensor(w)).sum().backward()
    (want * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), ts.grad.numpy(), atol=1e-12)


@needs_torch
def test_stft_defaults_methods_and_complex_input_against_torch():
    x = SIGNAL[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = tg.tensor(x).stft(8, return_complex=True)
        old = tg.stft(tg.tensor(x), 8, window=tg.ones(8), return_complex=False)
    assert any("A window was not provided" in str(c.message) for c in caught)
    assert any("return_complex=False is deprecated" in str(c.message) for c in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = torch.tensor(x).stft(8, return_complex=True)
        back = torch.tensor(x).stft(8, return_complex=True).istft(8, length=21)
        longer = torch.istft(want, 8, window=torch.ones(8, dtype=torch.float64), length=30)
        cx = torch.stft(torch.tensor(x + 1j * x[::-1]), 8, window=torch.ones(8, dtype=torch.float64))
    np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)
    np.testing.assert_allclose(old.numpy(), torch.view_as_real(want).numpy(), atol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(got.istft(8, length=21).numpy(), back.numpy(), atol=1e-12)
    np.testing.assert_allclose(tg.istft(got, 8, window=tg.ones(8), length=30).numpy(),
                               longer.numpy(), atol=1e-12)
    mine = tg.stft(tg.tensor(x + 1j * x[::-1]), 8, window=tg.ones(8))
    assert mine.shape == tuple(cx.shape)
    np.testing.assert_allclose(mine.numpy(), cx.numpy(), atol=1e-12)
    inverse = tg.istft(mine, 8, window=tg.ones(8), return_complex=True, length=21)
    np.testing.assert_allclose(inverse.numpy(), x + 1j * x[::-1], atol=1e-12)


@needs_torch
def test_stft_errors_against_torch():
    x = SIGNAL[0]

    def error(lib, f):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                f(lib, lib.tensor(x))
            except Exception as e:  # noqa: BLE001 (the type and the words' end are compared)
                return type(e).__name__, str(e).split(": ")[-1]
        return None

    cases = [lambda lib, t: lib.stft(t, 8),
             lambda lib, t: lib.stft(t, 8, hop_length=0, return_complex=True),
             lambda lib, t: lib.stft(t, 8, win_length=9, return_complex=True),
             lambda lib, t: lib.stft(t, 8, window=lib.ones(7), return_complex=True),
             lambda lib, t: lib.stft(t.reshape(1, 3, 7), 4, return_complex=True),
             lambda lib, t: lib.istft(lib.stft(t, 8, return_complex=True), 8,
                                      window=lib.zeros(8, dtype=lib.float64)),
             lambda lib, t: lib.istft(lib.stft(t, 8, return_complex=True), 6)]
    for f in cases:
        mine, theirs = error(tg, f), error(torch, f)
        assert mine is not None and mine[0] == theirs[0]
        assert theirs[1].startswith(mine[1][:40])

    def short(lib, t):  # (reflect padding longer than a batched signal: the input's shape too)
        return lib.stft(t[:8].reshape(2, 4), 8, window=lib.ones(8), return_complex=True)

    assert error(tg, short) == error(torch, short)


def test_stft_and_istft_finite_differences():
    window = tg.hann_window(6, dtype=tg.float64)
    check_op(lambda x, w: tg.view_as_real(tg.stft(x, 6, 2, window=w, return_complex=True)),
             [SIGNAL[0, :11], window.numpy()])
    spec = tg.view_as_real(tg.stft(tg.tensor(SIGNAL[0, :11]), 6, 2, window=window,
                                   return_complex=True)).numpy()
    check_op(lambda s, w: tg.istft(tg.view_as_complex(s), 6, 2, window=w, length=11),
             [spec, window.numpy() + 0.1])
