"""Lazy modules with PyTorch's API, and the placeholders and markers of module state.

``UninitializedParameter`` and ``UninitializedBuffer`` hold no value yet, only a dtype and a
device (``Module.to`` may change them); ``materialize(shape)`` gives one its storage and turns
it into a plain ``Parameter`` or ``Tensor`` (the same object). ``LazyModuleMixin`` infers the
sizes a layer was not given (``in_features``, ``in_channels``, ``num_features``) from the input
of its first call, in a forward pre-hook: it materializes the placeholders, initialises them as
the layer's ``reset_parameters`` does, and the module's class becomes the non-lazy one
(``cls_to_become``): ``LazyLinear(3)`` called on ``(N, 5)`` is a ``Linear(5, 3)`` from then on.
Loading a ``state_dict`` of values into a lazy module materializes its placeholders too.

``Buffer`` marks a tensor that becomes a buffer when assigned to a module attribute:
``self.x = nn.Buffer(t, persistent=False)``.
"""

import itertools
from collections import OrderedDict

from .. import creation
from ..grad_mode import no_grad
from ..tensor import Tensor
from .conv_layers import (Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d,
                          ConvTranspose3d, _ConvTransposeNd)
from .linear import Linear, param_dtype
from .module import _size
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d, _BatchNorm, _InstanceNorm)
from .parameter import Parameter

__all__ = ["Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy",
           "LazyModuleMixin", "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d",
           "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
           "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
           "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


# ---- Buffer ------------------------------------------------------------------------------

class _BufferMeta(type):
    """``isinstance(t, Buffer)`` holds for any tensor that ``Buffer(...)`` marked."""

    def __instancecheck__(cls, instance):
        if cls is Buffer and isinstance(instance, Tensor) and \
                getattr(instance, "_is_buffer", False):
            return True
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """A tensor that a ``Module`` registers as a buffer when it is assigned as an attribute
    (in the ``state_dict`` unless ``persistent=False``). As PyTorch's, ``Buffer(t)`` is a
    detached ``Tensor`` sharing ``t``'s storage (keeping its ``requires_grad``), marked."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            data = creation.zeros(0)
        t = data.detach().requires_grad_(data.requires_grad)
        t.persistent = persistent
        t._is_buffer = True
        return t


# ---- placeholders ------------------------------------------------------------------------

def _refused(name, shown):
    def method(self, *args, **kwargs):
        raise ValueError(
            f"Attempted to use an uninitialized parameter in {shown}. This error happens when "
            "you are using a `LazyModule` or explicitly manipulating `torch.nn.parameter."
            f"{type(self).__name__}` objects. When using LazyModules Call `forward` with a "
            "dummy batch to initialize the parameters before calling torch functions")

    method.__name__ = name
    return method


# the names PyTorch's error gives for these operators
_ATEN = {"__add__": "add", "__radd__": "add", "__sub__": "sub", "__mul__": "mul",
         "__rmul__": "mul", "__truediv__": "div", "__matmul__": "matmul", "__neg__": "neg",
         "__iter__": "dim", "__rtruediv__": "__rdiv__"}


class UninitializedTensorMixin:
    """What a placeholder refuses (its shape, its values) and ``materialize``."""

    cls_to_become = None

    def materialize(self, shape, device=None, dtype=None):
        """Give the placeholder storage of ``shape`` (zeros) on ``device`` with ``dtype``
        (its own unless given), making it a ``cls_to_become`` in place."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self._data = creation.zeros(tuple(shape), dtype=dtype, device=device)._data
        self.__class__ = self.cls_to_become

    @property
    def shape(self):
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    def size(self, dim=None):  # (the placeholder's storage, as PyTorch's: (0,))
        s = self._data.shape
        return s if dim is None else s[dim]

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call "
                           "`forward` to initialize the parameters before calling "
                           "`module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    __str__ = __repr__

    def __reduce__(self):
        return type(self), self._remake_args(None)

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(*self._remake_args(self.device))
        return memo[id(self)]


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__",
              "__truediv__", "__rtruediv__", "__matmul__", "__rmatmul__", "__pow__", "__neg__",
              "__len__", "__iter__", "__getitem__", "__setitem__", "numel", "dim", "clone",
              "numpy", "tolist", "item", "sum", "mean", "view", "reshape", "t"):
    _torch_name = _ATEN.get(_name, _name)
    if _name in ("__getitem__", "__setitem__"):
        _shown = f"<slot wrapper '{_name}' of 'torch._C.TensorBase' objects>"
    elif _torch_name.startswith("__"):
        _shown = f"<function Tensor.{_torch_name}>"
    else:
        _shown = f"<method '{_torch_name}' of 'torch._C.TensorBase' objects>"
    setattr(UninitializedTensorMixin, _name, _refused(_name, _shown))


def _placeholder(cls, requires_grad, device, dtype):
    data = creation.zeros(0, dtype=param_dtype(dtype), device=device)
    return Parameter.__new__(cls, data, requires_grad)


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (a lazy module's, until its first call)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _placeholder(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def _remake_args(self, device):
        return self.requires_grad, device, self.dtype


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (``persistent`` as ``Buffer``'s)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        b = _placeholder(cls, requires_grad, device, dtype)
        b.persistent = persistent
        b._is_buffer = True
        return b

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def _remake_args(self, device):
        return self.requires_grad, device, self.dtype, self.persistent


def is_lazy(param):
    """Whether ``param`` is an ``UninitializedParameter`` or ``UninitializedBuffer``."""
    return isinstance(param, UninitializedTensorMixin)


# ---- the mixin ---------------------------------------------------------------------------

class _HookHandle:
    """The handle of the initialising pre-hook (by id: it survives deepcopy and pickling)."""

    def __init__(self, hook_id, *dicts):
        self.id, self.dicts = hook_id, dicts

    def remove(self):
        for d in self.dicts:
            d.pop(self.id, None)


class _LazyBuffers(OrderedDict):
    """A lazy module's buffers: a placeholder that ``Module.to`` replaces by its converted
    value (empty) stays a placeholder, of the new dtype and device."""

    def __setitem__(self, name, value):
        old = self.get(name)
        if is_lazy(old) and type(value) is Tensor and value.numel() == 0:
            value = UninitializedBuffer(old.requires_grad, value.device, value.dtype,
                                        old.persistent)
        super().__setitem__(name, value)


class LazyModuleMixin:
    """Makes a module lazy: its first call runs ``initialize_parameters(*args, **kwargs)``
    (which materializes the placeholders), then the module becomes ``cls_to_become``."""

    cls_to_become = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        handle = self.register_forward_pre_hook(self._infer_parameters, with_kwargs=True)
        self._initialize_hook = _HookHandle(handle.id, self._forward_pre_hooks,
                                            self._forward_pre_hooks_with_kwargs)
        self.__dict__["_buffers"] = _LazyBuffers(self._buffers)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if is_lazy(p) or keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if is_lazy(b) or keep_vars else b.detach()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Placeholders given values are materialized to their shape first; those given
        placeholders stay as they are."""
        kept = []
        for name, cur in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and is_lazy(cur):
                if is_lazy(state_dict[key]):
                    kept.append(key)
                else:
                    with no_grad():
                        cur.materialize(state_dict[key].shape)
        if kept:
            rest = OrderedDict((k, v) for k, v in state_dict.items() if k not in kept)
            if hasattr(state_dict, "_metadata"):
                rest._metadata = state_dict._metadata
            state_dict = rest
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
        missing_keys[:] = [k for k in missing_keys if k not in kept]

    def initialize_parameters(self, *args, **kwargs):
        """Materialize and initialise the parameters from the first input's sizes."""
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {self.__class__.__name__}")

    def has_uninitialized_params(self):
        """Whether a parameter or buffer is still a placeholder."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                       self._buffers.values()))

    def _infer_parameters(self, module, args, kwargs=None):
        module.initialize_parameters(*args, **(kwargs or {}))
        if module.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        module._initialize_hook.remove()
        del module._initialize_hook
        module.__dict__["_buffers"] = OrderedDict(module._buffers)
        if module.cls_to_become is not None:
            module.__class__ = module.cls_to_become


# ---- LazyLinear --------------------------------------------------------------------------

class LazyLinear(LazyModuleMixin, Linear):
    """A ``Linear`` whose ``in_features`` is the last size of its first input."""

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            with no_grad():
                self.in_features = input.shape[-1]
                self.weight.materialize((self.out_features, self.in_features))
                if self.bias is not None:
                    self.bias.materialize((self.out_features,))
                self.reset_parameters()
        if self.in_features == 0:  # (values loaded from a state_dict)
            if input.shape[-1] != self.weight.shape[-1]:
                raise AssertionError(f"The in_features inferred from input: {input.shape[-1]} "
                                     "is not equal to in_features from self.weight: "
                                     f"{self.weight.shape[-1]}")
            self.in_features = input.shape[-1]


# ---- lazy convolutions -------------------------------------------------------------------

class _LazyConvXdMixin(LazyModuleMixin):
    """``in_channels`` from the first input: dim 1 if batched, dim 0 if not."""

    def __init__(self, out_channels, *args, device=None, dtype=None, bias=True, **kwargs):
        super().__init__(0, 0, *args, bias=False, device=device, dtype=dtype, **kwargs)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_channels = out_channels
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input, *args, **kwargs):
        if self.has_uninitialized_params():
            self.in_channels = self._get_in_channels(input)
            if self.in_channels % self.groups != 0:
                raise ValueError("in_channels must be divisible by groups")
            with no_grad():
                if isinstance(self, _ConvTransposeNd):
                    shape = (self.in_channels, self.out_channels // self.groups)
                else:
                    shape = (self.out_channels, self.in_channels // self.groups)
                self.weight.materialize(shape + tuple(self.kernel_size))
                if self.bias is not None:
                    self.bias.materialize((self.out_channels,))
                self.reset_parameters()

    def _get_in_channels(self, input):
        unbatched = self._nd + 1
        if input.ndim not in (unbatched, unbatched + 1):
            raise RuntimeError(f"Expected {unbatched}D (unbatched) or {unbatched + 1}D (batched) "
                               f"input to {self.__class__.__name__}, but got input of size: "
                               f"{_size(input.shape)}")
        return input.shape[1] if input.ndim == unbatched + 1 else input.shape[0]


def _lazy_conv(base, transposed):
    if transposed:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, output_padding=0,
                     groups=1, bias=True, dilation=1, padding_mode="zeros", device=None,
                     dtype=None):
            _LazyConvXdMixin.__init__(self, out_channels, kernel_size, stride, padding,
                                      output_padding, groups, bias=bias, dilation=dilation,
                                      padding_mode=padding_mode, device=device, dtype=dtype)
    else:
        def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                     groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
            _LazyConvXdMixin.__init__(self, out_channels, kernel_size, stride, padding,
                                      dilation, groups, bias=bias, padding_mode=padding_mode,
                                      device=device, dtype=dtype)
    doc = (f"A ``{base.__name__}`` whose ``in_channels`` is the channel size of its first "
           "input.")
    return type("Lazy" + base.__name__, (_LazyConvXdMixin, base),
                {"__init__": __init__, "cls_to_become": base, "__doc__": doc,
                 "__module__": __name__})


LazyConv1d = _lazy_conv(Conv1d, False)
LazyConv2d = _lazy_conv(Conv2d, False)
LazyConv3d = _lazy_conv(Conv3d, False)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, True)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, True)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, True)


# ---- lazy normalisation ------------------------------------------------------------------

class _LazyNormBase(LazyModuleMixin):
    """``num_features`` from dim 1 of the first input (PyTorch's, for instance norms too).
    Affine parameters and running statistics by default, as PyTorch's lazy norms."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 device=None, dtype=None, *, bias=True):
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = creation.tensor(0, device=device)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            self.num_features = input.shape[1]
            with no_grad():
                for t in (self.weight, self.bias, self.running_mean, self.running_var):
                    if is_lazy(t):
                        t.materialize((self.num_features,))
                self.reset_parameters()


def _lazy_norm(base, kind):
    doc = f"A ``{base.__name__}`` whose ``num_features`` is dim 1 of its first input."
    return type("Lazy" + base.__name__, (_LazyNormBase, kind),
                {"cls_to_become": base, "_dims": base._dims, "__doc__": doc,
                 "__module__": __name__})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, _BatchNorm)
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, _BatchNorm)
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, _BatchNorm)
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, _InstanceNorm)
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, _InstanceNorm)
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, _InstanceNorm)
