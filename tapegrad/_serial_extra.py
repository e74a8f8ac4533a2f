"""The values ``tg.save`` writes besides tensors, numbers, strings and containers: complex
numbers, bytes, sets, slices, dtypes, devices and ``tg.Size`` (what PyTorch's weights-only
loading also accepts), as JSON nodes that rebuild them without running code."""

import numpy as np

from .device import device
from .size import Size

EXTRA_NODES = ("complex", "bytes", "set", "frozenset", "slice", "dtype", "device", "size")


def is_extra(obj):
    t = type(obj)
    return t in (complex, bytes, set, frozenset, slice, device, Size) or isinstance(obj, np.dtype)


def extra_node(writer, obj):
    t = type(obj)
    if t is complex:
        return {"t": "complex", "v": [obj.real, obj.imag]}
    if t is bytes:
        return {"t": "bytes", "a": writer._array(np.frombuffer(obj, np.uint8).copy())}
    if t in (set, frozenset):
        return {"t": t.__name__, "v": [writer.node(v) for v in obj]}
    if t is slice:
        return {"t": "slice", "v": [writer.node(v) for v in (obj.start, obj.stop, obj.step)]}
    if t is device:
        return {"t": "device", "v": str(obj)}
    if t is Size:
        return {"t": "size", "v": [int(v) for v in obj]}
    if obj.hasobject or obj.kind not in "biufc":
        raise TypeError(f"tg.save: cannot save the dtype {obj} safely")
    return {"t": "dtype", "v": obj.name}


def _bad(why):
    return RuntimeError(f"tg.load: not a valid tapegrad save file: {why}")


def extra_value(reader, n):
    t, v = n["t"], n.get("v")
    if t == "bytes":
        a = reader._array(n, "uint8")
        if a.ndim != 1:
            raise _bad("malformed bytes node")
        return a.tobytes()
    if t == "complex":
        if not (isinstance(v, list) and len(v) == 2 and
                all(type(x) in (int, float) for x in v)):
            raise _bad("malformed complex node")
        return complex(v[0], v[1])
    if t in ("set", "frozenset", "slice"):
        if not isinstance(v, list) or (t == "slice" and len(v) != 3):
            raise _bad(f"malformed {t} node")
        items = [reader.node(x) for x in v]
        if t == "slice":
            return slice(*items)
        try:
            return set(items) if t == "set" else frozenset(items)
        except TypeError:
            raise _bad(f"unhashable {t} item") from None
    if t == "size":
        if not (isinstance(v, list) and all(type(x) is int for x in v)):
            raise _bad("malformed size node")
        return Size(v)
    if not isinstance(v, str):
        raise _bad(f"malformed {t} node")
    if t == "device":
        try:
            return device(v)
        except (RuntimeError, ValueError, TypeError):
            raise _bad(f"unknown device {v!r}") from None
    try:
        dt = np.dtype(v)
    except TypeError:
        raise _bad(f"unknown dtype {v!r}") from None
    if dt.hasobject or dt.kind not in "biufc" or dt.name != v:
        raise _bad(f"unknown dtype {v!r}")
    return dt
