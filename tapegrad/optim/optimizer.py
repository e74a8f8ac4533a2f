"""``Optimizer``: parameter groups, per-parameter state, ``state_dict``, ``zero_grad``.

Updates run on the parameters' storage (NumPy, in place, the version counter bumped), as
PyTorch's optimizers run under ``no_grad``; a CUDA parameter's update runs the same expressions
as device tensor ops (``_device.DeviceValues``), its state on its device.
"""

import copy
import functools
from collections import OrderedDict, defaultdict
from itertools import chain

import numpy as np

from ..creation import tensor as _tensor
from ..grad_mode import enable_grad
from ..tensor import Tensor, _make, bump_version
from ..utils.hooks import add_hook
from . import _device

_ndarray = np.ndarray


class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _arr(t):
    """``t``'s storage for an update, written in place: the ndarray (a complex one seen as its
    real and imaginary parts, as PyTorch's optimizers ``view_as_real`` complex parameters, their
    gradients and state), or for a CUDA tensor DeviceValues (the same NumPy expressions run as
    device ops, ``optim/_device.py``)."""
    return _device.values(t) if t.is_cuda else _as_real(t._arr())


def _as_real(a):
    """A complex array's (re, im) pairs as a real view of its storage; others as they are."""
    if a.dtype.kind != "c":
        return a
    return np.atleast_1d(a).view(a.real.dtype)


def _state_tensor(arr):
    """An optimizer state buffer: a tensor holding ``arr`` (updated in place), on the device
    of the values it was made from."""
    return arr.t if type(arr) is _device.DeviceValues else _make(arr)


def _state_like(p, fill=0.0):
    """A state buffer of ``p``'s shape and dtype (complex for a complex parameter, as PyTorch's
    ``zeros_like``/``full_like``) holding ``fill``."""
    return _state_tensor(np.full_like(_arr(p) if p.is_cuda else p._arr(), fill))


def _state_copy(p, values):
    """A state buffer holding a copy of ``values`` (an update array: for a complex parameter,
    its real view) in ``p``'s shape and dtype."""
    values = values.copy()
    if not p.is_cuda and p.dtype.kind == "c":
        values = values.view(p.dtype).reshape(p.shape)
    return _state_tensor(values)


def _scalar_state(value):
    """A scalar state tensor of the default dtype, where PyTorch keeps NAdam's mu_product and
    ASGD's eta and mu (their rounding shows in the trajectory)."""
    from ..creation import get_default_dtype

    return _state_tensor(np.asarray(value, np.dtype(get_default_dtype())))


def _step_tensor(value):
    return _tensor(float(value))


def _split_names(param_group):
    """``(name, tensor)`` pairs (``named_parameters()``) become the tensors, their names kept
    under ``"param_names"`` as PyTorch does; a mix of named and bare tensors is refused."""
    tensors, names = [], []
    for p in param_group["params"]:
        if isinstance(p, tuple):
            names.append(p[0])
            p = p[1]
        tensors.append(p)
    param_group["params"] = tensors
    if names:
        if len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        param_group["param_names"] = names


def check_tensor_lr(lr):
    """PyTorch's refusal of a learning rate given as a tensor of more than one element."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


class Optimizer:
    """Base class: ``params`` is an iterable of tensors or of dicts (parameter groups with
    their own options); ``defaults`` fills the options a group leaves out."""

    def __init__(self, params, defaults):
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}")
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += "\n"
            s += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            param_group["params"] = list(params)
        _split_names(param_group)
        for p in param_group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not (self.defaults.get("differentiable") or p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)
        ids = [id(p) for p in param_group["params"]]
        if len(set(ids)) != len(ids):
            import warnings

            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error", stacklevel=3)
        seen = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if seen & set(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset every parameter's gradient (to ``None`` by default, as PyTorch 2.x)."""
        zero_grads(chain.from_iterable(g["params"] for g in self.param_groups), set_to_none)

    def _check_fused(self):
        """PyTorch's refusals of ``fused=True`` at construction (SGD, Adam, AdamW, Adagrad)."""
        if self.defaults.get("fused"):
            if self.defaults.get("differentiable"):
                raise RuntimeError("`fused` does not support `differentiable`")
            if self.defaults.get("foreach"):
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    @staticmethod
    def _check_non_negative(**options):
        """Raise PyTorch's ``ValueError`` for the first of ``options`` (in the order given)
        that is not ``>= 0``: "Invalid learning rate: -1", "Invalid epsilon value: ...",
        else "Invalid <name> value: ..." (a tensor ``lr`` of more than one element first:
        "Tensor lr must be 1-element")."""
        check_tensor_lr(options.get("lr"))
        for name, value in options.items():
            if not 0.0 <= value:
                raise ValueError(f"Invalid {_OPTION_LABELS.get(name, name + ' value')}: {value}")

    _capturable_state = "params and state_steps"  # (named in the refusal of capturable=True)
    _capturable_devices = ['cuda', 'xpu', 'hpu', 'privateuseone', 'xla']

    def _params_with_grad(self, group):
        """The step's walk over ``group``: ``(p, g, data)`` for each parameter with a gradient,
        ``g`` the gradient as an array of ``p``'s dtype (negated when the group maximizes),
        ``data`` the parameter's storage, updated in place by the caller."""
        maximize, capturable = group["maximize"], group.get("capturable")
        recorded, fused = group.get("differentiable"), group.get("fused")
        for p in group["params"]:
            g = _grad_attr(p)
            if g is None:
                continue
            if capturable and not p.is_cuda:  # (PyTorch's refusal, at the step as its)
                raise AssertionError(f"If capturable=True, {self._capturable_state} must be on "
                                     f"supported devices: {self._capturable_devices}.")
            if recorded and p.requires_grad:
                _refuse_recorded_step(p)
            if fused and p.dtype.kind != "f":
                raise RuntimeError("`fused=True` requires all the params to be floating point "
                                   f"Tensors of supported devices: {_FUSED_DEVICES} but "
                                   f"torch.{p.dtype} and {p.device.type}")
            d, gd = p._data, g._data
            if type(d) is _ndarray and type(gd) is _ndarray and gd.dtype is d.dtype and \
                    not maximize and d.dtype.kind == "f":
                yield p, gd, d  # the common case: what _grad_of and _arr return, read directly
            else:
                yield p, _grad_of(p, maximize), _arr(p)

    def _advance_step(self, p, zero_buffers=None):
        """``(state, step)`` for ``p`` with its ``step`` counter advanced by one. Given
        ``zero_buffers`` (names), a first step (empty state: PyTorch's lazy init) starts the
        counter at 0 and adds, in order, a zero buffer shaped like ``p`` for each name."""
        st = self.state[p]
        if zero_buffers is not None and len(st) == 0:
            st["step"] = _step_tensor(0.0)
            for name in zero_buffers:
                st[name] = _state_like(p)
        step = float(st["step"]) + 1
        st["step"] = _step_tensor(step)
        return st, step

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def step(self, closure=None):
        raise NotImplementedError

    # ---- hooks (PyTorch's: around each step, and around saving and loading the state) ----
    def _hooks(self, name):
        hooks = self.__dict__.get(name)
        if hooks is None:
            hooks = self.__dict__[name] = OrderedDict()
        return hooks

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each ``step``; it may return new
        ``(args, kwargs)`` for the step."""
        self._hook_steps()
        return add_hook(self._hooks("_step_pre_hooks"), hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each ``step``."""
        self._hook_steps()
        return add_hook(self._hooks("_step_post_hooks"), hook)

    def _hook_steps(self):
        """Route this optimizer's ``step`` through its hooks (from the first one registered:
        an optimizer without hooks steps as before)."""
        if "step" in self.__dict__:
            return
        step = type(self).step

        @functools.wraps(step)
        def hooked(*args, **kwargs):
            args = (self,) + args  # (the hooks see the step's arguments with self first)
            for hook in list(self._hooks("_step_pre_hooks").values()):
                res = hook(self, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError(f"{hook} must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            out = step(*args, **kwargs)
            for hook in list(self._hooks("_step_post_hooks").values()):
                hook(self, args, kwargs)
            return out

        self.step = hooked

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before ``state_dict`` builds the dict."""
        return add_hook(self._hooks("_state_dict_pre_hooks"), hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` after; a dict it returns replaces the result."""
        return add_hook(self._hooks("_state_dict_post_hooks"), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` before ``load_state_dict``; a dict it returns is
        loaded instead."""
        return add_hook(self._hooks("_load_state_dict_pre_hooks"), hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after ``load_state_dict``."""
        return add_hook(self._hooks("_load_state_dict_post_hooks"), hook, prepend)

    # ---- state ----
    def state_dict(self):
        """``{"state": {index: state}, "param_groups": [options with "params": indices]}``."""
        for hook in list(self._hooks("_state_dict_pre_hooks").values()):
            hook(self)
        result = self._state_dict()
        for hook in list(self._hooks("_state_dict_post_hooks").values()):
            res = hook(self, result)
            if res is not None:
                result = res
        return result

    def _state_dict(self):
        mapping = {}
        index = 0
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                if id(p) not in mapping:
                    mapping[id(p)] = index
                    index += 1
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {mapping[id(p)]: v for p, v in self.state.items() if id(p) in mapping}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore state and options saved by ``state_dict`` (a deep copy is taken)."""
        for hook in list(self._hooks("_load_state_dict_pre_hooks").values()):
            res = hook(self, state_dict)
            if res is not None:
                state_dict = res
        self._load_state_dict(state_dict)
        for hook in list(self._hooks("_load_state_dict_post_hooks").values()):
            hook(self)

    def _load_state_dict(self, state_dict):
        state_dict = copy.deepcopy(state_dict)
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        param_lens = (len(g["params"]) for g in groups)
        saved_lens = (len(g["params"]) for g in saved_groups)
        if any(p_len != s_len for p_len, s_len in zip(param_lens, saved_lens)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                p = id_map[k]
                state[p] = {key: (_cast(val, p) if key != "step" else val)
                            for key, val in v.items()}
            else:
                state[k] = v
        new_groups = []
        for group, ng in zip(groups, saved_groups):
            ng["params"] = group["params"]
            if "param_names" in group and "param_names" not in ng:  # (saved names win)
                ng["param_names"] = group["param_names"]
            new_groups.append(ng)
        self.__setstate__({"state": state, "param_groups": new_groups})


def zero_grads(params, set_to_none=True):
    """Reset the gradients of ``params`` (``Optimizer.zero_grad`` and ``Module.zero_grad``):
    set them to ``None``, or with ``set_to_none=False`` fill them with zeros in place."""
    for p in params:
        g = _grad_attr(p)
        if g is None:
            continue
        if set_to_none:
            p._grad = None  # (the setter checks only a tensor assigned)
        else:  # detached first, as PyTorch's: a gradient with history (create_graph) loses it
            if g.grad_fn is not None:
                g.detach_()
            elif g.requires_grad:
                g.requires_grad_(False)
            g.zero_()


def _refuse_recorded_step(p):
    """differentiable=True: PyTorch records the step, in place, so a leaf parameter raises its
    in-place error; tapegrad's steps are not recorded, and a gradient through one would be
    silently wrong, so it refuses."""
    if p.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    raise NotImplementedError("differentiable=True (an optimizer step recorded for autograd, "
                              "gradients flowing through the update) is not supported by "
                              "tapegrad")


def _grad_attr(p):
    """``p.grad``, read without the property for a leaf (the property warns only for a
    non-leaf that does not retain its gradient)."""
    return p._grad if p._seg is None else p.grad


_OPTION_LABELS = {"lr": "learning rate", "eps": "epsilon value"}
_FUSED_DEVICES = ['mps', 'cuda', 'xpu', 'hpu', 'cpu', 'mtia', 'privateuseone']


def _cast(value, param):
    if isinstance(value, Tensor) and value.dtype.kind == "f":
        if param.is_cuda or value.is_cuda:  # state follows its parameter to its device
            return _make(value.detach().to(param.device, param.dtype)._arr().copy())
        return _make(np.asarray(value._arr(), dtype=param.dtype).copy())
    if isinstance(value, list):
        return [_cast(v, param) for v in value]
    return value


def _typename(o):
    if isinstance(o, Tensor):
        return "torch." + {"float64": "DoubleTensor", "float32": "FloatTensor"}.get(
            str(o.dtype), "Tensor")
    return type(o).__module__ + "." + type(o).__name__ if type(o).__module__ != "builtins" \
        else type(o).__name__


def _grad_of(p, maximize=False):
    """The gradient of ``p`` as an array of ``p``'s dtype (negated when maximizing)."""
    if p.is_cuda:
        return _device.grad_values(p, maximize)
    g = _as_real(np.asarray(p.grad._arr(), dtype=p.dtype))
    return -g if maximize else g


def _touch(p):
    bump_version(p)
