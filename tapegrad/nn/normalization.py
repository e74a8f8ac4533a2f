"""Batch and group normalisation (``F.batch_norm``, ``F.group_norm``, ``F.instance_norm`` and
their modules), written with tapegrad ops.

In training mode ``batch_norm`` normalises with the batch's mean and biased variance over every
dim but the channels (dim 1) and, given running statistics, updates them in place without
history: ``running = (1 - momentum) running + momentum batch`` with the *unbiased* variance
(``momentum=None``: a cumulative average over the batches seen). In eval mode it uses the running
statistics as constants.
"""

import math
import warnings

import numpy as np

from .. import creation
from .. import ops as O
from ..grad_mode import no_grad
from ..ops import batch_norm as _batch_norm
from ..ops import inplace as _inplace
from ..ops.activations import fusable_array
from ..ops.record import as_tensor, compile_tracing
from ..tensor import Tensor, _make, bump_version
from . import init
from .linear import param_dtype
from .module import Module, _size
from .parameter import Parameter

__all__ = ["batch_norm", "group_norm", "instance_norm", "rms_norm"]
_PLAIN = (Tensor, Parameter)


def _channel_view(t, ndim):
    """A per-channel (C,) tensor shaped to broadcast against (N, C, *spatial)."""
    return O.reshape(t, (1, t.numel()) + (1,) * (ndim - 2))


_VMAP_RUNNING_STATS = (
    "Batch norm got a batched tensor as input while the running_mean or running_var, which "
    "will be updated in place, were not batched.\nIf you are using a module and do not need "
    "eval mode, please set `track_running_stats` to be False.If you are using a prebuilt module "
    "and do not need eval mode, please see the functorch website for resources on how to patch "
    "your module to work with vmap")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"Expected 2D or more input (got {x.ndim}D input)")
    dims = (0,) + tuple(range(2, x.ndim))
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != x.shape[1]:  # (PyTorch's check, before any work)
            raise RuntimeError(f"{name} should contain {x.shape[1]} elements not {t.numel()}")
    count = x.numel() // x.shape[1] if x.shape[1] else 0
    if training and count == 1:
        raise ValueError("Expected more than 1 value per channel when training, got input "
                         f"size {_size(x.shape)}")
    level = getattr(input, "_vmap_level", 0)  # (after the size check on one example's shape)
    if training and level and any(t is not None and getattr(t, "_vmap_level", 0) < level
                                  for t in (running_mean, running_var)):
        # (one running statistic for a batch of examples, each updating it: as torch.func)
        raise RuntimeError(_VMAP_RUNNING_STATS)
    _check_momentum(momentum, "batch_norm")
    if count == 0:  # no values: an empty result; running statistics untouched, as PyTorch's
        y = x * 1.0
        if weight is not None:
            y = y * _channel_view(weight, x.ndim)
        if bias is not None:
            y = y + _channel_view(bias, x.ndim)
        return y
    if (training or running_mean is not None and running_var is not None) and \
            not isinstance(momentum, Tensor) and _one_record(
                x, weight, bias, None if training else running_mean,
                None if training else running_var):
        y, mean, sqsum = _batch_norm.batch_norm(
            x, weight, bias, eps, training, None if training else running_mean._data,
            None if training else running_var._data)
        if training:
            _update_running(running_mean, running_var, mean, sqsum, count, momentum, x.dtype)
        return y
    if training:
        mean = O.mean(x, dims, keepdim=True)
        d = x - mean
        var = O.mean(d * d, dims, keepdim=True)
        if running_mean is not None or running_var is not None:
            with no_grad():
                m = 1.0 if momentum is None else momentum
                if running_mean is not None:
                    running_mean.mul_(1.0 - m).add_(O.reshape(mean.detach(), (-1,)) * m)
                if running_var is not None:
                    unbiased = O.reshape(var.detach(), (-1,)) * (count / (count - 1))
                    running_var.mul_(1.0 - m).add_(unbiased * m)
        y = d * (var + eps) ** -0.5
    else:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
        y = (x - _channel_view(running_mean, x.ndim)) * \
            (_channel_view(running_var, x.ndim) + eps) ** -0.5
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    if bias is not None:
        y = y + _channel_view(bias, x.ndim)
    return y


def _check_momentum(momentum, name):
    """PyTorch's argument check: a number (the modules' cumulative average passes one)."""
    if momentum is None:
        raise TypeError(f"{name}(): argument 'momentum' (position 7) must be float, not "
                        "NoneType")


def _one_record(x, *per_channel):
    """Whether ``batch_norm`` takes one record: a plain CPU float32/float64 input and
    per-channel tensors (None, or plain CPU arrays of its dtype and channels, the running
    statistics requiring no gradient)."""
    if not fusable_array(x):
        return False
    c = (x.shape[1],)
    return all(t is None or type(t) in _PLAIN and type(t._data) is np.ndarray and
               t.dtype == x.dtype and tuple(t.shape) == c for t in per_channel) and \
        not any(t is not None and t._rg for t in per_channel[2:])


def _update_running(running_mean, running_var, mean, sqsum, count, momentum, dtype):
    """``(1 - m) running + m batch`` for the mean and the unbiased variance, as PyTorch's."""
    m = 1.0 if momentum is None else momentum
    for running in (running_mean, running_var):
        if _inplace.capture_check is not None and running is not None:
            _inplace.capture_check(running, name="add_")  # (as _count_batch)
    for running, batch in ((running_mean, mean), (running_var, sqsum / (count - 1))):
        if running is None:
            continue
        batch = batch.astype(dtype)
        if type(running) is Tensor and type(running._data) is np.ndarray and \
                running._base is None and running.dtype == dtype and not running._rg:
            r = running._data  # (a buffer: in place, without four recorded-op calls)
            r *= 1.0 - m
            batch *= m
            r += batch
            bump_version(running)
        else:
            with no_grad():
                running.mul_(1.0 - m).add_(_make(batch) * m)


# (tg.compile tracing: updates must then be ops it sees, not writes into arrays, so that its
# replays make them too)
_tracing = compile_tracing


def _count_batch(counter):
    """``num_batches_tracked += 1``: in place on a CPU buffer's array (a recorded in-place op
    under no_grad cost ~6 µs a training step)."""
    if _inplace.capture_check is not None:  # (inside grad/jvp...: a captured buffer raises)
        _inplace.capture_check(counter, name="add_")
    if type(counter) is Tensor and type(counter._data) is np.ndarray and \
            counter._base is None and not _tracing():
        counter._data += 1
        bump_version(counter)
    else:
        with no_grad():
            counter.add_(1)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise each sample's channels in ``num_groups`` groups (and their spatial dims)."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received "
                           f"{x.ndim}")
    N, C = x.shape[0], x.shape[1]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by "
                           f"num_groups, but got input of shape {list(x.shape)} and "
                           f"num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.ndim != 1 or t.numel() != C):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of "
                               f"channels in input, but got {name} of shape {list(t.shape)} and "
                               f"input of shape {list(x.shape)}")
    if x.numel() // max(N * num_groups, 1) > 1 and fusable_array(x):
        # one record on x (NativeGroupNormBackward0): no reshapes recorded around it
        y = _batch_norm.batch_norm(x, None, None, eps, True, groups=num_groups)[0]
    elif x.numel() // max(N * num_groups, 1) > 1:
        # PyTorch's reading: a batch norm of one sample with N * groups channels (its one op)
        y = batch_norm(O.reshape(x, (1, N * num_groups, x.numel() // (N * num_groups))), None,
                       None, None, None, True,
                       0.0, eps)
        y = O.reshape(y, tuple(x.shape))
    else:  # (one value a group: no batch statistics to take; the value is 0)
        g = O.reshape(x, (N, num_groups, C // num_groups * math.prod(x.shape[2:])))
        d = g - O.mean(g, 2, keepdim=True)
        var = O.mean(d * d, 2, keepdim=True)
        y = O.reshape(d * (var + eps) ** -0.5, tuple(x.shape))
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    if bias is not None:
        y = y + _channel_view(bias, x.ndim)
    return y


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalise each sample's channels over their spatial dims. Given running statistics,
    as PyTorch: with ``use_input_stats`` they are updated with the average over the batch of
    each sample's mean and unbiased variance; without, they normalise instead."""
    x = as_tensor(input)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must either both be None or neither be "
                         "None")
    if use_input_stats and int(np.prod(x.shape[2:])) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{_size(x.shape)}")
    _check_momentum(momentum, "instance_norm")
    if use_input_stats and running_mean is None and running_var is None:
        return group_norm(x, x.shape[1], weight, bias, eps)  # (one channel a group)
    n, c = x.shape[0], x.shape[1]
    # PyTorch's own reading: a batch norm of one sample with n * c channels
    tiled = [None if r is None else creation.tensor(np.tile(r.detach()._arr(), n))
             for r in (running_mean, running_var)]
    y = batch_norm(O.reshape(x, (1, n * c) + tuple(x.shape[2:])), *tiled, None, None,
                   use_input_stats, momentum, eps)
    if use_input_stats:
        with no_grad():
            for r, t in zip((running_mean, running_var), tiled):
                if r is not None:
                    r.copy_(O.mean(O.reshape(t, (n, c)), 0))
    y = O.reshape(y, tuple(x.shape))
    if weight is not None:
        y = y * _channel_view(weight, x.ndim)
    if bias is not None:
        y = y + _channel_view(bias, x.ndim)
    return y


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x², last dims) + eps) * weight``; ``eps`` None: the machine epsilon of
    the input's dtype (PyTorch's default)."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    shape = tuple(normalized_shape)
    x = as_tensor(input)
    k = len(shape)
    if k == 0 or x.ndim < k or tuple(x.shape[x.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*{', '.join(str(s) for s in shape)}], but got input of size"
                           f"{list(x.shape)}")
    if eps is None:
        eps = float(np.finfo(x.dtype).eps) if x.dtype.kind == "f" else float(np.finfo(float).eps)
    y = x * (O.mean(x * x, tuple(range(x.ndim - k, x.ndim)), keepdim=True) + eps) ** -0.5
    return y if weight is None else y * weight


def _affine(module, n, affine, dtype, device, bias=True):
    """Per-channel ``weight`` (ones) and ``bias`` (zeros; None unless ``bias``) of ``module``,
    or None for both; returns the parameters' dtype."""
    dt = param_dtype(dtype)
    module.register_parameter("weight", Parameter(creation.ones(n, dtype=dt, device=device))
                              if affine else None)
    module.register_parameter("bias", Parameter(creation.zeros(n, dtype=dt, device=device))
                              if affine and bias else None)
    _written_once(module.weight, module.bias)
    return dt


def _written_once(*tensors):
    """Version 1 for new parameters and buffers, as PyTorch's (its ``reset_parameters`` and
    ``reset_running_stats`` fill them in place); nothing can have saved them yet."""
    for t in tensors:
        if t is not None:
            t._vcounter()[0] = 1


class _NormBase(Module):
    """What batch and instance norms share (PyTorch's base of that name): weight ones, bias
    zeros, running mean 0 and variance 1; the forward is ``BatchNorm*d``'s."""

    _version = 2  # (PyTorch's: num_batches_tracked is part of the state)

    _dims = None  # accepted input ranks

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        dt = _affine(self, num_features, affine, dtype, device, bias)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, dtype=dt,
                                                                device=device))
            self.register_buffer("running_var", creation.ones(num_features, dtype=dt,
                                                              device=device))
            self.register_buffer("num_batches_tracked", creation.tensor(0))
            _written_once(self.running_mean, self.running_var, self.num_batches_tracked)
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input):
        if input.ndim not in self._dims:
            raise ValueError(f"expected {' or '.join(f'{d}D' for d in self._dims)} input (got "
                             f"{input.ndim}D input)")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            _count_batch(self.num_batches_tracked)
            if self.momentum is None:  # a cumulative moving average
                if _tracing():  # (tg.compile: a tensor, so the replay reads the count)
                    momentum = 1.0 / self.num_batches_tracked
                else:
                    momentum = 1.0 / int(self.num_batches_tracked.item())
        # without running statistics the batch's are used in eval mode too (as PyTorch)
        use_batch = self.training or not self.track_running_stats
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch, momentum, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    """PyTorch's ``BatchNorm*d`` (not a base of the instance norms, as in PyTorch)."""


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input."""

    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) input."""

    _dims = (5,)


class GroupNorm(Module):
    """``group_norm`` with per-channel weight (ones) and bias (zeros) when ``affine``."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = (num_groups, num_channels,
                                                                     eps, affine)
        _affine(self, num_channels, affine, dtype, device, bias)

    def forward(self, input):
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class _InstanceNorm(_NormBase):
    """PyTorch's ``InstanceNorm*d``: no affine parameters and no running statistics unless
    asked for; an unbatched input (one dim fewer) is one sample."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input):
        if input.ndim not in (self._dims[0] - 1, self._dims[0]):
            raise ValueError(f"expected {self._dims[0] - 1}D or {self._dims[0]}D input (got "
                             f"{input.ndim}D input)")
        batched = input.ndim == self._dims[0]
        dim = 1 if batched else 0
        if input.shape[dim] != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={dim} to match num_features "
                                 f"({self.num_features}), but got: {input.shape[dim]}.")
            warnings.warn(f"input's size at dim={dim} does not match num_features. You can "
                          "silence this warning by not passing in num_features, which is not "
                          "used because affine=False", stacklevel=2)
        x = input if batched else O.unsqueeze(input, 0)
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y if batched else O.squeeze(y, 0)


class InstanceNorm1d(_InstanceNorm):
    """Over (N, C, L) or (C, L) input."""

    _dims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Over (N, C, H, W) or (C, H, W) input."""

    _dims = (4,)


class InstanceNorm3d(_InstanceNorm):
    """Over (N, C, D, H, W) or (C, D, H, W) input."""

    _dims = (5,)


class RMSNorm(Module):
    """``rms_norm`` over the trailing ``normalized_shape``, with a weight of ones."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            dt = param_dtype(dtype)
            self.weight = Parameter(creation.ones(self.normalized_shape, dtype=dt,
                                                  device=device))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, input):
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
