"""Joining and splitting tensors: cat and stack (one Python op each) and split/chunk/unbind
(views).

``cat`` is a ``kind="python"`` op: its backward slices the output gradient back into one piece
per input (NumPy in the compiled sweep, strided views when re-taping). It saves nothing, so a
second backward through it works. The splits are basic-indexing views of the input.
"""

import numpy as np

from ..device import DeviceArray
from ..promotion import promote_all
from ..tensor import Tensor, _make, _wrap
from . import record as R
from .activations import fusable  # (plain CPU real tensors, outside the tracer)
from .movement import getitem, unsqueeze
from .node_names import name_node
from ..registry import Op, defop
from .shapes import norm_dim

__all__ = ["cat", "concatenate", "concat", "stack", "split", "chunk", "unbind"]


def _pieces(n, dim, sizes):
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return [(dim, int(starts[i]), int(starts[i + 1])) for i in range(n)]


def _cat_vjp_np(g, inputs, out, dim, sizes, shapes):
    g = np.asarray(g)
    grads = []
    for (d, a, b), shape in zip(_pieces(len(sizes), dim, sizes), shapes):
        if len(shape) != g.ndim:  # a legacy empty (0,) input: nothing to route
            grads.append(np.zeros(shape))
            continue
        key = (slice(None),) * d + (slice(a, b),)
        grads.append(g[key])
    return tuple(grads)


def _cat_vjp(g, inputs, out, dim, sizes, shapes):
    grads = []
    for (d, a, b), shape in zip(_pieces(len(sizes), dim, sizes), shapes):
        if len(shape) != g.ndim:
            grads.append(_make(np.zeros(shape)))
            continue
        grads.append(getitem(g, (slice(None),) * d + (slice(a, b),)))
    return tuple(grads)


def _cat_jvp_np(tangents, inputs, out, dim, sizes, shapes):
    """The tangents concatenated (zeros for inputs without one)."""
    k = next(t.shape[0] for t in tangents if t is not None)
    ref = max(shapes, key=len)  # (a legacy empty (0,) input has fewer dims: it adds nothing)
    res = np.zeros((k,) + ref[:dim] + (sum(sizes),) + ref[dim + 1:])
    for (d, a, b), shape, t in zip(_pieces(len(sizes), dim, sizes), shapes, tangents):
        if t is not None and len(shape) == len(ref):
            res[(slice(None),) * (d + 1) + (slice(a, b),)] = t
    return res


defop(Op.CAT, "cat", "python", "CatBackward0", vjp=_cat_vjp, vjp_np=_cat_vjp_np,
      jvp_np=_cat_jvp_np)


def _stack_vjp_np(g, inputs, out, dim, n):
    pre = (slice(None),) * dim
    return tuple(g[pre + (i,)] for i in range(n))  # (views: the sweep adds them where due)


def _stack_vjp(g, inputs, out, dim, n):
    pre = (slice(None),) * dim
    return tuple(getitem(g, pre + (i,)) for i in range(n))


def _stack_jvp_np(tangents, inputs, out, dim, n):
    """The tangents stacked (zeros for inputs without one)."""
    t0 = next(t for t in tangents if t is not None)
    zero = np.zeros(t0.shape)
    return np.stack([zero if t is None else t for t in tangents], axis=dim + 1)


defop(Op.STACK, "stack", "python", "StackBackward0", vjp=_stack_vjp, vjp_np=_stack_vjp_np,
      jvp_np=_stack_jvp_np)


def _tensor_list(tensors, fname):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        f"not {type(tensors).__name__}")
    return [R.as_tensor(t) for t in tensors]


def cat(tensors, dim=0):
    """Concatenate ``tensors`` along an existing ``dim``.

    Example:
        >>> import tapegrad as tg
        >>> tg.cat([tg.zeros(2), tg.ones(1)])
        tensor([0., 0., 1.])
    """
    ts = _tensor_list(tensors, "cat")
    if not ts:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(ts):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    # PyTorch skips legacy empty 1-D tensors of shape (0,) when joining higher-rank tensors
    legacy = [t.shape == (0,) for t in ts]
    ref = next((t for t, e in zip(ts, legacy) if not e), ts[0])
    nd = ref.ndim
    d = norm_dim(dim, nd)
    for i, t in enumerate(ts):
        if legacy[i] and nd != 1:
            continue
        if t.ndim != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and "
                               f"{t.ndim}")
        for k in range(nd):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. "
                                   f"Expected size {ref.shape[k]} but got size {t.shape[k]} "
                                   f"for tensor number {i} in the list.")
    keep = [t for t, e in zip(ts, legacy) if not (e and nd != 1)]
    if any(type(t._data) is DeviceArray for t in ts):
        from .cuda_ops import cat_value

        value = cat_value(keep, d, promote_all([t.dtype for t in ts]))
    else:
        dtype = promote_all([t.dtype for t in ts])  # (PyTorch's: int64 + float32 is float32)
        value = np.concatenate([t._arr() for t in keep], axis=d).astype(dtype, copy=False)
    if not (R._grad_on() and any(t._rg for t in ts)):
        return _make(_wrap(value))
    sizes = tuple(0 if (e and nd != 1) else t.shape[d] for t, e in zip(ts, legacy))
    if value.dtype.kind == "c":  # its rule slices the complex cotangent the same way
        from .complex import record

        return record(value, tuple(ts), "cat", dim=d, sizes=sizes)
    return R.python_result(value, Op.CAT, tuple(ts),
                           params=dict(dim=d, sizes=sizes, shapes=tuple(t.shape for t in ts)))


concatenate = concat = cat


def stack(tensors, dim=0):
    """Join equally shaped ``tensors`` along a new ``dim``.

    Example:
        >>> import tapegrad as tg
        >>> tg.stack([tg.zeros(2), tg.ones(2)]).shape
        (2, 2)
    """
    ts = _tensor_list(tensors, "stack")
    if not ts:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{list(ts[0].shape)} at entry 0 and {list(t.shape)} at entry {i}")
    d = norm_dim(dim, ts[0].ndim + 1)
    if all([fusable(t) for t in ts]):  # one record, as PyTorch's StackBackward0
        value = np.stack([t._data for t in ts], axis=d)
        if value.dtype is not ts[0].dtype:  # (mixed dtypes: PyTorch's promotion, not NumPy's)
            value = value.astype(promote_all([t.dtype for t in ts]), copy=False)
        if not (R._grad_on() and any(t._rg for t in ts)):
            return _make(value)
        return R.python_result(value, Op.STACK, tuple(ts), params=dict(dim=d, n=len(ts)))
    return cat([unsqueeze(t, d) for t in ts], d)


def _slices(x, d, bounds, name="Split"):
    pre = (slice(None),) * d
    return _multi_views(tuple(getitem(x, pre + (slice(a, b),)) for a, b in bounds), name)


def _multi_views(views, name):
    """Mark the outputs of a function that returns several views (PyTorch forbids modifying
    them in place, ops/inplace.check_inplace), each named as PyTorch's one node of them (here
    a node each, of that name)."""
    for i, v in enumerate(views):
        if v._base is not None and v._multi is None:  # (made under no_grad: that error)
            v._multi = (name, i)
            name_node(v, f"{name}Backward0")
    return views


def _split_size(split_size_or_sections, split_size):
    if split_size is None:
        raise TypeError("split() missing 1 required positional argument: 'split_size'")
    if split_size_or_sections is not None:
        raise TypeError("split() got multiple values for argument 'split_size'")
    return split_size


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Split into views along ``dim``: pieces of one size (the last may be smaller) or of the
    listed sizes (``split_size=``: the name ``Tensor.split`` gives it).

    Example:
        >>> import tapegrad as tg
        >>> [p.shape for p in tg.split(tg.zeros(5), 2)]
        [(2,), (2,), (1,)]
    """
    if split_size is not None or split_size_or_sections is None:
        split_size_or_sections = _split_size(split_size_or_sections, split_size)
    x = R.as_tensor(tensor)
    if x.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = norm_dim(dim, x.ndim)
    n = x.shape[d]
    s = split_size_or_sections
    if isinstance(s, (int, np.integer)):
        s = int(s)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n != 0:
            raise RuntimeError("split_size can only be 0 if dimension size is 0, but got "
                               f"dimension size of {n}")
        if n == 0:
            return (x,) if s == 0 else _slices(x, d, [(0, 0)])
        return _slices(x, d, [(a, min(a + s, n)) for a in range(0, n, s)])
    sizes = [int(v) for v in s]
    if sum(sizes) != n or any(v < 0 for v in sizes):
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input "
                           f"tensor's size at dimension {d}), but got split_sizes={sizes}")
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    return _slices(x, d, [(int(starts[i]), int(starts[i + 1])) for i in range(len(sizes))],
                   "SplitWithSizes")


def chunk(input, chunks, dim=0):
    """Split into ``chunks`` views of ``ceil(n / chunks)`` elements (fewer if they run out)."""
    x = R.as_tensor(input)
    chunks = int(chunks)
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = norm_dim(dim, x.ndim)
    n = x.shape[d]
    if n == 0:
        return _slices(x, d, [(0, 0)] * chunks)
    return split(x, -(-n // chunks), d)


def unbind(input, dim=0):
    """The slices along ``dim``, without that dimension (views).

    Example:
        >>> import tapegrad as tg
        >>> len(tg.unbind(tg.zeros(3, 2), 1))
        2
    """
    x = R.as_tensor(input)
    if x.ndim == 0:
        norm_dim(dim, 0)  # (dims 0 and -1 pass, to PyTorch's error below)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = norm_dim(dim, x.ndim)
    pre = (slice(None),) * d
    return _multi_views(tuple(getitem(x, pre + (i,)) for i in range(x.shape[d])), "Unbind")
