"""PyTorch's legacy tensor types, ``tg.FloatTensor``, ``tg.LongTensor``, ...: constructors in
their dtype (``tg.LongTensor([1, 2])``, ``tg.FloatTensor(2, 3)``), ``isinstance`` checks of a
CPU tensor's dtype, and the argument of ``x.type(tg.LongTensor)``. As in PyTorch they are not
subclasses of Tensor: what they make is a plain Tensor."""

import numpy as np

from ..tensor import _DTYPE_NAMES, Tensor


class TensorType(type):
    """The class of the legacy types (PyTorch's ``torch.tensortype``)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype and not obj.is_cuda

    def __subclasscheck__(cls, sub):
        return sub is cls

    def __call__(cls, *args, device=None):
        if len(args) == 1 and isinstance(args[0], Tensor):  # its storage, of this dtype only
            t = args[0]
            if t.dtype != cls.dtype:
                raise TypeError(f"expected {_options(cls.dtype)} (got {_options(t.dtype)})")
            return Tensor(t)
        t = Tensor(*args, dtype=cls.dtype)
        return t if device is None else t.to(device)

    def __repr__(cls):
        return f"<class 'tapegrad.{cls.__name__}'>"


def _options(dtype):
    return (f"TensorOptions(dtype={_DTYPE_NAMES[np.dtype(dtype).name][0]}, device=cpu, "
            "layout=Strided, requires_grad=false (default), pinned_memory=false (default), "
            "memory_format=(nullopt))")


def _legacy_type(dtype):
    name = _DTYPE_NAMES[np.dtype(dtype).name][1] + "Tensor"
    return TensorType(name, (), {"dtype": np.dtype(dtype), "is_cuda": False,
                                 "__module__": "tapegrad", "__doc__": f"``{name}(...)``: a "
                                 f"Tensor of dtype {np.dtype(dtype).name} (legacy constructor)."})


FloatTensor = _legacy_type(np.float32)
DoubleTensor = _legacy_type(np.float64)
HalfTensor = _legacy_type(np.float16)
LongTensor = _legacy_type(np.int64)
IntTensor = _legacy_type(np.int32)
ShortTensor = _legacy_type(np.int16)
CharTensor = _legacy_type(np.int8)
ByteTensor = _legacy_type(np.uint8)
BoolTensor = _legacy_type(np.bool_)

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor", "HalfTensor",
           "IntTensor", "LongTensor", "ShortTensor", "TensorType"]
