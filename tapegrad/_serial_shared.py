"""Memory shared between saved tensors, kept by ``tg.save`` / ``tg.load`` as by PyTorch's: a
tensor saved twice, or a tensor and its views, load as views of one buffer (a change through
one shows through the others). A buffer only one saved tensor uses is written as that tensor's
own compact copy (a saved slice does not bring its whole base along)."""

import numpy as np


def root_of(a):
    """The array owning ``a``'s memory (``a`` itself if it owns it)."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def finish(writer, pending):
    """Fill in the array entries of the tensor nodes in ``pending`` ([(node, array)]): one
    entry per buffer used by two or more of them (each node then records its byte offset and
    strides into it), else a copy of each tensor's own values."""
    groups = {}
    for node, a in pending:
        groups.setdefault(id(root_of(a)), []).append((node, a))
    for entries in groups.values():
        root = root_of(entries[0][1])
        shared = len(entries) > 1 and (root.flags.c_contiguous or root.flags.f_contiguous)
        if not shared:
            for node, a in entries:
                node["a"] = writer._array(np.array(a, copy=True))
            continue
        raw = root.ravel(order="K").view(np.uint8)  # (its memory, byte by byte, as it lies)
        lo = root.__array_interface__["data"][0]  # (contiguous: its lowest address)
        index = writer._array(np.array(raw, copy=True))
        for node, a in entries:
            node["buffer"] = index
            node["offset"] = a.__array_interface__["data"][0] - lo
            node["strides"] = list(a.strides)


def shared_array(reader, node, cache):
    """The array of a tensor node that views a shared buffer (one loaded array per buffer)."""
    index = node.get("buffer")
    if index not in cache:
        cache[index] = reader._array({"a": index}, "uint8")
    buf = cache[index]
    dtype, shape, strides, offset = node.get("dtype"), node.get("shape"), node.get("strides"), \
        node.get("offset")
    if not (isinstance(shape, list) and isinstance(strides, list) and len(shape) == len(strides)
            and all(type(v) is int for v in shape + strides) and type(offset) is int
            and buf.ndim == 1):
        raise reader.bad("malformed shared tensor node")
    try:
        dt = np.dtype(dtype)
        if dt.hasobject or dt.name != dtype:
            raise TypeError
        a = np.ndarray(tuple(shape), dt, buffer=buf, offset=offset, strides=tuple(strides))
    except (TypeError, ValueError):
        raise reader.bad("shared tensor outside its buffer") from None
    return guard_expanded(a)


def guard_expanded(a):
    """``a``, read-only where it is expanded (a stride 0 over two or more elements), as
    ``expand``'s views are: an in-place write to it then raises PyTorch's internal-overlap
    error, while writes through the tensors it shares memory with still show in it."""
    if any(st == 0 and n > 1 for n, st in zip(a.shape, a.strides)):
        a.flags.writeable = False
    return a
