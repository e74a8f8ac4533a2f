"""Batched tensors and op dispatch for ``vmap`` (see ``func/vmap.py``)."""

import threading
import warnings

import numpy as np

from ..ops import join as _J
from ..ops import movement as _M
from ..ops.keywords import torch_keywords
from ..tensor import Tensor
from .pytree import tree_flatten, tree_unflatten


_RANDOMNESS = ("error", "different", "same")


class _State(threading.local):
    def __init__(self):
        self.level = 0  # levels of vmap running on this thread
        self.sizes = []  # their batch sizes, outermost first
        self.warned = []  # per running vmap: op names already warned about


_state = _State()
_lock = threading.Lock()
_running = [0]  # vmaps running on any thread: the public ops' only check when it is 0


# vmap's wrapper opens and closes its level through these module functions, not through the
# globals above: vmap(f) sent by value (Dask, cloudpickle) would carry copies of them (a lock
# does not pickle, and a copied counter would hide the running vmap from the public ops)
def next_level():
    """The level a vmap starting now on this thread gets."""
    return _state.level + 1


def open_level(level, size):
    """Enter vmap level ``level`` (batch size ``size``) on this thread."""
    _state.level = level
    _state.warned.append(set())
    _state.sizes.append(size)
    with _lock:
        _running[0] += 1


def close_level(level):
    """Leave vmap level ``level`` (``open_level``)."""
    _state.level = level - 1
    _state.warned.pop()
    _state.sizes.pop()
    with _lock:
        _running[0] -= 1


class BatchedTensor(Tensor):
    """A tensor inside ``vmap``: logical value one example, ``_phys`` the batch (dim 0)."""

    _vmap_level = 0

    def __init__(self, phys, level):
        self._phys = phys
        self._vmap_level = level

    # raw ops (not dispatched) must never see the physical array as if it were the example
    @property
    def _data(self):
        raise _RawAccess()

    @property
    def _rg(self):
        return self._phys._rg

    @_rg.setter
    def _rg(self, flag):  # recording a batched value as is (a custom Function's output)
        raise _RawAccess()

    @property
    def shape(self):
        return tuple(self._phys.shape[1:])

    @property
    def ndim(self):
        return len(self._phys.shape) - 1

    @property
    def dtype(self):
        return self._phys.dtype

    @property
    def device(self):
        return self._phys.device

    @property
    def is_cuda(self):
        return self._phys.is_cuda

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self.ndim

    def numel(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        return iter(dispatch("unbind", _J.unbind, (self,), {}))

    @property
    def requires_grad(self):
        return self._phys.requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        self._phys.requires_grad = flag

    def requires_grad_(self, requires_grad=True):
        self._phys.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self._phys.is_leaf

    @property
    def grad(self):
        return None

    @property
    def grad_fn(self):
        return self._phys.grad_fn

    def detach(self):
        return BatchedTensor(self._phys.detach(), self._vmap_level)

    def _no_data(self, *args, **kwargs):
        raise _ValueRead("vmap: It looks like you're calling .item() on a Tensor. We don't "
                           "support vmap over calling .item() on a Tensor, please try to rewrite "
                           "what you're doing with other operations.")

    item = tolist = numpy = __float__ = __int__ = __index__ = _no_data

    def __bool__(self):
        raise _ValueRead("vmap: It looks like you're attempting to use a Tensor in some "
                           "data-dependent control flow. We don't support that yet: use "
                           "tg.where instead of if/else on a batched value.")

    def __array__(self, dtype=None, copy=None):
        self._no_data()

    def __setitem__(self, key, value):
        """``x[key] = value`` on every example at once: the key with the batch dim in front,
        on the physical tensor (a batched value aligned behind its batch dim). Keys with more
        than one index array or an index batched itself run per example (``_RawAccess``); a
        value batched at an inner level is refused, as PyTorch refuses it."""
        level = self._vmap_level
        items = key if isinstance(key, tuple) else (key,)
        arrays = [k for k in items if isinstance(k, (Tensor, np.ndarray, list))]
        if type(value) is BatchedTensor and value._vmap_level > level:  # (PyTorch refuses)
            from .inplace_refusal import text

            raise RuntimeError(text("index_put_" if arrays else "copy_", value._vmap_level,
                                    value._phys.shape[0], self.shape))
        if any(type(k) is BatchedTensor and k._vmap_level == level for k in arrays):
            from .batching_index import batched_set  # (an index per example: at once)

            if batched_set(level, self._phys, key, value):
                return
            raise _RawAccess("index_put_")
        if len(arrays) > 1 or any(type(k) is BatchedTensor for k in arrays):
            raise _RawAccess()
        # (a value batched at an outer level goes on as it is: so is the physical tensor)
        if type(value) is BatchedTensor and value._vmap_level == level:
            region = np.empty(self.shape, np.bool_)[tuple(
                np.asarray(k._data if isinstance(k, Tensor) else k)
                if isinstance(k, (Tensor, np.ndarray, list)) else k for k in items)].shape
            v = value._phys
            pad = len(region) - (len(v.shape) - 1)
            if pad > 0:
                v = _reshape(v, (v.shape[0],) + (1,) * pad + tuple(v.shape[1:]))
            value = v
        self._phys[(slice(None),) + items] = value

    def __repr__(self):
        return f"BatchedTensor(lvl={self._vmap_level}, bdim=0, value=\n{self._phys!r})"

    def backward(self, *args, **kwargs):
        from ..autograd import _IN_TRANSFORM

        raise RuntimeError(_IN_TRANSFORM)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from ..numpy_dispatch import ufunc_handler

        # (a method's arguments are its own, axis= & co.: the handler reads them)
        f = ufunc_handler(ufunc, method) if method != "__call__" or not kwargs else None
        if f is None:
            return NotImplemented
        # np.sin -> the rule of "sin"; a name without one (np.add.outer's "add.outer") is tried
        # as the composition of ops its handler is
        name = ufunc.__name__ + ("" if method == "__call__" else "." + method)
        return dispatch(name, f, inputs, kwargs)


class _RawAccess(Exception):
    """An op without a dispatch entry read a batched tensor's value."""


class _ValueRead(RuntimeError):
    """A batched tensor's value read into Python (``item()``, ``bool()``, NumPy): PyTorch's
    error in user code; in a function ``dispatch`` runs as it is, the sign to loop instead."""


# ---- dispatch -----------------------------------------------------------------------------

RULES = {}


def _level_of(leaves):
    lv = 0
    for t in leaves:
        if type(t) is BatchedTensor and t._vmap_level > lv:
            lv = t._vmap_level
    return lv


def dispatch(name, raw, args, kwargs):
    """Call op ``name`` (``raw`` on plain tensors) on arguments that may be batched."""
    leaves, _ = tree_flatten((args, kwargs))
    level = _level_of(leaves)
    if not level:
        return raw(*args, **kwargs)
    rule = RULES.get(name)
    if rule is not None:
        if kwargs:  # rules read dim/keepdim by PyTorch's names
            kwargs = torch_keywords(kwargs, name)
        res = rule(level, name, raw, args, kwargs)
        if res is not NotImplemented:
            return res
    elif name not in _READS_VALUES:
        # A function without a rule of its own is most often a composition of ops that have
        # one (an activation, a loss, a torch-named function): run on the batched tensors, it
        # batches op by op. One that reads a batched tensor's values raises _RawAccess (an op
        # reads its inputs before it writes anything) and runs once per example from then on.
        try:
            return raw(*args, **kwargs)
        except (_RawAccess, _ValueRead):
            _READS_VALUES.add(name)
    return _loop(level, name, raw, args, kwargs)


_READS_VALUES = set()  # names of functions seen reading a batched tensor's values


def _bsize(level, leaves):
    for t in leaves:
        if type(t) is BatchedTensor and t._vmap_level == level:
            return t._phys.shape[0]
    raise AssertionError("no batched argument at this level")


def _at(level, t, b):
    """Example ``b`` of ``t`` at ``level`` (``t`` itself when not batched there)."""
    if type(t) is BatchedTensor and t._vmap_level == level:
        return dispatch("getitem", _M.getitem, (t._phys, b), {})
    return t


def _loop(level, name, raw, args, kwargs):
    """The fallback: run the op once per example and stack the results."""
    warned = _state.warned[-1] if _state.warned else set()
    if name not in warned:
        warned.add(name)
        warnings.warn(f"There is a performance drop because we have not yet implemented the "
                      f"batching rule for {name}. tapegrad runs it once per example (a Python "
                      "loop over the batch).", UserWarning, stacklevel=3)
    leaves, spec = tree_flatten((args, kwargs))
    n = _bsize(level, leaves)
    results = []
    for b in range(n):
        a, k = tree_unflatten([_at(level, t, b) for t in leaves], spec)
        results.append(dispatch(name, raw, a, k))
    return _stack_results(level, results)


def _stack_results(level, results):
    outs, spec = tree_flatten(results[0])
    cols = [tree_flatten(r)[0] for r in results]
    stacked = []
    for j, o in enumerate(outs):
        if isinstance(o, Tensor):
            col = [c[j] for c in cols]
            stacked.append(BatchedTensor(dispatch("stack", _J.stack, (col, 0), {}), level))
        else:
            stacked.append(o)
    return tree_unflatten(stacked, spec)


def _unwrap(level, t):
    if type(t) is BatchedTensor and t._vmap_level == level:
        return t._phys, True
    return t, False


def _wrap(level, out):
    leaves, spec = tree_flatten(out)
    return tree_unflatten([BatchedTensor(t, level) if isinstance(t, Tensor) else t
                           for t in leaves], spec)


def _call(name, raw, *args, **kwargs):
    return dispatch(name, raw, args, kwargs)


def batch_of_examples(args, skip):
    """``(level, size)`` of the innermost running vmap when an argument whose index is not in
    ``skip`` is batched there, else None."""
    level = _state.level
    if not level:
        return None
    for i, a in enumerate(args):
        if i not in skip and any(type(t) is BatchedTensor and t._vmap_level == level
                                 for t in tree_flatten(a)[0]):
            return level, _state.sizes[-1]
    return None


def _reshape(t, shape):
    return dispatch("reshape", _M.reshape, (t, tuple(shape)), {})


def _lnd(t):
    return t.ndim if isinstance(t, Tensor) else np.ndim(t)


