"""Devices and device storage (bottom layer: imports nothing of tapegrad, numba.cuda lazily).

* ``device``: what ``Tensor.device`` returns; compares equal to ``"cpu"``, ``"cuda"``,
  ``"cuda:0"`` and prints like PyTorch's ``device(type='cuda', index=0)``.
* ``DeviceArray``: the storage of a CUDA tensor (``Tensor._data``), a C-contiguous
  ``numba.cuda`` device array with NumPy's ``shape``/``dtype``/``size``. It refuses NumPy
  (``__array__``, ufuncs and array functions raise), so an op without a device path fails
  with a clear message instead of silently copying to the host.

``numba.cuda`` is imported on the first use of a device only (``cuda_api``), never by
``import tapegrad``. Without numba-cuda, or without a GPU (and without its simulator,
``NUMBA_ENABLE_CUDASIM=1``), asking for a CUDA tensor raises RuntimeError.
"""

import numpy as np

_cuda = None
_cuda_error = None
_simulated = None  # numba.cuda is the simulator (fixed once numba.cuda is imported)


class device:
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda", 0)``, ``"cuda:0"``."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 (PyTorch's argument name)
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, i = type.split(":", 1)
            if not i.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{i}'")
            index = int(i)
        if type not in ("cpu", "cuda"):
            raise RuntimeError("Expected one of cpu, cuda device type at start of device "
                               f"string: {type}")
        if type == "cuda" and index is None:
            index = 0  # one device: tapegrad uses the current CUDA device, always index 0
        if type == "cuda" and index != 0:
            raise RuntimeError(f"tapegrad supports one CUDA device (cuda:0), got cuda:{index}")
        self.type = type
        self.index = index

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except RuntimeError:
                return False
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = device("cpu")
CUDA0 = device("cuda", 0)

MIXED = ("Expected all tensors to be on the same device, but found at least two devices, "
         "cuda:0 and cpu!")


def one_device(x, *others):
    """PyTorch's mixed-device error when a tensor among ``others`` (non-tensors are skipped)
    is not on ``x``'s device: for index, target and weight arguments, whose values are read
    on the host and so would otherwise be taken from either device."""
    on_cuda = x.is_cuda  # (the property: vmap's batched tensors answer it, not ``_data``)
    for o in others:
        cuda = getattr(o, "is_cuda", None)  # (None: not a tensor)
        if cuda is not None and cuda is not on_cuda:
            raise RuntimeError(MIXED)


_INDEX_WRAPPERS = {  # the op the user called -> PyTorch's CUDA wrapper named in its error
    "gather": "wrapper_CUDA_gather", "index_select": "wrapper_CUDA__index_select",
    "scatter": "wrapper_CUDA_scatter_src", "scatter_": "wrapper_CUDA_scatter__src",
    "scatter_add": "wrapper_CUDA_scatter_add", "scatter_add_": "wrapper_CUDA_scatter_add_",
    "index_add": "wrapper_CUDA_index_add", "index_add_": "wrapper_CUDA_index_add_",
}


def index_device(x, index, value=False):
    """PyTorch's mixed-device error for a CPU index of a CUDA input when the user called the
    index op (gather, index_select, scatter, scatter_add, index_add; their methods and in-place
    forms): PyTorch wants the index on the input's device. The ops built on them (pad,
    interpolate, ctc, packed sequences, distributions) pass indices made on the host, read there
    anyway, so only a call from outside the package is refused (``_called_op``, read off the
    stack only for a CPU index of a CUDA input). ``value``: scatter with a number."""
    if getattr(index, "is_cuda", True) or not getattr(x, "is_cuda", False):
        return
    op = _called_op()
    wrapper = _INDEX_WRAPPERS.get(op)
    if wrapper is not None:
        if value and op.startswith("scatter") and "add" not in op:
            wrapper = wrapper.replace("_src", "_value")
        raise RuntimeError(f"{MIXED} (when checking argument for argument index in method "
                           f"{wrapper})")


def parse(dev):
    """``None``/str/device -> ``device`` (None stays None)."""
    if dev is None or isinstance(dev, device):
        return dev
    if isinstance(dev, int):
        return device("cuda", dev)
    if not isinstance(dev, str):
        raise TypeError(f"device must be a str or tapegrad.device, not {type(dev).__name__}")
    return device(dev)


def is_cuda(dev):
    d = parse(dev)
    return d is not None and d.type == "cuda"


def cuda_api():
    """``numba.cuda``, imported on first use; RuntimeError if CUDA cannot be used."""
    global _cuda, _cuda_error
    if _cuda is not None:
        return _cuda
    if _cuda_error is None:
        try:
            from numba import cuda
        except ImportError as e:
            _cuda_error = ("CUDA tensors need numba-cuda: pip install 'tapegrad[cuda]' "
                           f"(numba-cuda>=0.30); import failed: {e}")
        else:
            try:
                ok = cuda.is_available()
            except Exception as e:  # driver present but broken
                ok, why = False, f" ({e})"
            else:
                why = ""
            if ok:
                _cuda = cuda
                return cuda
            _cuda_error = ("Found no NVIDIA driver or CUDA GPU on this machine" + why +
                           "; set NUMBA_ENABLE_CUDASIM=1 (before numba is imported) to run "
                           "CUDA tensors on numba-cuda's simulator")
    raise RuntimeError(_cuda_error)


def simulated():
    """Whether ``numba.cuda`` is numba-cuda's simulator (every thread a Python thread).

    Asked of the module itself, not of Numba's ``config.ENABLE_CUDASIM``: Numba reloads its
    config from the environment at every compile, so a process that switched the simulator on
    and then removed ``NUMBA_ENABLE_CUDASIM`` from its environment (a test harness keeping it
    from subprocesses) reads False there later, while ``numba.cuda`` stays the simulator.
    Answered once: every kernel launch asks (grid sizes)."""
    global _simulated
    if _simulated is None:
        _simulated = cuda_api().jit.__module__.startswith("numba.cuda.simulator")
    return _simulated


def available():
    try:
        cuda_api()
    except RuntimeError:
        return False
    return True


_TO_NUMPY = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the "
             "tensor to host memory first.")


class DeviceArray:
    """C-contiguous device storage of a CUDA tensor (see the module docstring)."""

    __slots__ = ("a", "shape", "dtype", "__weakref__")

    def __init__(self, a, shape=None):
        self.a = a  # numba.cuda device array, C-contiguous (1-d or any shape)
        self.shape = tuple(a.shape) if shape is None else tuple(shape)
        self.dtype = np.dtype(a.dtype)

    @property
    def size(self):
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def device(self):
        return CUDA0

    def flat(self):
        """The storage as a 1-d device array (no copy)."""
        a = self.a
        return a if a.ndim == 1 else a.reshape(self.size)

    def reshape(self, shape):
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(shape)
        if -1 in shape:
            known = 1
            for s in shape:
                if s != -1:
                    known *= s
            shape = tuple(self.size // max(known, 1) if s == -1 else s for s in shape)
        n = 1
        for s in shape:
            n *= s
        if n != self.size:
            raise ValueError(f"cannot reshape array of size {self.size} into shape {shape}")
        return DeviceArray(self.a, shape)

    def copy(self):
        """A new DeviceArray with the same values (a device-to-device copy)."""
        out = cuda_api().device_array(self.a.shape, self.dtype)
        if self.size:
            out.copy_to_device(self.a)
        return DeviceArray(out, self.shape)

    def host(self):
        """A NumPy copy (synchronises)."""
        return np.asarray(self.flat().copy_to_host()).reshape(self.shape)

    def __reduce__(self):
        # pickled through the host: the values travel and unpickle onto the device
        return to_device, (self.host(),)

    def __deepcopy__(self, memo):
        return self.copy()

    def refuse_numpy(self):
        """PyTorch's TypeError for ``tensor.numpy()`` / ``np.asarray(tensor)`` on cuda."""
        raise TypeError(_TO_NUMPY)

    def __array__(self, dtype=None, copy=None):
        # reached only from inside tapegrad (Tensor.__array__ refuses first): an op that
        # has no device path asked NumPy for the values
        raise NotImplementedError(_no_device_path(None))

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        raise NotImplementedError(_no_device_path(f"numpy.{ufunc.__name__}"))

    def __array_function__(self, func, types, args, kwargs):
        if func is np.shape:  # metadata only (error messages ask for it)
            return self.shape
        raise NotImplementedError(_no_device_path(f"numpy.{func.__name__}"))

    def __repr__(self):
        return f"<DeviceArray shape={self.shape} dtype={self.dtype}>"


# names of wrapper functions (vmap's dispatch, keyword and method bindings, factories): not
# the op the user called, which such a wrapper keeps as its ``name`` or as the function it
# wraps (``raw``, ``np_f``, ``step``, ``f``, ``fn``), if at all
_WRAPPERS = frozenset(("fn", "fn1", "op", "method", "handler", "wrapper", "inner", "vals",
                       "apply", "<lambda>", "<listcomp>", "<genexpr>", "<dictcomp>",
                       "<setcomp>"))


def _called_op():
    """The name of the tapegrad function the user called, read off the stack: the outermost
    frame of the tapegrad package that is not a wrapper (None when none is found)."""
    import os
    import sys

    root = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frame, inside = sys._getframe(2), []
    while frame is not None and frame.f_code.co_filename.startswith(root):
        inside.append(frame)
        frame = frame.f_back
    for f in reversed(inside):  # the entry point first
        names = [f.f_code.co_name]
        if names[0] in _WRAPPERS:
            local = f.f_locals
            names = [local.get("name"), lambda f=f: getattr(_function_of(f), "__name__", None)]
            names += [getattr(local.get(k), "__name__", None)
                      for k in ("raw", "np_f", "step", "f", "fn")]
        for name in names:
            name = name() if callable(name) else name
            if isinstance(name, str) and name.isidentifier() and not name.startswith("_") \
                    and name not in _WRAPPERS:
                return name
    return None


def _function_of(frame):
    """The function object running in ``frame``: of the closures sharing its code (a factory's
    ``fn``, renamed after the op it makes), the one whose cells hold the frame's free values."""
    import gc
    import types

    code, local = frame.f_code, frame.f_locals
    for fn in gc.get_referrers(code):
        if type(fn) is not types.FunctionType or fn.__code__ is not code:
            continue
        try:
            cells = [c.cell_contents for c in fn.__closure__ or ()]
        except ValueError:  # an empty cell
            continue
        if all(local.get(k, cells) is v for k, v in zip(code.co_freevars, cells)):
            return fn
    return None


def _no_device_path(numpy_name):
    """The error of an op without a CUDA path, naming the op (and the NumPy function that
    asked for host values) and the device."""
    op = _called_op()
    what = " ".join(n for n in (op and f"{op}()", numpy_name and f"(through {numpy_name})")
                    if n) or "an operation"
    return (f"{what} is not implemented for cuda tensors in tapegrad: it has no CUDA path yet "
            "(it needs the values in host memory); move the tensor to the CPU with .cpu() "
            "first")


def to_device(arr):
    """Copy a NumPy array (any layout) to a new ``DeviceArray``."""
    cuda = cuda_api()
    shape = np.shape(arr)  # before ascontiguousarray, which makes a 0-d array 1-d
    arr = np.ascontiguousarray(arr)
    return DeviceArray(cuda.to_device(arr.reshape(-1)), shape)


def to_host(d):
    return d.host()


def host_array(d):
    """A tensor's data (``_data``/``_arr()``) as an ndarray: a CUDA tensor's copied to the host
    (one synchronising copy), a CPU tensor's storage as it is."""
    return d.host() if type(d) is DeviceArray else np.asarray(d)
