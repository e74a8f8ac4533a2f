"""The Tensor: a NumPy value plus, when it has history, its place on the tape.

Storage: ``_data`` is a NumPy array, or a plain Python ``float`` for a 0-d float64 tensor that
nobody has viewed yet. The float form is the scalar fast path (a ``math`` call is 3-5x cheaper
than a NumPy 0-d op, ``docs/ARCHITECTURE.md``); anything that needs shared storage calls
``_arr()``, which turns it into a 0-d array for good.

Autograd state: ``_rg`` (requires grad), ``_seg``/``_rec`` (segment and record id; ``None``/-1
for leaves), ``_grad``, ``_vc`` (version counter shared with views, a one-item list).
Defaults live on the class so that creating a tensor sets only what differs.

This module knows no op and no autograd: the layers above bind their methods onto ``Tensor``
(``ops`` the operators and op methods, ``autograd`` ``backward``/``grad_fn``/hooks,
``numpy_dispatch`` NumPy's protocols), so the import graph points one way only.
"""

import warnings

import sys

import numpy as np

from . import _tensor_str
from ._legacy_tensor import legacy_array
from .size import type_name

from . import grad_mode as _gm
from .device import CPU as _CPU
from .device import DeviceArray
from .tape import inplace_epoch, set_forward_only

_NONLEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)
_LEAF_ONLY = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)
_NUMPY_RG = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
_ARRAY_RG = _NUMPY_RG + (
    " Converting it to an ndarray would drop its gradient; this happens in np.asarray/np.array(t),"
    " for tensors inside a list or tuple (np.array([x, y]), np.mean([x, y]): use np.stack([x, y])"
    "), writing a tensor into an ndarray (a[i] = t: start from np.zeros_like(t)), np.vectorize, "
    "and library functions that are not NumPy ufuncs (scipy.special.logsumexp, scipy.stats, "
    "scipy.linalg: use tapegrad.special, tapegrad.linalg or NumPy's functions on the tensor).")


def _is_float_dtype(dt):
    return dt.kind in "fc"


# PyTorch's names of a dtype in messages: (C++ type, ScalarType)
_DTYPE_NAMES = {"float64": ("double", "Double"), "float32": ("float", "Float"),
                "float16": ("c10::Half", "Half"), "int64": ("long int", "Long"),
                "int32": ("int", "Int"), "int16": ("short int", "Short"),
                "int8": ("signed char", "Char"), "uint8": ("unsigned char", "Byte"),
                "bool": ("bool", "Bool"), "complex128": ("c10::complex<double>", "ComplexDouble"),
                "complex64": ("c10::complex<float>", "ComplexFloat")}


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """

    _seg = None  # tape segment holding the record that produced this tensor
    _rec = -1  # record id on that segment
    _rg = False
    _grad = None
    _imp = (0, -1)  # leaf import cache: (segment order, record id of its IMPORT), one tuple
    _vc = None  # version counter (list of one int), shared with views and detach()
    _base = None  # the tensor this one is a view of
    _vmap = None  # a CUDA view's place in its base's storage (ops/cuda_views.py)
    _store = None  # detach()/.data/Parameter of a view: the array of the storage it shares
    _bseg = None  # the base's history when this view's history was recorded (see
    _brec = -1  # ops/inplace.refresh_view: a view of a base modified in place is regathered)
    _cviews = None  # a base's views made requiring no grad, weakly (ops/view_rebase.py)
    _standin = None  # what the tape imports for this leaf (grad_mode.mark_no_grad_view)
    _multi = None  # (op name, output index) for an output of unbind/split/chunk, plus "custom"
    # for a custom Function's output view (views that PyTorch forbids modifying in place)
    _hooks = None  # list of hook functions (see autograd/hooks)
    _post_hooks = None
    _retains = False
    _inference = False
    _fn_name = None  # custom Function node name
    _born = None  # the transform call whose function made this tensor (func/captures.py)
    __array_priority__ = 1000  # NumPy defers binary operators to Tensor

    def __init__(self, *args, dtype=None, requires_grad=False):
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` (zeros of that shape), ``Tensor([1, 2])``
        (those values), ``Tensor()`` (empty), in the default dtype (or ``dtype``, tapegrad's
        own: with it, a tensor's values are copied); ``Tensor(t)`` shares ``t``'s storage.
        ``tg.tensor`` is the usual constructor."""
        if len(args) == 1 and isinstance(args[0], Tensor) and dtype is None:
            t = args[0]
            self._data, self._vc, self._inference = t._arr(), t._vcounter(), t._inference
        else:
            self._data = _wrap(legacy_array(args, dtype or DEFAULT_DTYPE[0]))
        if requires_grad:
            self.requires_grad_(True)

    # ---- storage ----
    def _arr(self):
        """The value as an ndarray (the float fast path ends here for this tensor)."""
        d = self._data
        if type(d) is float:
            d = self._data = np.array(d)
        return d

    def _vcounter(self):
        vc = self._vc
        if vc is None:
            vc = self._vc = [0]
        return vc

    @property
    def shape(self):
        d = self._data
        return () if type(d) is float else d.shape

    @property
    def ndim(self):
        d = self._data
        return 0 if type(d) is float else d.ndim

    @property
    def dtype(self):
        d = self._data
        return _F64 if type(d) is float else d.dtype

    @property
    def device(self):
        return self._data.device if type(self._data) is DeviceArray else _CPU

    @property
    def is_cuda(self):
        return type(self._data) is DeviceArray

    def size(self, dim=None):
        s = self.shape
        return s if dim is None else s[norm_dim(dim, len(s))]

    def dim(self):
        return self.ndim

    def numel(self):
        d = self._data
        return 1 if type(d) is float else d.size

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self):
        d = self._data
        if type(d) is float:
            return d
        if d.size != 1:
            raise RuntimeError(
                f"a Tensor with {d.size} elements cannot be converted to Scalar")
        if type(d) is DeviceArray:
            d = d.host()  # a copy to the host, as PyTorch's item() of a cuda tensor
        return d.reshape(()).item()

    def tolist(self):
        d = self._data
        if type(d) is DeviceArray:
            d = d.host()
        return d if type(d) is float else d.tolist()

    def numpy(self, *, force=False):
        # PyTorch refuses only while grad mode is on: under no_grad (a custom Function's
        # forward, an evaluation loop) the array cannot lose a gradient that would be recorded
        if self._rg and not force and _gm.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(_NUMPY_RG)
        a = self._arr()
        if type(a) is DeviceArray:
            a.refuse_numpy()  # PyTorch's TypeError: copy to the host with .cpu() first
        return a

    def __array__(self, dtype=None, copy=None):
        if self._rg and _gm.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(_ARRAY_RG)
        a = self._arr()
        if type(a) is DeviceArray:
            a.refuse_numpy()
        if copy:  # (np.array(t), NumPy 2's copy=True: a copy, as PyTorch's gives)
            return np.array(a, dtype=dtype, copy=True)
        if copy is False and dtype is not None and np.dtype(dtype) != a.dtype:
            raise ValueError("Unable to avoid copy while creating an array as requested.")
        return a if dtype is None else a.astype(dtype, copy=False)

    def __float__(self):
        if self._rg and self.requires_grad:
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first.",
                          UserWarning, stacklevel=2)
        return float(self._real_scalar("double"))

    def __int__(self):
        return int(self._real_scalar("int64_t"))

    def _real_scalar(self, c_type):
        """``_scalar()`` for float()/int(): a complex value with an imaginary part raises
        PyTorch's error, one without gives its real part."""
        v = self._scalar()
        if type(v) is complex:
            if v.imag:
                raise RuntimeError(f"value cannot be converted to type {c_type} without overflow")
            v = v.real
        return v

    def __complex__(self):
        return complex(self._scalar())

    def _scalar(self):
        """``item()`` for Python's conversions, with their error (a ValueError)."""
        if self.numel() != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.item()

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError("Boolean value of Tensor with " +
                               ("no values" if n == 0 else "more than one value") +
                               " is ambiguous")
        return bool(self.item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    def __reduce__(self):
        # Value, dtype and requires_grad travel; history, .grad and hooks do not. A non-leaf
        # that requires grad unpickles as a leaf that requires grad, as in PyTorch.
        d = self._data
        return _rebuild, (d, self._rg)

    def __deepcopy__(self, memo):
        from ._deepcopy import deepcopy_tensor

        return deepcopy_tensor(self, memo, _rebuild)

    # ---- autograd state ----
    @property
    def requires_grad(self):
        seg = self._seg
        if seg is not None:
            if seg.forward_only:  # (made under no_grad in forward mode: it carries a tangent
                return False  # but is a constant to reverse mode, as PyTorch's)
            if dual_only is not None and dual_only(self):
                return False
            return self._rg
        base = self._base
        if base is not None and not self._inference:  # a view that is a leaf requires grad
            # when its base does, as PyTorch's (read now: ``x.requires_grad_()`` after the view
            # was made counts too); a view of an inference tensor never does
            return base.requires_grad if self._standin is not None else \
                self._rg or base.requires_grad
        return self._rg

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag is not True and flag is not False:
            raise RuntimeError("requires_grad must be a bool")
        if self._seg is not None and not self._seg.forward_only:
            if dual_only is not None and dual_only(self):  # a dual: PyTorch's is a leaf
                if flag:
                    dual_as_leaf(self)
                return
            raise RuntimeError(_LEAF_ONLY if not flag else
                               "you can only change requires_grad flags of leaf variables.")
        if flag and not _is_float_dtype(self.dtype):
            raise RuntimeError(
                "only Tensors of floating point and complex dtype can require gradients")
        if self._standin is not None and not flag:
            return  # (see requires_grad_)
        self._leaf_rg(bool(flag))

    def requires_grad_(self, requires_grad=True):
        if requires_grad is not True and requires_grad is not False:
            raise TypeError("requires_grad_(): argument 'requires_grad' (position 1) must be "
                            f"bool, not {type_name(requires_grad)}")
        if self._seg is not None and not self._seg.forward_only:
            if dual_only is not None and dual_only(self):  # a dual: PyTorch's is a leaf
                if requires_grad:
                    dual_as_leaf(self)
                return self
            if requires_grad:
                return self
            raise RuntimeError(_LEAF_ONLY)
        if requires_grad and not _is_float_dtype(self.dtype):
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        if self._standin is not None and not requires_grad:
            return self  # (a view made under no_grad of a tensor requiring grad: PyTorch's
            # still requires grad, its base's flag, with its gradient reaching nothing)
        self._leaf_rg(bool(requires_grad))
        return self

    def _leaf_rg(self, flag):
        """``_set_rg`` of a leaf; one made under no_grad in forward mode (a forward-only record:
        a leaf to reverse mode) that is to require grad becomes a plain leaf, its tangent's
        history dropped."""
        if self._seg is not None:
            if not flag:
                return
            self._seg, self._rec = None, -1
        self._set_rg(flag)

    def _set_rg(self, flag):
        if flag and self._inference and not _gm.is_inference_mode_enabled():
            raise RuntimeError("Setting requires_grad=True on inference tensor outside "
                               "InferenceMode is not allowed.")
        if flag and self.dtype.kind == "c":
            COMPLEX_SEEN[0] = True
        self._rg = flag

    @property
    def is_leaf(self):
        seg = self._seg
        return seg is None or seg.forward_only or dual_only is not None and dual_only(self)

    @property
    def grad(self):
        if self._grad is None and not self._retains and not self.is_leaf:
            warnings.warn(_NONLEAF_GRAD_WARNING, UserWarning, stacklevel=2)
            return None
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError("assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type_name(value)}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the "
                    "tensor are the same size")
            if value.dtype != self.dtype:
                c_name, name = (_DTYPE_NAMES.get(str(d), (str(d), str(d)))
                                for d in (value.dtype, self.dtype))
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{c_name[0]}' to a tensor with "
                    f"grad_dtype '{name[1]}'. The gradient must match the tensor's grad_dtype "
                    "(defaults to the tensor's dtype). You can set the tensor's grad_dtype "
                    "attribute with a specific dtype, or None to allow any dtype. Set grad_dtype "
                    "with caution. Diverging the dtypes of a tensor and its gradient may break "
                    "downstream systems that assume they match.")
            # (types compared inline: is_cuda's two property calls cost ~0.14 us a call)
            if (type(value._data) is DeviceArray) is not (type(self._data) is DeviceArray):
                raise RuntimeError(
                    f"attempting to assign a gradient with device type '{value.device.type}' to "
                    f"a tensor with device type '{self.device.type}'. Please ensure that the "
                    "gradient and the tensor are on the same device")
        self._grad = value

    @property
    def retains_grad(self):
        return self._retains

    @property
    def _version(self):
        vc = self._vc
        return 0 if vc is None else vc[0]

    @property
    def data(self):
        t = _make(self._arr())
        t._vc = [0]  # .data shares storage but not the version counter (as in PyTorch)
        t._vmap = self._vmap
        if self._base is not None or self._store is not None:  # (storage_offset: its start)
            t._store = self._store if self._base is None else self._base._data
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type_name(value)}")
        arr = value._arr()
        if self._rg and arr.dtype.kind not in "fc":
            raise RuntimeError("data set to a tensor that requires gradients must be floating "
                               "point or complex dtype")
        self._data = arr

    def detach(self):
        """A new leaf sharing storage and version counter, without history."""
        t = _make(self._arr())
        t._vc = self._vcounter()
        t._vmap = self._vmap
        if self._base is not None or self._store is not None:  # (storage_offset: its start)
            t._store = self._store if self._base is None else self._base._data
        t._inference = self._inference
        return t

    def detach_(self):
        base = self._base
        if base is not None and type(self._data) is np.ndarray and \
                type(base._data) is np.ndarray and np.may_share_memory(self._data, base._data):
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution.")
        self._seg = None
        self._rec = -1
        self._rg = False
        return self

    def is_inference(self):
        return self._inference

    # ---- printing ----
    def __repr__(self):
        """PyTorch's layout of the values (``_tensor_str``), then the suffixes: the size of an
        empty tensor, the device, a dtype other than the defaults (NumPy's name), the node."""
        d = self._data
        dev = type(d) is DeviceArray
        arr = d.host() if dev else np.asarray(d)  # a cuda tensor prints a host copy
        po = PRINT_OPTIONS
        extras = []
        if arr.size == 0 and arr.ndim != 1:
            extras.append(f"size={arr.shape}")
        if dev:
            extras.append(f"device='{d.device}'")
        default = DEFAULT_DTYPE[0]
        complex_default = np.dtype(np.complex128 if default == np.float64 else np.complex64)
        if arr.size == 0 and arr.dtype != default or arr.size and arr.dtype not in (
                default, complex_default, np.int64, np.bool_):
            extras.append(f"dtype={arr.dtype}")
        if not self.is_leaf:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        body = "tensor(" + _tensor_str.values_str(arr, len("tensor("), po)
        return _tensor_str.with_suffixes(body, extras, len("tensor("), po["linewidth"])

    __str__ = __repr__

    def __format__(self, format_spec):
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as PyTorch's does; other
        tensors (and subclasses such as Parameter) as ``object.__format__``: their repr for an
        empty spec, else PyTorch's ``TypeError``."""
        if self.ndim == 0 and type(self) is Tensor:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)


_F64 = np.dtype(np.float64)
_new = object.__new__

# The floating dtype of factories and of tensors made from Python floats (creation.py sets it
# through set_default_dtype); tensors of it print without a dtype.
DEFAULT_DTYPE = [np.dtype(np.float64)]

_PRINT_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80),
}
PRINT_OPTIONS = dict(_PRINT_PROFILES["default"], sci_mode=None)


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """How tensors print (PyTorch's ``torch.set_printoptions``): digits after the point,
    elements before summarising, items per edge, line width; ``sci_mode`` forces (True) or
    forbids (False) scientific notation, None chooses."""
    if profile is not None:
        PRINT_OPTIONS.update(_PRINT_PROFILES[profile])
    for k, v in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                     linewidth=linewidth).items():
        if v is not None:
            PRINT_OPTIONS[k] = int(v)
    PRINT_OPTIONS["sci_mode"] = sci_mode
_epoch = inplace_epoch


def bump_version(t):
    """Record an in-place change of ``t``'s storage (shared with its views)."""
    t._vcounter()[0] += 1
    _epoch[0] += 1


def _rebuild(data, requires_grad):
    """Unpickle a tensor (see ``Tensor.__reduce__``)."""
    t = _make(data)
    t._rg = bool(requires_grad)
    return t


# Set once a complex tensor requires grad: from then on the recorders of ops without a complex
# rule check their inputs (ops/record.py), so such an op refuses instead of differentiating the
# real part only.
COMPLEX_SEEN = [False]
_inference_used = False  # set once a thread enters inference mode (grad_mode.inference_mode)
_gm_state = _gm._state


def _track_inference():
    global _inference_used
    _inference_used = True


_gm.on_first_inference(_track_inference)
_gm.on_forward_switch(set_forward_only)  # (grad_mode sits below the tape: it is told here)


born_in = None  # while a function transform runs its function: func/captures.born_in
# while a forward_ad dual level is open: whether a tensor's history reaches only the leaves
# the duals' tangents enter at (autograd/forward_ad.dual_only): PyTorch's requires no grad
dual_only = None
dual_as_leaf = None  # (forward_ad.as_leaf: such a tensor made a leaf requiring grad)


def _make(data):
    """A tensor without history around an already-normalised value (see ``_wrap``)."""
    t = _new(Tensor)
    t._data = data
    if _inference_used and _gm_state.inference:  # tensors made there are inference tensors
        t._inference = True
    if born_in is not None:  # (the function's own tensor: it may change it in place)
        t._born = born_in()
    return t


def with_history(data, seg, rec):
    """A tensor holding ``data`` produced by record ``rec`` of tape segment ``seg``."""
    t = _new(Tensor)
    t._data = data
    t._rg = True
    t._seg = seg
    t._rec = rec
    return t


def _wrap(r):
    """Normalise a NumPy result: float64 0-d values become Python floats (the fast path)."""
    tp = type(r)
    if tp is float:
        return r
    if tp is np.ndarray:
        if r.ndim == 0 and r.dtype == _F64:
            return float(r)
        return r
    if tp is np.float64:
        return float(r)
    if tp is DeviceArray:
        return r
    return np.asarray(r)


def norm_dim(dim, ndim):
    """``dim`` as a non-negative axis of an ``ndim``-dimensional tensor (a 0-d tensor takes
    -1 and 0), or PyTorch's IndexError."""
    nd = max(ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                         f"but got {dim})")
    return dim % nd
