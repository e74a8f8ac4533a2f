"""``x[key]`` and ``x[key] = value`` inside ``vmap`` where the key holds integer index tensors
batched by this vmap (``xi[ii]`` per example, ``xi[:, ii]``, ``xi[ii, :, jj] = v``): one
indexing of the physical tensor instead of a loop over the examples.

The batched index arrays take the batch dim in front of the examples' broadcast index shape
``s``; a batched ``x`` is indexed by ``arange(size)`` first, so that example ``k`` reads its
own slice. Integers are selected first, as PyTorch does (a batched 0-d index is one integer
per example). The result dims are then moved to where indexing one example puts them (``s``
in the place of adjacent index arrays, else in front), behind the batch dim. Keys with
``None``, masks or non-integer arrays, and indices out of range, run once per example."""

import numpy as np

from ..ops import movement as _M
from ..tensor import Tensor, _make
from .batched import BatchedTensor, _call, _reshape, _unwrap


def _is_array(k):
    return isinstance(k, (Tensor, np.ndarray, list))


def _index_ndim(level, k):
    """(ndim of one example's index array, whether it is batched here), or None for an item
    this rule does not take (a mask, uint8 too, which PyTorch reads as one; a float array)."""
    if isinstance(k, list):
        k = np.asarray(k)
    kind = k.dtype.kind if isinstance(k, np.ndarray) else getattr(k.dtype, "kind", None)
    if kind != "i":
        return None
    p, b = _unwrap(level, k)
    return (len(p.shape) - 1, True) if b else (len(k.shape), False)


def _expand_ellipsis(items, nd):
    if sum(k is Ellipsis for k in items) != 1:
        return items
    i = [k is Ellipsis for k in items].index(True)  # (not ==: a tensor compares elementwise)
    rest = nd - (len(items) - 1)
    return None if rest < 0 else items[:i] + (slice(None),) * rest + items[i + 1:]


def _front(kinds):
    """Slices in front of the index arrays' dims: NumPy's rule on the kinds ('s' a slice, 'a'
    an array) once integers are selected (PyTorch selects with them first)."""
    pos = [i for i, k in enumerate(kinds) if k == "a"]
    if not pos or pos != list(range(pos[0], pos[-1] + 1)):
        return 0
    return pos[0]


def _plan(level, p, xb, key):
    """How indexing ``p`` (physical, batched at ``level`` when ``xb``) by ``key`` runs on the
    batch: ``(key, order, size, target)`` with the physical key, the permutation taking the
    physical result's dims to the batched result's, the batch size and the batched result's
    shape; None where the loop must run."""
    if getattr(p, "device", None) is not None and p.device.type != "cpu":
        return None
    dims = tuple(p.shape[1:] if xb else p.shape)  # (one example's)
    items = key if isinstance(key, tuple) else (key,)
    items = _expand_ellipsis(items, len(dims))
    if items is None or len(items) > len(dims):
        return None
    size, shapes, sizes = None, [], []
    example, physical = [], ["a"] if xb else []  # (a batched x is indexed by arange first)
    for k, n in zip(items, dims):
        if isinstance(k, slice):
            example.append("s")
            physical.append("s")
            sizes.append(len(range(*k.indices(n))))
        elif isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
            pass  # (selected first, in both)
        elif _is_array(k) and _index_ndim(level, k) is not None:
            knd, kb = _index_ndim(level, k)
            q = _unwrap(level, k)[0] if kb else k
            shape = tuple(np.shape(q) if isinstance(q, list) else q.shape)[kb:]
            if kb:
                size = q.shape[0]
                physical.append("a")
                example.extend("a" if knd else ())
                shapes.append(shape)
            elif knd:
                physical.append("a")
                example.append("a")
                shapes.append(shape)
        else:
            return None  # (None, masks, float arrays: the loop)
    if size is None:
        return None
    s = np.broadcast_shapes(*shapes)
    bnd, new = len(s), []
    for k in items:
        if _is_array(k) and _unwrap(level, k)[1]:
            q = _unwrap(level, k)[0]
            k = _reshape(q, (size,) + (1,) * (bnd + 1 - len(q.shape)) + tuple(q.shape[1:]))
        new.append(k)
    if xb:
        new.insert(0, _make(np.arange(size).reshape((size,) + (1,) * bnd)))
    sizes += dims[len(items):]
    pb, qb = _front(physical), _front(example)
    at = [j if j < pb else j + 1 + bnd for j in range(len(sizes))]
    order = [pb] + at[:qb] + list(range(pb + 1, pb + 1 + bnd)) + at[qb:]
    return tuple(new), order, size, (size,) + tuple(sizes[:qb]) + s + tuple(sizes[qb:])


def batched_key(level, x, key):
    """``x[key]`` for a key batched at ``level``, or NotImplemented (then the loop runs)."""
    p, xb = _unwrap(level, x)
    plan = _plan(level, p, xb, key)
    if plan is None:
        return NotImplemented
    new, order = plan[:2]
    try:
        out = _call("getitem", _M.getitem, p, new)
    except (IndexError, ValueError):
        return NotImplemented  # (out of range, shapes that do not broadcast: each example's)
    if order != list(range(len(order))):
        out = _call("permute", _M.permute, out, dims=tuple(order))
    return BatchedTensor(out, level)


def batched_set(level, p, key, value):
    """``x[key] = value`` for ``x`` batched at ``level`` (physical ``p``) and a key batched
    there: the value, broadcast to the batched result's shape, written through the physical
    key. False where the loop must run."""
    from ..ops.record import as_tensor

    plan = _plan(level, p, True, key)
    if plan is None:
        return False
    new, order, size, target = plan
    v, vb = _unwrap(level, value)
    v = as_tensor(v) if not isinstance(v, Tensor) else v
    vshape = tuple(v.shape[1:] if vb else v.shape)
    if len(vshape) > len(target) - 1:
        return False
    lead = (size,) if vb else (1,)
    v = _reshape(v, lead + (1,) * (len(target) - 1 - len(vshape)) + vshape)
    try:
        v = _call("expand", _M.expand, v, target)
        back = [order.index(i) for i in range(len(order))]  # (batched layout -> physical)
        if back != list(range(len(back))):
            v = _call("permute", _M.permute, v, dims=tuple(back))
        p[new] = v
    except (IndexError, RuntimeError, ValueError):
        return False
    return True
