"""``register_parametrization`` and its companions, as ``torch.nn.utils.parametrize``'s: a
parameter or buffer ``name`` of a module becomes a property computed at each access from the
original tensor(s) (``module.parametrizations[name].original``, or ``original0``,
``original1``, ... when the first parametrization's ``right_inverse`` returns several) by a
chain of modules, so training updates the originals and gradients flow through the chain's ops.

As PyTorch does, the module's class is swapped for a subclass made per module
(``Parametrized<Name>``) that holds the properties; removing the last parametrization restores
it. ``cached()`` computes each parametrized tensor once inside its block.
"""

import copy
from contextlib import contextmanager

from ...grad_mode import no_grad
from ...tensor import Tensor
from ..container import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "ParametrizationList"]

_cache = {}
_caching = [0]


@contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed once (at its first access)."""
    _caching[0] += 1
    try:
        yield
    finally:
        _caching[0] -= 1
        if not _caching[0]:
            _cache.clear()


def _register(module, name, value, like):
    """``value`` under ``name`` as a parameter when ``like`` is one, else as a buffer."""
    if isinstance(like, Parameter):
        module.register_parameter(name, value if isinstance(value, Parameter)
                                  else Parameter(value.detach(), like.requires_grad))
    else:
        module.register_buffer(name, value)


def _set_data(original, value):
    """``original`` holds ``value`` (its shape and dtype too), the same object kept."""
    original.data = value.detach().clone()


class ParametrizationList(ModuleList):
    """The chain of parametrizations of one tensor, with its original(s)."""

    def __init__(self, modules, original, unsafe=False):
        if not modules:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        new = original
        with no_grad():
            for m in reversed(list(self)):
                new = _right_inverse(m, new)
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError("When `right_inverse` outputs one tensor, it may not change "
                                 f"the dtype.\noriginal.dtype: {original.dtype}\n"
                                 f"right_inverse(original).dtype: {new.dtype}")
            _set_data(original, new)
            _register(self, "original", original, original)
        else:
            for i, t in enumerate(new):
                if not isinstance(t, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of "
                                     f"tensors (list, tuple...). Got element {i} of the sequence "
                                     f"with type {type(t).__name__}.")
                _register(self, f"original{i}", t.detach().clone() if isinstance(
                    original, Parameter) else t, original)
        if not unsafe:
            _check(self(), original, "unparametrized {}: {}\nparametrized {}: {}", "`unsafe`")

    def _originals(self):
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def right_inverse(self, value):
        """Set the original(s) so that the chain gives ``value`` (assigning to the property)."""
        with no_grad():
            for m in reversed(list(self)):
                if not hasattr(m, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(m).__name__} does not implement "
                                       "right_inverse.")
                value = m.right_inverse(value)
            new = (value,) if self.is_tensor else tuple(value)
            if len(new) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of length "
                                 f"{self.ntensors}. Got a sequence of length {len(new)}.")
            for original, t in zip(self._originals(), new):
                _set_data(original, t)

    def forward(self):
        x = self[0](*self._originals())
        for m in list(self)[1:]:
            x = m(x)
        return x


def _check(z, original, detail, flag):
    """PyTorch's errors for a parametrization that changes the tensor's dtype or shape."""
    if not isinstance(z, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(z).__name__}.")
    for what, a, b in (("dtype", original.dtype, z.dtype),
                       ("shape", tuple(original.shape), tuple(z.shape))):
        if a != b:
            raise ValueError(f"Registering a parametrization may not change the {what} of the "
                             f"tensor, unless {flag} flag is enabled.\n"
                             + detail.format(what, a, what, b))


def _right_inverse(m, value):
    """``m.right_inverse(value)``; the identity where ``m`` has none (or raises
    NotImplementedError)."""
    if hasattr(m, "right_inverse"):
        try:
            return m.right_inverse(value)
        except NotImplementedError:
            pass
    return value


def _property(name):
    def get(self):
        chain = self.parametrizations[name]
        if not _caching[0]:
            return chain()
        key = (id(self), name)
        if key not in _cache:
            _cache[key] = chain()
        return _cache[key]

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)

    return property(get, set_)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` the output of ``parametrization`` applied to the original
    (a second registration on the same name chains after the first)."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            _check(parametrization(y), y, f"module.{tensor_name}.{{}}: {{}}\n"
                   f"parametrization(module.{tensor_name}).{{}}: {{}}", "the `unsafe`")
        module.parametrizations[tensor_name].append(parametrization)
        return module
    if tensor_name not in module._parameters and tensor_name not in module._buffers:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'")
    original = getattr(module, tensor_name)
    chain = ParametrizationList([parametrization], original, unsafe=unsafe)
    delattr(module, tensor_name)
    if not is_parametrized(module):
        module.__class__ = _parametrized_class(module.__class__)
        module.parametrizations = ModuleDict()
    setattr(module.__class__, tensor_name, _property(tensor_name))
    module.parametrizations[tensor_name] = chain
    return module


def _parametrized_class(cls):
    """The subclass of ``cls`` a parametrized module gets (one per module, as PyTorch's)."""
    dct = {"__getstate__": _refuse_pickle}
    if not hasattr(cls, "__deepcopy__"):  # deepcopy must not reach __getstate__
        dct["__deepcopy__"] = _deepcopy_parametrized
    return type(f"Parametrized{cls.__name__}", (cls,), dct)


def reduce_parametrized(module):
    """A pickle reduction of parametrized ``module`` (None for any other object), for the
    tools that carry modules to other processes (``tapegrad.distributed``'s own pickler):
    plain pickling refuses these modules, as PyTorch's does, because the generated class
    cannot be found by name; this rebuilds it from the original class instead."""
    if not isinstance(module, Module) or not is_parametrized(module):
        return None
    return (_rebuild_parametrized,
            (type_before_parametrizations(module), tuple(module.parametrizations.keys())),
            dict(module.__dict__))


def _rebuild_parametrized(cls, names):
    module = cls.__new__(cls)
    module.__class__ = _parametrized_class(cls)
    for name in names:
        setattr(module.__class__, name, _property(name))
    return module


def _refuse_pickle(self):
    # the generated class cannot be found by name when unpickling (a Dask worker would get
    # PicklingError); PyTorch's words, pointing at state_dict
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict(). See:\n"
        "https://pytorch.org/tutorials/beginner/saving_loading_models.html"
        "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training")


def _deepcopy_parametrized(self, memo):
    done = memo.get(id(self))
    if done is not None:
        return done
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = copy.deepcopy(self.__dict__, memo)
    return replica


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization (on ``tensor_name``, if given)."""
    chains = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(chains, ModuleDict):
        return False
    return len(chains) > 0 if tensor_name is None else tensor_name in chains


def type_before_parametrizations(module):
    """The module's class as it was before any parametrization."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization`` on ``tensor_name``: the tensor becomes a plain
    parameter (or buffer) again, holding its parametrized value (``leave_parametrized``) or
    the original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with no_grad():
                _set_data(original, getattr(module, tensor_name))
    else:
        if not leave_parametrized:
            raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
                             "that is parametrized in terms of a sequence of tensors.")
        with no_grad():
            t = getattr(module, tensor_name).detach()
        like = chain.original0
        original = Parameter(t, like.requires_grad) if isinstance(like, Parameter) else t
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register(module, tensor_name, original, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module
