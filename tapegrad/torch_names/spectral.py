"""The short-time Fourier transform and its inverse under PyTorch's names and defaults
(``tg.stft``, ``tg.istft``): frames by ``unfold``, the window a product, the DFTs
``tg.fft``'s, the inverse's overlap-add an ``index_add`` divided by the window's own
overlap-added square. Every step is a differentiable op, so values and gradients (any order)
are those ops'."""

import math
import warnings

import numpy as np

from .. import creation as _creation
from .. import fft as _fft
from .. import ops as _ops
from ..ops.record import as_tensor
from . import shapes
from ._common import const

__all__ = ["stft", "istft"]

_NO_WINDOW = ("A window was not provided. A rectangular window will be applied,which is known to "
              "cause spectral leakage. Other windows such as torch.hann_window or "
              "torch.hamming_window are recommended to reduce spectral leakage.To suppress this "
              "warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
              "device=<device>)`.")
_NO_WINDOW_INVERSE = ("A window was not provided. A rectangular window will be applied.Please "
                      "provide the same window used by stft to make the inversion lossless.To "
                      "suppress this warning and use a rectangular window, explicitly set "
                      "`window=torch.ones(n_fft, device=<device>)`.")
_REAL_OUTPUT = ("stft with return_complex=False is deprecated. In a future pytorch release, stft "
                "will return complex tensors for all inputs, and return_complex=False will raise "
                "an error.\nNote: you can still call torch.view_as_real on the complex output to "
                "recover the old return format.")


def _pad_ends(x, p, mode):
    """``x`` (rows of samples) padded by ``p`` samples at both ends, as ``F.pad``'s modes (a
    gather: differentiable)."""
    n = x.shape[-1]
    at = np.arange(-p, n + p)
    if mode == "constant":
        zeros = const(np.zeros((x.shape[0], p), x.dtype))
        return _ops.cat([zeros, x, zeros], 1)
    if mode == "reflect":
        if p >= n:
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding "
                               f"input dimension, but got: padding ({p}, {p}) at dimension 2 of "
                               f"input {[1, x.shape[0], n]}")  # (PyTorch's 3-D view)
        period = 2 * (n - 1)
        at = np.abs(at) % period if period else np.zeros_like(at)
        at = np.where(at >= n, period - at, at)
    elif mode == "replicate":
        at = np.clip(at, 0, n - 1)
    elif mode == "circular":
        at = at % n
    else:
        raise NotImplementedError(f"stft: pad_mode '{mode}' is not supported (constant, "
                                  "reflect, replicate, circular)")
    return x[:, const(at)]


def _window(name, window, n_fft, hop_length, win_length, dtype, message):
    """``(hop, window padded to n_fft)``, with PyTorch's checks and defaults."""
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    win = n_fft if win_length is None else int(win_length)
    if hop <= 0:
        raise RuntimeError(f"{name}(): expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{name}(): expected 0 < win_length <= n_fft, but got "
                           f"win_length={win}")
    if window is None:
        warnings.warn(message, UserWarning, stacklevel=3)
        window = const(np.ones(win, dtype))
    window = as_tensor(window)
    if window.ndim != 1 or window.shape[0] != win:
        raise RuntimeError(f"{name}(): expected a 1D window tensor of size equal to "
                           f"win_length={win}, but got window with size {list(window.shape)}")
    if win < n_fft:
        left = (n_fft - win) // 2
        window = _ops.cat([const(np.zeros(left, window.dtype)), window,
                           const(np.zeros(n_fft - win - left, window.dtype))])
    return hop, window


def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", normalized=False, onesided=None, return_complex=None):
    """The spectra of ``input``'s (1-D, or 2-D batched) frames of ``n_fft`` samples every
    ``hop_length`` (``n_fft // 4``), windowed (rectangular by default): shape ``(..., freqs,
    frames)``, ``n_fft // 2 + 1`` freqs when ``onesided`` (real input and window's default).
    ``center`` pads ``n_fft // 2`` each side with ``pad_mode``; ``normalized`` scales by
    ``n_fft ** -0.5``. ``return_complex`` must be given for real input (False: the deprecated
    real view)."""
    x = as_tensor(input)
    complex_in = x.dtype.kind == "c" or (window is not None and as_tensor(window).dtype.kind
                                         == "c")
    if return_complex is None:
        if not complex_in:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in "
                               "a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warnings.warn(_REAL_OUTPUT, UserWarning, stacklevel=2)
    if x.ndim not in (1, 2):
        raise RuntimeError("stft(): expected a 1D or 2D tensor")
    real_dtype = np.finfo(x.dtype).dtype if x.dtype.kind in "fc" else \
        _creation.get_default_dtype()
    hop, win = _window("stft", window, n_fft, hop_length, win_length, real_dtype, _NO_WINDOW)
    batched = x.ndim == 2
    x = x if batched else x.reshape(1, -1)
    if center:
        x = _pad_ends(x, n_fft // 2, pad_mode)
    length = x.shape[-1]
    if not 0 < n_fft <= length:
        raise RuntimeError(f"stft(): expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    onesided = not complex_in if onesided is None else onesided
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    frames = x.unfold(-1, n_fft, hop) * win
    norm = "ortho" if normalized else None
    spec = _fft.rfft(frames, dim=-1, norm=norm) if onesided else \
        _fft.fft(frames, dim=-1, norm=norm)
    spec = _ops.transpose(spec, -1, -2)
    spec = spec if batched else spec.reshape(spec.shape[1:])
    return spec if return_complex else shapes.view_as_real(spec)


def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True,
          normalized=False, onesided=None, length=None, return_complex=False):
    """The signal whose ``stft`` (same arguments) is ``input`` (``(..., freqs, frames)``,
    complex): each frame's inverse DFT windowed and overlap-added, divided by the window's
    overlap-added square (which must not vanish); ``length`` trims or zero-pads the result."""
    z = as_tensor(input)
    if z.dtype.kind != "c":
        raise RuntimeError("istft requires a complex-valued input tensor matching the output "
                           "from stft with return_complex=True.")
    if z.ndim not in (2, 3):
        raise RuntimeError(f"istft(): expected a tensor with 2 or 3 dimensions of complex "
                           f"dtype, but got {z.ndim}")
    batched = z.ndim == 3
    z = z if batched else z.reshape((1,) + tuple(z.shape))
    freqs, count = z.shape[-2], z.shape[-1]
    onesided = freqs != n_fft if onesided is None else onesided
    if onesided and freqs != n_fft // 2 + 1:
        raise RuntimeError("istft(): expected the frequency dimension (3rd to the last) of the "
                           "input tensor to match n_fft / 2 + 1 when onesided=True, but got "
                           f"{freqs}")
    if not onesided and freqs != n_fft:
        raise RuntimeError("istft(): expected the frequency dimension (3rd to the last) of the "
                           f"input tensor to match n_fft when onesided=False, but got {freqs}")
    real_dtype = np.finfo(z.dtype).dtype
    hop, win = _window("istft", window, n_fft, hop_length, win_length, real_dtype,
                       _NO_WINDOW_INVERSE)
    spectra = _ops.transpose(z, -1, -2)
    norm = "ortho" if normalized else None
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = _fft.ifft(spectra, n=n_fft, dim=-1, norm=norm)
    else:
        if win.dtype.kind == "c":
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            spectra = spectra[..., :n_fft // 2 + 1]
        frames = _fft.irfft(spectra, n=n_fft, dim=-1, norm=norm)
    frames = frames * win
    total = n_fft + hop * (count - 1)
    where = const((np.arange(count)[:, None] * hop + np.arange(n_fft)).reshape(-1))
    batch = z.shape[0]
    signal = _ops.index_add(const(np.zeros((batch, total), frames.dtype)), 1, where,
                            frames.reshape(batch, count * n_fft))
    envelope = _ops.index_add(const(np.zeros(total, real_dtype)), 0, where,
                              (_ops.abs(win) ** 2).repeat(count))
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else total - n_fft // 2 if center else total
    signal, envelope = signal[:, start:end], envelope[start:end]
    if np.abs(envelope.detach().numpy()).min(initial=math.inf) < 1e-11:
        # (PyTorch's words: the "1" is its check's boolean)
        raise RuntimeError("istft(): window overlap add min: 1")
    signal = signal / envelope
    if end > total:
        signal = _ops.cat([signal, const(np.zeros((batch, end - total), signal.dtype))], 1)
    return signal if batched else signal.reshape(-1)
