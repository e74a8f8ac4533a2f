"""``Module``: the base class of layers, with PyTorch's registration, traversal and state."""

from collections import OrderedDict, namedtuple

import numpy as np

from ..grad_mode import no_grad
from ..memory_format import check_memory_format, memory_format
from ..optim.optimizer import zero_grads
from ..tensor import Tensor, bump_version
from ..torch_names.construct import typename
from .compile_method import CompileMethod
from .hooks import GLOBAL_HOOKS, add_hook, call_with_hooks, set_backward_hook_kind
from .module_paths import SubmodulePaths
from .parameter import Parameter

_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks",
               "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_backward_hooks",
               "_backward_pre_hooks")


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(s, n):
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    first = lines.pop(0)
    return first + "\n" + "\n".join(" " * n + line for line in lines)


def _parse_to(args, kwargs):
    """``Module.to``'s arguments -> ``(dtype, device)`` (either None when not asked for)."""
    from ..device import device as _device

    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    kwargs.pop("non_blocking", None)
    fmt = kwargs.pop("memory_format", None)  # checked, not applied: layouts are not tracked
    if fmt is not None and type(fmt) is not memory_format:
        check_memory_format(fmt, 0, "to")
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, Tensor):  # the tensor's dtype and device, as PyTorch
            dtype, device = a.dtype, a.device
        elif isinstance(a, (str, int, _device)) and not isinstance(a, bool) or a is None:
            device = a
        else:
            dtype = a
    if device is not None:
        from ..creation import _check_device
        from ..device import parse

        device = parse(device)
        _check_device(device)  # a clear RuntimeError when CUDA cannot be used
    if dtype is not None:
        dtype = np.dtype(dtype)
        if dtype.kind not in "fc":
            raise TypeError("nn.Module.to only accepts floating point or complex dtypes, but got "
                            f"desired dtype={dtype}")
    return dtype, device


def _converted(t, dtype, device, every=False):
    """``t``'s value, floats (``every``: all values) cast to ``dtype``, everything moved to
    ``device`` (None: left as it is); ``t``'s own storage when nothing changes."""
    from ..ops.elementwise import to

    dt = dtype if dtype is not None and (every or t.dtype.kind == "f") else None
    with no_grad():
        return to(t.detach(), dtype=dt, device=device)._arr()


class Module(SubmodulePaths, CompileMethod):
    """Base class of every layer: assign ``Parameter``s and ``Module``s as attributes.

    Example:
        >>> import tapegrad as tg
        >>> class Net(tg.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = tg.nn.Linear(3, 2)
        ...     def forward(self, x):
        ...         return self.fc(x).relu()
        >>> Net()
        Net(
          (fc): Linear(in_features=3, out_features=2, bias=True)
        )
        >>> [name for name, _ in Net().named_parameters()]
        ['fc.weight', 'fc.bias']
    """

    training: bool

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected argument")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        for name in _HOOK_DICTS:
            d[name] = OrderedDict()

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in _HOOK_DICTS:  # modules pickled before they had hooks
            self.__dict__.setdefault(name, OrderedDict())

    # ---- calling ----
    def forward(self, *input):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required '
                                  '"forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d.get("_forward_pre_hooks") or d.get("_forward_hooks") or d.get("_backward_hooks")
                or d.get("_backward_pre_hooks") or GLOBAL_HOOKS):
            return self.forward(*args, **kwargs)
        return call_with_hooks(self, args, kwargs)

    # ---- hooks ----
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before ``forward``; a returned value replaces ``args``
        (a non-tuple becomes a 1-tuple). With ``with_kwargs``, ``hook(module, args, kwargs)``
        returns ``None`` or ``(args, kwargs)``. Returns a handle with ``remove()``."""
        extra = [self._forward_pre_hooks_with_kwargs] if with_kwargs else []
        return add_hook(self._forward_pre_hooks, hook, prepend, extra)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        """Call ``hook(module, args, output)`` after ``forward`` (``hook(module, args, kwargs,
        output)`` with ``with_kwargs``); a returned value replaces the output. With
        ``always_call`` it also runs when ``forward`` raises. Returns a handle."""
        extra = ([self._forward_hooks_with_kwargs] if with_kwargs else []) + \
            ([self._forward_hooks_always_called] if always_call else [])
        return add_hook(self._forward_hooks, hook, prepend, extra)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are
        computed; a returned tuple replaces ``grad_output``. Returns a handle."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def register_full_backward_hook(self, hook, prepend=False):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        positional inputs are computed (``None`` for inputs that need none); a returned tuple
        replaces ``grad_input``. Returns a handle."""
        set_backward_hook_kind(self, full=True)
        return add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        """Deprecated (PyTorch's non-full hook): ``hook(module, grad_input, grad_output)`` on
        the autograd node that made the module's (first) output. Returns a handle."""
        set_backward_hook_kind(self, full=False)
        return add_hook(self._backward_hooks, hook, False)

    # ---- registration ----
    def _check_name(self, name, what):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {what} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string. Got {type(name).__name__}")
        if "." in name:  # (PyTorch names the module's offending name, not the others')
            got = f", got: {name}" if what == "module" else ""
            raise KeyError(f'{what} name can\'t contain "."{got}')
        if name == "":
            raise KeyError(f'{what} name can\'t be empty string ""')

    def register_parameter(self, name, param):
        """Add ``param`` (a ``Parameter`` or ``None``) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{typename(param)}' object to parameter "
                            f"'{name}' (torch.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             f"parameters must be created explicitly. To express '{name}' as a "
                             "function of another Tensor, compute the value in the forward() "
                             "method.")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (saved in ``state_dict`` if
        ``persistent``)."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{typename(tensor)}' object to buffer '{name}' "
                            "(torch Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child module under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")

        def remove_from(*dicts):
            for dd in dicts:
                if name in dd:
                    del dd[name]

        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules)
            self._non_persistent_buffers_set.discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{typename(value)}' as parameter '{name}' "
                                "(torch.nn.Parameter or None expected)")
            params[name] = None
        else:
            modules = d.get("_modules")
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError("cannot assign module before Module.__init__() call")
                remove_from(d, self._parameters, self._buffers)
                self._non_persistent_buffers_set.discard(name)
                modules[name] = value
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{typename(value)}' as child module "
                                    f"'{name}' (torch.nn.Module or None expected)")
                modules[name] = value
            else:
                buffers = d.get("_buffers")
                is_buffer = isinstance(value, Tensor) and getattr(value, "_is_buffer", False)
                if is_buffer:  # an nn.Buffer: registered, persistent or not as it says
                    self.register_buffer(name, value, value.persistent)
                elif buffers is not None and name in buffers:
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{typename(value)}' as buffer "
                                        f"'{name}' (torch.nn.Buffer, torch.Tensor or None "
                                        "expected)")
                    buffers[name] = value
                else:
                    object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            sub = d.get(key)
            if sub is not None and name in sub:
                return sub[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            sub = self.__dict__.get(key)
            if sub is not None and name in sub:
                del sub[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__()) + list(self._parameters) + list(self._modules) + \
            list(self._buffers)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    # ---- traversal ----
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield module_prefix + ("." if module_prefix else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, Parameter)`` pairs, submodules' with dotted names; shared ones once."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                       remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                       remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and on ``self``; returns ``self``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients ----
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to ``None`` by default, as PyTorch 2.x)."""
        zero_grads(self.parameters(), set_to_none)

    # ---- dtype / device ----
    def to(self, *args, **kwargs):
        """Move and/or cast parameters and buffers in place: ``to(device)``, ``to(dtype)``,
        ``to(device, dtype)``, ``to(tensor)`` or keywords. Only floating values change dtype;
        parameters and their ``.grad`` stay the same objects (their storage is replaced)."""
        dtype, device = _parse_to(args, dict(kwargs))
        if dtype is None and device is None:
            return self
        return self._convert(dtype, device)

    def _convert(self, dtype, device, every=False):
        from ..tensor import _make

        for m in self.modules():
            for p in m._parameters.values():
                if p is None:
                    continue
                new = _converted(p, dtype, device, every)
                if new is not p._arr():
                    p._data = new
                    bump_version(p)
                g = p._grad
                if g is not None:  # (the same .grad object, converted, as in PyTorch)
                    new = _converted(g, dtype, device, every)
                    if new is g._arr():
                        pass
                    elif g._base is None:
                        g._data = new
                        bump_version(g)
                    else:  # (a view keeps its base's storage: a new tensor instead)
                        p._grad = _make(new)
            for name, b in m._buffers.items():
                if b is not None:
                    new = _converted(b, dtype, device, every)
                    if new is not b._arr():
                        m._buffers[name] = _make(new)
        return self

    def double(self):
        return self._convert(np.dtype(np.float64), None)

    def float(self):
        return self._convert(np.dtype(np.float32), None)

    def half(self):
        return self._convert(np.dtype(np.float16), None)

    def type(self, dst_type):
        """Cast every parameter and buffer, integer ones too (PyTorch's ``Module.type``), to
        ``dst_type``: a dtype or a tensor type name such as ``"torch.DoubleTensor"``."""
        from ..creation import empty

        probe = empty(0).type(dst_type)  # (the name's parsing and errors are Tensor.type's)
        return self._convert(probe.dtype, probe.device if isinstance(dst_type, str) else None,
                             every=True)

    def share_memory(self):
        """A no-op returning the module (there is one process: storage is shared already)."""
        return self

    def cpu(self):
        """Move every parameter and buffer to the CPU."""
        return self.to("cpu")

    def cuda(self, device=None):
        """Move every parameter and buffer to the CUDA device."""
        return self.to("cuda" if device is None else device)

    # ---- state ----
    _version = 1  # (a subclass whose state layout changed raises it: see _load_from_state_dict)

    def get_extra_state(self):
        """Extra picklable state a subclass saves in its ``state_dict`` (with
        ``set_extra_state``) under the key ``_extra_state``."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be "
                           "called. Please file an issue at https://github.com/pytorch/pytorch/"
                           "issues/new?template=bug-report.yml to report this bug.")

    def set_extra_state(self, state):
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be "
                           "called. Please file an issue at https://github.com/pytorch/pytorch/"
                           "issues/new?template=bug-report.yml to report this bug.")

    def _has_extra_state(self, name):
        return getattr(type(self), name) is not getattr(Module, name)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        if self._has_extra_state("get_extra_state"):
            destination[prefix + "_extra_state"] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An ``OrderedDict`` of parameters and persistent buffers (detached, sharing storage),
        with each module's ``_version`` in its ``_metadata``, as PyTorch's."""
        if args:
            destination = args[0]
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local
        for hook in self._hooks_of("_state_dict_pre_hooks"):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        for hook in self._hooks_of("_state_dict_hooks"):
            result = hook(self, destination, prefix, local)
            if result is not None:  # (the private hooks may return a new dict)
                destination = result
        return destination

    # ---- state-dict hooks ----
    def _hooks_of(self, name):
        hooks = self.__dict__.get(name)
        return list(hooks.values()) if hooks else ()

    def _hook_dict(self, name):
        hooks = self.__dict__.get(name)
        if hooks is None:
            hooks = self.__dict__[name] = OrderedDict()
        return hooks

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` before ``state_dict`` saves this module."""
        return add_hook(self._hook_dict("_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` after; it changes the dict in
        place (returns None)."""
        def checked(module, state_dict, prefix, local_metadata):
            if hook(module, state_dict, prefix, local_metadata) is not None:
                raise RuntimeError("state_dict post-hook must return None")

        return add_hook(self._hook_dict("_state_dict_hooks"), checked)

    def _register_state_dict_hook(self, hook):
        """The older form: ``hook(module, state_dict, prefix, local_metadata)`` may return a
        new dict."""
        return add_hook(self._hook_dict("_state_dict_hooks"), hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` before this module loads its part."""
        return add_hook(self._hook_dict("_load_state_dict_pre_hooks"), hook)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` after this module and its children loaded; it
        may change the missing and unexpected keys (before strict loading checks them)."""
        return add_hook(self._hook_dict("_load_state_dict_post_hooks"), hook)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs):
        """Load this module's own parameters, persistent buffers and extra state from
        ``state_dict`` (keys under ``prefix``); a subclass may override it to migrate old
        checkpoints (``local_metadata["version"]`` is the ``_version`` they were saved with)."""
        own = [(n, v, "param") for n, v in self._parameters.items() if v is not None] + \
            [(n, v, "buffer") for n, v in self._buffers.items()
             if v is not None and n not in self._non_persistent_buffers_set]
        assign = getattr(self, "_load_assign", False)
        for name, cur, kind in own:
            key = prefix + name
            if key not in state_dict:
                if name == "num_batches_tracked" and getattr(state_dict, "_metadata", None) \
                        is None:
                    continue  # (a checkpoint from before the counter: PyTorch keeps it too)
                missing_keys.append(key)
                continue
            src = state_dict[key]
            if not isinstance(src, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  f"torch.Tensor or Tensor-like object from checkpoint but "
                                  f"received {type(src)}")
                continue
            if src.shape != cur.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape "
                                  f"{_size(src.shape)} from checkpoint, the shape in current "
                                  f"model is {_size(cur.shape)}.")
                continue
            with no_grad():
                if assign:
                    if kind == "param":
                        setattr(self, name, Parameter(src, cur.requires_grad))
                    else:
                        self._buffers[name] = src
                else:
                    cur.copy_(src)
        extra_key = prefix + "_extra_state"
        if self._has_extra_state("set_extra_state"):
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        if strict:
            local = {n for n, _, _ in own}
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    head = key[len(prefix):].split(".", 1)[0]
                    if head not in self._modules and head not in local:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy ``state_dict``'s tensors into parameters and buffers; with ``strict``, keys
        must match exactly. Returns ``(missing_keys, unexpected_keys)``."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, "_metadata", None)

        def load(m, prefix):  # (PyTorch's order: the module, its children, its post hooks)
            local = {} if metadata is None else metadata.get(prefix[:-1], {})
            for hook in m._hooks_of("_load_state_dict_pre_hooks"):
                hook(m, state_dict, prefix, local, True, missing, unexpected, errors)
            m._load_assign = assign
            try:
                m._load_from_state_dict(state_dict, prefix, local, True, missing, unexpected,
                                        errors)
            finally:
                del m._load_assign
            for name, child in m._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            for hook in m._hooks_of("_load_state_dict_post_hooks"):
                hook(m, _IncompatibleKeys(missing, unexpected))

        load(self, "")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ----
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({k}): " + _addindent(repr(m), 2) for k, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"


def _size(shape):
    return f"torch.Size({list(shape)})"
