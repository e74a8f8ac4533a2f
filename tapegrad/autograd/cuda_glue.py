"""What the backward driver needs to move adjoints between CPU and CUDA segments and leaves.

Adjoints of a device segment stay on the device (flat float64 device arrays); where one is
handed to a CPU segment or leaf (the VJP of ``.to("cuda")``) it is copied to the host, and a
CPU adjoint handed to a device segment or leaf (the VJP of ``.cpu()``) is copied to the
device. Hooks and custom Functions on a device segment run on the host: ``HostView`` gives
them host copies of the adjoints and copies what they change back.
"""

import numpy as np

from ..device import DeviceArray, to_device
from ..tensor import _make


def is_device(g):
    return hasattr(g, "copy_to_host") or type(g) is DeviceArray


def _kernels():
    from ..engine.cuda import kernels

    return kernels


def device_copy(g):
    """A fresh flat float64 device array holding ``g`` (host or device)."""
    from ..engine.cuda.sweep import device_grad

    K = _kernels()
    src = device_grad(g)
    out = K.empty(src.size)
    K.launch("cast", src.size, src.size, src, out)
    return out


def host_copy(g):
    if type(g) is DeviceArray:
        return g.host().reshape(-1).astype(np.float64)
    if hasattr(g, "copy_to_host"):
        return np.asarray(g.copy_to_host(), np.float64).reshape(-1)
    return np.array(g, np.float64).reshape(-1)


def moved(g, on_device):
    """A private copy of adjoint ``g`` where its target lives."""
    return device_copy(g) if on_device else host_copy(g)


def add(total, g):
    """``total + g`` for leaf totals (device arrays when the leaf is on the device)."""
    if not is_device(total):
        return total + (host_copy(g) if is_device(g) else g)
    K = _kernels()
    g = device_copy(g)
    K.launch("add_into", g.size, g.size, total, g)
    return g


def shaped(total, t):
    """A flat gradient as a CUDA tensor of ``t``'s shape and dtype."""
    K = _kernels()
    src = device_copy(total) if not is_device(total) else total
    if type(src) is DeviceArray:
        src = src.flat()
    out = K.empty(src.size, t.dtype)
    K.launch("cast", src.size, src.size, src, out)
    return _make(DeviceArray(out, t.shape))


def accumulate_into(old, g):
    """old.grad += g on the device (in place, as on the CPU)."""
    K = _kernels()
    src = device_copy(g._data)
    tmp = K.empty(src.size, old._data.dtype)
    K.launch("cast", src.size, src.size, src, tmp)
    K.launch("add_into", src.size, src.size, tmp, old._data.flat())


def owned_copy(g):
    """A CUDA tensor with its own storage (``.grad`` never aliases the arena or a hook's)."""
    d = g._data
    K = _kernels()
    out = K.empty(d.size, d.dtype)
    K.launch("cast", d.size, d.size, d.flat(), out)
    return _make(DeviceArray(out, d.shape))


class HostView:
    """A device sweep as the host sees it during a pause (hooks, custom Functions): adjoints
    as NumPy copies; writes to them and ``accumulate`` go back to the device. Hooks and
    ``backward`` receive them as CUDA tensors (``on_device``), as in PyTorch."""

    on_device = True

    def __init__(self, sweep):
        self._sw = sweep
        self.seg = sweep.seg
        self.recs = sweep.recs
        self.reached = sweep.reached
        self._copies = {}

    def grad_of(self, r):
        c = self._copies.get(r)
        if c is None:
            c = self._copies[r] = np.asarray(self._sw.grad_of(r).copy_to_host(), np.float64)
        return c

    def accumulate(self, slots, grads):
        self._sw.accumulate(slots, [None if g is None else
                                    (g if is_device(g) else np.asarray(g, np.float64))
                                    for g in grads])

    def write_back(self):
        K = _kernels()
        for r, c in self._copies.items():
            dst = self._sw.grad_of(r)
            src = to_device(c)
            K.launch("cast", dst.size, dst.size, src.flat(), dst)
