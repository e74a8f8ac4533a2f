"""``tg.save`` / ``tg.load``: tensors and nested containers of them, without pickle.

The file is a zip archive (stored, not compressed) with two kinds of entries:

* ``structure.json``: the object tree, every node tagged (``tensor``, ``ndarray``, ``dict``,
  ``odict``, ``list``, ``tuple``, ``int``, ..., and sets, bytes, complex numbers, slices,
  dtypes, devices and Sizes: ``_serial_extra``); dict keys are nodes too, so an optimizer's
  integer-keyed state survives;
* ``data/<n>.npy``: one array per tensor / ndarray / NumPy scalar, written by ``np.save`` with
  ``allow_pickle=False``.

Loading parses JSON and ``.npy`` files only (``np.load(allow_pickle=False)``), so a file can
never run code: it is safe by default, as ``torch.load(weights_only=True)``. ``tg.load`` also
reads files ``torch.save`` wrote (state dicts, tensors, optimizer states), through an unpickler
that knows only tensors, parameters, containers and those plain values and refuses anything
else. Objects of any other type are refused when saving. Memory shared between saved tensors
stays shared (``_serial_shared``), and a tensor saved twice (tied weights) loads as one object
(a ``tref`` node names the earlier one); not kept: ``.grad``, the autograd history (a loaded tensor is
a leaf).
"""

import io
import json
import os
import zipfile
from collections import Counter, OrderedDict

import numpy as np

from ._serial_extra import EXTRA_NODES as _EXTRA_NODES
from . import _serial_shared
from ._serial_device import placer
from ._serial_extra import extra_node as _extra_node
from ._serial_extra import extra_value as _extra_value
from ._serial_extra import is_extra as _is_extra
from .tensor import Tensor

_FORMAT = "tapegrad-save"
_VERSION = 1
_STRUCT = "structure.json"


def _unsupported(obj):
    return TypeError(f"tg.save: cannot save objects of type {type(obj).__module__}."
                     f"{type(obj).__qualname__} safely (supported: tensors, NumPy arrays and "
                     "scalars, int, float, complex, bool, str, bytes, None, slices, dtypes, "
                     "devices, Sizes, and dicts, OrderedDicts, Counters, lists, tuples and sets of "
                     "them)")


_DICT_NODES = {dict: "dict", OrderedDict: "odict", Counter: "counter"}
_DICT_TYPES = {name: t for t, name in _DICT_NODES.items()}


class _Writer:
    def __init__(self):
        self.arrays = []
        self.tensors = []
        self._active = set()
        self._saved = {}  # id(tensor) -> its index in self.tensors

    def _array(self, a):
        if a.dtype.hasobject or a.dtype.kind == "V":
            raise TypeError(f"tg.save: cannot save arrays of dtype {a.dtype} safely")
        self.arrays.append(np.ascontiguousarray(a) if a.ndim else a)
        return len(self.arrays) - 1

    def node(self, obj):
        t = type(obj)
        if obj is None:
            return {"t": "none"}
        if t is bool:
            return {"t": "bool", "v": obj}
        if t is int:
            return {"t": "int", "v": obj}
        if t is float:
            return {"t": "float", "v": obj}
        if t is str:
            return {"t": "str", "v": obj}
        if _is_extra(obj):
            return _extra_node(self, obj)
        if isinstance(obj, Tensor):
            from .nn.parameter import Parameter

            if t is not Tensor and t is not Parameter:
                raise _unsupported(obj)
            seen = self._saved.get(id(obj))
            if seen is not None:  # the same tensor again (tied weights): one object on loading
                return {"t": "tref", "i": seen}
            self._saved[id(obj)] = len(self.tensors)
            arr = obj.detach().cpu()._arr()
            if arr.dtype.hasobject or arr.dtype.kind == "V":
                raise TypeError(f"tg.save: cannot save arrays of dtype {arr.dtype} safely")
            node = {"t": "tensor", "dtype": str(arr.dtype), "shape": list(arr.shape),
                    "requires_grad": bool(obj.requires_grad), "parameter": t is Parameter}
            if obj.device.type != "cpu":  # (where tg.load puts it back; absent: the CPU)
                node["device"] = str(obj.device)
            self.tensors.append((node, arr))  # (its array entry: _serial_shared.finish)
            return node
        if t is np.ndarray:
            return {"t": "ndarray", "a": self._array(obj), "dtype": str(obj.dtype),
                    "shape": list(obj.shape)}
        if isinstance(obj, np.generic) and t.__module__ == "numpy":
            return {"t": "npscalar", "a": self._array(np.asarray(obj)), "dtype": str(obj.dtype)}
        if t in (dict, OrderedDict, Counter, list, tuple):
            if id(obj) in self._active:
                raise ValueError("tg.save: cannot save a self-referencing container")
            self._active.add(id(obj))
            try:
                if t in (list, tuple):
                    return {"t": t.__name__, "v": [self.node(v) for v in obj]}
                return {"t": _DICT_NODES[t],
                        "items": [[self.node(k), self.node(v)] for k, v in obj.items()]}
            finally:
                self._active.discard(id(obj))
        raise _unsupported(obj)


def save(obj, f):
    """Save ``obj`` (a tensor, or dicts/lists/tuples of tensors, arrays, numbers, strings, None)
    to ``f``: a path or a writable binary file object."""
    w = _Writer()
    tree = {"format": _FORMAT, "version": _VERSION, "root": w.node(obj)}
    _serial_shared.finish(w, w.tensors)
    text = json.dumps(tree, allow_nan=True)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            _write_zip(fh, text, w.arrays)
    else:
        _write_zip(f, text, w.arrays)


def _write_zip(fh, text, arrays):
    with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr(_STRUCT, text)
        for i, a in enumerate(arrays):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(f"data/{i}.npy", buf.getvalue())


class _Reader:
    def __init__(self, z, place):
        self.z = z
        self.place = place
        self.names = set(z.namelist())
        self.buffers = {}
        self.loaded = []  # the tensors read so far, in order
        self.bad = _bad

    def _array(self, node, dtype=None):
        i = node.get("a")
        if type(i) is not int or f"data/{i}.npy" not in self.names:
            raise _bad(f"missing array entry {i!r}")
        with self.z.open(f"data/{i}.npy") as fh:
            try:
                a = np.load(io.BytesIO(fh.read()), allow_pickle=False)
            except ValueError as e:
                raise _bad(f"array entry {i} is not a plain array ({e})") from None
        if not isinstance(a, np.ndarray) or a.dtype.hasobject:
            raise _bad(f"array entry {i} is not a plain array")
        if dtype is not None and str(a.dtype) != dtype:
            raise _bad(f"array entry {i} has dtype {a.dtype}, expected {dtype}")
        if "shape" in node and list(a.shape) != node["shape"]:
            raise _bad(f"array entry {i} has shape {list(a.shape)}, expected {node['shape']}")
        return a

    def _tensor(self, n):
        from .creation import from_numpy

        if "buffer" in n:
            a = _serial_shared.shared_array(self, n, self.buffers)
        else:
            a = self._array(n, n.get("dtype"))
        location = n.get("device", "cpu")
        if type(location) is not str:
            raise _bad("malformed tensor device")
        x = self.place(from_numpy(a), location)
        if n.get("parameter"):
            from .nn.parameter import Parameter

            return Parameter(x, requires_grad=bool(n.get("requires_grad")))
        if n.get("requires_grad"):
            x.requires_grad_(True)
        return x

    def node(self, n):
        if not isinstance(n, dict) or not isinstance(n.get("t"), str):
            raise _bad("malformed node")
        t = n["t"]
        if t == "none":
            return None
        if t in ("bool", "int", "float", "str"):
            v = n.get("v")
            want = {"bool": bool, "int": int, "float": float, "str": str}[t]
            if t == "float" and type(v) is int:
                v = float(v)
            if type(v) is not want:
                raise _bad(f"malformed {t} node")
            return v
        if t in _EXTRA_NODES:
            return _extra_value(self, n)
        if t == "tref":
            i = n.get("i")
            if type(i) is not int or not 0 <= i < len(self.loaded):
                raise _bad("malformed tref node")
            return self.loaded[i]
        if t == "tensor":
            x = self._tensor(n)
            self.loaded.append(x)  # (in the order tg.save met them: what tref nodes count)
            return x
        if t == "ndarray":
            return self._array(n, n.get("dtype"))
        if t == "npscalar":
            a = self._array(n, n.get("dtype"))
            if a.ndim:
                raise _bad("malformed NumPy scalar")
            return a[()]
        if t in ("list", "tuple"):
            v = n.get("v")
            if not isinstance(v, list):
                raise _bad(f"malformed {t} node")
            items = [self.node(x) for x in v]
            return items if t == "list" else tuple(items)
        if t in _DICT_TYPES:
            items = n.get("items")
            if not isinstance(items, list) or not all(
                    isinstance(p, list) and len(p) == 2 for p in items):
                raise _bad(f"malformed {t} node")
            out = _DICT_TYPES[t]()
            for k, v in items:
                key = self.node(k)
                try:
                    hash(key)
                except TypeError:
                    raise _bad("unhashable dict key") from None
                out[key] = self.node(v)
            return out
        raise _bad(f"unknown node type {t!r}")


def _bad(why):
    return RuntimeError(f"tg.load: not a valid tapegrad save file: {why}")


def load(f, map_location=None, weights_only=True, **kwargs):
    """Load what :func:`save` wrote to ``f`` (a path or a readable binary file object).

    Only JSON and plain ``.npy`` data is read (no pickle), whatever ``weights_only`` says:
    loading an untrusted file cannot run code. Tensors load on the device they were saved
    from, or where ``map_location`` sends them, as in ``torch.load``: a device or its string
    ("cpu", "cuda") for all, a dict mapping saved locations to devices (``{'cuda:0': 'cpu'}``),
    or a callable ``(storage, location)`` given each tensor read on the CPU, whose result is
    kept (``lambda s, loc: s``: the CPU) and whose None restores the saved location.
    """
    place = placer(map_location)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return _load_open(fh, place)
    return _load_open(f, place)


def _refuse_non_zip(fh):
    """Refuse, as ``torch.load`` refuses, what does not start a zip archive: an empty file with
    EOFError, other bytes with pickle.UnpicklingError (torch reads them as a legacy pickle)."""
    import pickle

    start = fh.tell()
    head = fh.read(4)
    fh.seek(start)
    if not head:
        raise EOFError("Ran out of input")
    if head != b"PK\x03\x04":
        raise pickle.UnpicklingError(
            f"invalid load key, {head[:1].decode('latin-1')!r}: not a file written by tg.save "
            "or torch.save (torch.save's legacy pickle format is not read either)")


def _load_open(fh, place):
    _refuse_non_zip(fh)
    try:  # a broken or truncated archive (its directory, or an entry: bad CRC, cut-off data)
        with zipfile.ZipFile(fh, "r") as z:
            return _load_zip(z, place)
    except zipfile.BadZipFile as e:
        raise RuntimeError(f"tg.load: failed reading zip archive: {e} (a truncated or "
                           "damaged file)") from None


def _load_zip(z, place):
    if _STRUCT not in z.namelist():
        pkl = [n for n in z.namelist() if n.endswith("data.pkl")]
        if pkl:  # a file torch.save wrote
            return _load_torch(z, pkl[0][:-len("data.pkl")], place)
        raise _bad(f"no {_STRUCT}")
    try:
        tree = json.loads(z.read(_STRUCT).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad(f"{_STRUCT} is not JSON") from None
    if not isinstance(tree, dict) or tree.get("format") != _FORMAT:
        raise _bad("unknown format")
    if tree.get("version") != _VERSION:
        raise _bad(f"unsupported version {tree.get('version')!r}")
    return _Reader(z, place).node(tree.get("root"))


# ---- files written by torch.save (its zip format), read without torch and without running code

_TORCH_STORAGES = {  # torch's storage classes -> NumPy dtypes
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
    "ComplexDoubleStorage": np.complex128, "ComplexFloatStorage": np.complex64,
}


class _TorchStorage:
    def __init__(self, dtype, data, location="cpu"):
        self.dtype, self.data, self.location = dtype, data, location


def _rebuild_tensor(storage, offset, size, stride, requires_grad=False, hooks=None,
                    metadata=None):
    from .creation import from_numpy

    _check_extent(storage, offset, size, stride)
    item = storage.data.itemsize
    arr = np.lib.stride_tricks.as_strided(storage.data[offset:] if storage.data.size else
                                          storage.data, tuple(size),
                                          tuple(s * item for s in stride))
    # a view of the storage, expanded (stride 0) ones too: tensors sharing one stay sharing it
    x = from_numpy(_serial_shared.guard_expanded(arr))
    return x.requires_grad_(True) if requires_grad else x


def _check_extent(storage, offset, size, stride):
    """Refuse a tensor record reaching outside its storage, with torch.load's errors (the file
    may be untrusted: an unchecked view would read and write memory outside the storage)."""
    if not (all(type(v) is int for v in (offset, *size, *stride)) and len(size) == len(stride)):
        raise RuntimeError("tg.load: malformed tensor record in a torch file")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if any(n < 0 for n in size) or any(s < 0 for s in stride):
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(size)} and "
                           f"strides={list(stride)}")
    if all(size) and offset + sum((n - 1) * s for n, s in zip(size, stride)) >= \
            storage.data.size:
        raise RuntimeError("Trying to resize storage that is not resizable")


def _rebuild_parameter(data, requires_grad, hooks=None, state=None):
    from .nn.parameter import Parameter

    return Parameter(data, requires_grad=requires_grad)


def _torch_plain_class(module, name):
    """The value-only classes and constants of a torch file (those PyTorch's weights-only
    loading also allows): builtin sets, complex numbers, slices, bytes (pickled through
    ``_codecs.encode``) and bytearrays, ``collections.Counter`` (MultiStepLR's milestones in a
    scheduler's state), and torch's dtypes, devices and Size."""
    import codecs

    from .device import device
    from .size import Size

    if module in ("builtins", "__builtin__") and name in ("set", "frozenset", "complex",
                                                          "slice", "bytearray"):
        return {"set": set, "frozenset": frozenset, "complex": complex, "slice": slice,
                "bytearray": bytearray}[name]
    if (module, name) == ("collections", "Counter"):
        return Counter
    if (module, name) == ("_codecs", "encode"):
        return codecs.encode
    if module == "torch":
        if name == "device":
            return device
        if name == "Size":
            return Size
        dt = _TORCH_DTYPES.get(name)
        if dt is not None:
            return np.dtype(dt)
    return None


_TORCH_DTYPES = {n: n for n in ("float16", "float32", "float64", "complex64", "complex128",
                                "int8", "int16", "int32", "int64", "uint8", "bool")}
_TORCH_DTYPES.update(half="float16", float="float32", double="float64", short="int16",
                     int="int32", long="int64", cfloat="complex64", cdouble="complex128")


def _load_torch(z, prefix, place):
    """What ``torch.save`` wrote, through an unpickler that knows only containers, tensors and
    parameters (as ``torch.load(weights_only=True)``): anything else is refused, so an untrusted
    file cannot run code."""
    import pickle

    byteorder = z.read(prefix + "byteorder").decode() if prefix + "byteorder" in \
        z.namelist() else "little"
    storages = {}

    def rebuild(storage, *args, **kwargs):
        return place(_rebuild_tensor(storage, *args, **kwargs), storage.location)

    class Unpickler(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("collections", "OrderedDict"):
                return OrderedDict
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return rebuild
            if (module, name) in (("torch._utils", "_rebuild_parameter"),
                                  ("torch._utils", "_rebuild_parameter_with_state")):
                return _rebuild_parameter
            if module == "torch" and name in _TORCH_STORAGES:
                return _TORCH_STORAGES[name]
            found = _torch_plain_class(module, name)
            if found is not None:
                return found
            raise pickle.UnpicklingError(f"tg.load: a file written by torch.save that holds "
                                         f"{module}.{name}, which is not read (only tensors, "
                                         "parameters and containers of them are)")

        def persistent_load(self, pid):
            if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
                raise pickle.UnpicklingError("tg.load: unknown persistent id in a torch file")
            dtype, key = np.dtype(pid[1]), str(pid[2])
            if key not in storages:
                raw = z.read(f"{prefix}data/{key}")
                a = np.frombuffer(raw, dtype.newbyteorder("<" if byteorder == "little"
                                                          else ">"))
                location = pid[3] if len(pid) > 3 and type(pid[3]) is str else "cpu"
                storages[key] = _TorchStorage(dtype, a.astype(dtype), location)  # (a copy)
            return storages[key]

    return Unpickler(io.BytesIO(z.read(prefix + "data.pkl"))).load()


__all__ = ["load", "save"]
