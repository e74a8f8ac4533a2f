"""``tapegrad.nn.utils``: gradient clipping and flattening parameters, as ``torch.nn.utils``
(``rnn``: padding and packing sequences; ``parametrize``, ``parametrizations``: tensors of a
module computed from others, ``weight_norm``, ``spectral_norm``).

Example:
    >>> import tapegrad as tg
    >>> w = tg.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()                 # grad (6, 8), norm 10
    >>> tg.nn.utils.clip_grad_norm_([w], 1.0)
    tensor(10.)
    >>> round(float(tg.norm(w.grad)), 5)
    1.0
"""

import math
import warnings

import numpy as np

from ...creation import get_default_dtype
from ...grad_mode import no_grad
from ...tensor import Tensor, _make, bump_version
from . import fusion, parametrizations, parametrize, prune, rnn  # noqa: F401 (tg.nn.utils.<name>)
from .fusion import (fuse_conv_bn_eval, fuse_conv_bn_weights,  # noqa: F401
                     fuse_linear_bn_eval, fuse_linear_bn_weights)
from .weight_norm_hook import remove_weight_norm, weight_norm  # noqa: F401
from .spectral_norm_hook import remove_spectral_norm, spectral_norm  # noqa: F401
from .init import skip_init  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grads_with_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters", "weight_norm", "remove_weight_norm", "spectral_norm",
           "remove_spectral_norm", "skip_init"]


def _params(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _widened(t):
    """``t``'s values in double precision (complex ones stay complex: their norm is of the
    moduli)."""
    a = t._arr()
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64, copy=False)


def _norm_dtype(tensors):
    """The dtype of a total norm: the real dtype the norms' stack promotes to, as PyTorch's."""
    dtype = np.result_type(*(t.dtype for t in tensors))
    return np.empty(0, dtype).real.dtype


def _vector_norm(a, p):
    a = np.abs(a.ravel())
    if p == math.inf:
        return a.max() if a.size else 0.0
    if p == -math.inf:
        return a.min()
    if p == 0:
        return float(np.count_nonzero(a))
    if p == 2:
        return np.sqrt(np.sum(a * a))
    return np.sum(a ** p) ** (1.0 / p)


def _device_vector_norm(t, p):
    """``_vector_norm`` of a CUDA tensor as a 0-d float64 tensor on the device."""
    from ... import ops

    with no_grad():
        a = ops.abs(ops.reshape(t.detach(), (-1,)).to(np.float64))
        if p == math.inf:
            return ops.amax(a) if a.numel() else ops.sum(a)
        if p == -math.inf:
            return ops.amin(a)
        if p == 0:
            return ops.sum((a != 0).to(np.float64))
        if p == 2:
            return ops.sqrt(ops.sum(a * a))
        return ops.sum(a ** p) ** (1.0 / p)


def _device_total_norm(tensors, norm_type):
    """The total norm on the first tensor's device (CUDA): each tensor's norm on its own
    device, the norm of those norms where the first tensor lives, as PyTorch."""
    from ... import ops

    dev = tensors[0].device
    norms = []
    for t in tensors:
        if t.is_cuda:
            norms.append(_device_vector_norm(t, norm_type).to(dev))
        else:
            n = _vector_norm(_widened(t), norm_type)
            norms.append(_make(np.asarray(n, dtype=np.float64)).to(dev))
    with no_grad():
        stacked = ops.stack(norms)
    if not tensors[0].is_cuda:
        return _make(np.asarray(_vector_norm(stacked._arr(), norm_type)))
    return _device_vector_norm(stacked, norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of the norms of ``tensors`` (the norm of their concatenation),
    computed on the first tensor's device (CUDA tensors: there, as PyTorch)."""
    tensors = _params(tensors)
    norm_type = float(norm_type)
    if not tensors:  # PyTorch's torch.tensor(0.0): the default dtype
        return _make(np.asarray(0.0, dtype=get_default_dtype()))
    dtype = _norm_dtype(tensors)
    if (norm_type == math.inf or norm_type < 0) and any(t.numel() == 0 for t in tensors):
        raise RuntimeError(_NO_IDENTITY.format(*(
            ("_foreach_norm", "infinity") if norm_type == math.inf and foreach is not False
            else ("linalg.vector_norm", f"{norm_type:g}"))))
    if any(t.is_cuda for t in tensors):
        total = _device_total_norm(tensors, norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):  # a synchronising read
            raise RuntimeError(_NONFINITE.format(norm_type))
        return total.to(dtype)
    norms = np.array([_vector_norm(_widened(t), norm_type)
                      for t in tensors])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(_NONFINITE.format(norm_type))
    return _make(np.asarray(total, dtype=dtype))


_NO_IDENTITY = ("{} cannot compute the {} norm on an empty tensor because the operation does "
                "not have an identity")
_NONFINITE = ("The total norm of order {} for gradients from `parameters` is non-finite, so it "
              "cannot be clipped. To disable this error and scale the gradients by the "
              "non-finite norm anyway, set `error_if_nonfinite=False`")


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                    foreach=None):
    """Scale gradients in place so their total ``norm_type``-norm is at most ``max_norm``;
    returns the total norm before clipping (PyTorch's ``max_norm / (norm + 1e-6)``, capped at
    1)."""
    params = _params(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    if grads:
        clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False,
                   foreach=None):
    """Deprecated: ``clip_grad_norm_`` (PyTorch's FutureWarning first)."""
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` in place by ``max_norm / (total_norm + 1e-6)``,
    capped at 1 (the second half of ``clip_grad_norm_``, for a norm computed elsewhere)."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm if isinstance(total_norm, Tensor) else _make(np.asarray(total_norm))
    if total.is_cuda:  # the coefficient stays on the device: no synchronising read
        from ... import ops

        with no_grad():
            coef = ops.clamp(float(max_norm) / (total.to(np.float64) + 1e-6), max=1.0)
            for g in grads:
                g.mul_(coef.to(g.device))
        return
    with np.errstate(invalid="ignore"):  # (a non-finite norm scales by NaN, silently)
        coef = min(float(max_norm) / (float(total._data) + 1e-6), 1.0)
        for g in grads:
            if g.is_cuda:
                with no_grad():
                    g.mul_(coef)
                continue
            arr = g._arr()
            if arr.dtype.itemsize < 4:  # (half: scaled in float32 and rounded, as PyTorch's)
                arr[...] = arr.astype(np.float32) * np.float32(coef)
            else:
                arr *= coef
            bump_version(g)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None and p.grad.dtype.kind == "c":  # (NumPy's clip orders complex
            # values lexicographically: PyTorch's clamp refuses them)
            raise NotImplementedError("clamp is not supported for complex types")
        if p.grad is not None and p.grad.is_cuda:
            with no_grad():
                p.grad.clamp_(-clip_value, clip_value)
        elif p.grad is not None:
            arr = p.grad._arr()
            np.clip(arr, -clip_value, clip_value, out=arr)
            bump_version(p.grad)
            if foreach is not False:  # (PyTorch's foreach path: clamp_min_, then clamp_max_)
                bump_version(p.grad)


def parameters_to_vector(parameters):
    """One flat tensor of all parameters (differentiable)."""
    from ... import ops

    return ops.cat([ops.reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Set the data of ``parameters`` to consecutive slices of ``vec``, as PyTorch's
    (``param.data = ...``): they then share ``vec``'s memory, take its dtype and keep their
    version (values a recorded op saved before are kept by the tape)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    if vec.is_cuda or any(p.is_cuda for p in parameters):
        _vector_to_device_parameters(vec, parameters)
        return
    v = np.asarray(vec._data)
    k = 0
    for p in parameters:
        n = p.numel()
        arr = p._arr()
        piece = v[k:k + n]
        if piece.size != n:  # (PyTorch's view_as of a short slice; earlier ones are written)
            raise RuntimeError(f"shape '{list(arr.shape)}' is invalid for input of size "
                               f"{piece.size}")
        p.data = _make(piece.reshape(arr.shape))
        k += n


def _vector_to_device_parameters(vec, parameters):
    k = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.detach().copy_(vec.detach()[k:k + n].reshape(p.shape))
            k += n
