"""``zeros_like``/``ones_like``/``empty_like``/``full_like`` of a batched tensor and its
``new_zeros``/``new_ones``/``new_empty``/``new_full`` methods return batched tensors, as
torch.func's batching rules do: each example gets a tensor of its own, so that writing an
example's values into it in place (``y = zeros_like(v); y[0] = v[0]``) works instead of
being refused as an in-place write of batched values into a tensor vmap does not map over."""

import numpy as np

from .. import creation
from ..tensor import Tensor
from .batched import BatchedTensor


def _batched_like(r, template):
    """``r`` (a fresh constant tensor of one example's shape) repeated along every vmap level
    ``template`` is batched at, as a batched tensor of those levels."""
    levels = []  # (level, batch size), innermost first
    t = template
    while type(t) is BatchedTensor:
        levels.append((t._vmap_level, t._phys.shape[0]))
        t = t._phys
    if not levels or not isinstance(r, Tensor):
        return r
    sizes = tuple(n for _, n in reversed(levels))
    out = creation.tensor(np.broadcast_to(r.numpy(), sizes + tuple(r.shape)).copy(),
                          device=r.device, requires_grad=r.requires_grad)
    for level, _ in reversed(levels):
        out = BatchedTensor(out, level)
    return out


def batch_aware(fn):
    """``fn(template, ...)`` batched as ``template`` (the function's first argument)."""
    def batched(*args, **kwargs):
        # (the template positional, or PyTorch's keyword: zeros_like(input=x))
        template = args[0] if args else kwargs.get("input", kwargs.get("self"))
        r = fn(*args, **kwargs)
        return _batched_like(r, template) if type(template) is BatchedTensor else r

    batched.__name__ = getattr(fn, "__name__", "fn")
    batched.__doc__ = fn.__doc__
    batched.__wrapped__ = batched.raw = fn  # (raw: tg.compile's tracer names the op under it)
    return batched


def install(top):
    """Make the ``*_like`` functions (in ``creation`` and the package ``top``) and the
    ``new_*`` methods of batched tensors batch-aware."""
    for name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        f = batch_aware(getattr(creation, name))
        setattr(creation, name, f)
        setattr(top, name, f)
    for name in ("new_zeros", "new_ones", "new_empty", "new_full"):
        setattr(BatchedTensor, name, batch_aware(getattr(Tensor, name)))
