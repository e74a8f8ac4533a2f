"""``functional_call``: a module called with parameters and buffers given by name.

The tensors stand in for the module's own ones for the duration of the call (by dotted name:
``"fc.weight"``) and the module gets its own back afterwards, also when the call raises. So a
module becomes a function of its parameters, which the transforms can differentiate and map:
``vmap(grad(lambda p, x: loss(functional_call(model, p, (x,)))), in_dims=(None, 0))`` gives
per-example gradients.
"""

from collections.abc import Sequence

__all__ = ["functional_call"]


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the named tensors of ``parameter_and_buffer_dicts`` (a
    dict, or a sequence of dicts with distinct keys) in place of its parameters and buffers.
    ``tie_weights``: a parameter the module uses under several names (tied weights) is
    replaced under all of them; ``strict``: every parameter and buffer must be given."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        dicts = (dicts,)
    elif not isinstance(dicts, Sequence):
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of "
                         f"dicts, but got {type(dicts)}")
    elif not all(isinstance(d, dict) for d in dicts):
        raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
    given = {}
    for d in dicts:
        repeated = [k for k in d if k in given]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of "
                             "functional call is ambiguous")
        given.update(d)
    own = dict(module.named_parameters(remove_duplicate=False))
    own.update(module.named_buffers(remove_duplicate=False))
    if tie_weights:
        given = _untied(own, given)
    if strict:
        _check_keys(module, own, given)
    args = args if isinstance(args, tuple) else (() if args is None else (args,))
    swapped = []
    try:
        for name, value in given.items():
            swapped.append(_swap(module, name, value))
        return module(*args, **(kwargs or {}))
    finally:
        for owner, attr, old in reversed(swapped):
            _put(owner, attr, old)


_MISSING = object()  # (an attribute the module did not have: deleted again afterwards)


def _swap(module, name, value):
    """Put ``value`` in place of the module's tensor ``name`` (a parameter, a buffer or a plain
    tensor attribute; a new attribute where there is none, as PyTorch's); returns what
    ``_put`` needs to restore it."""
    from ..tensor import Tensor

    if not isinstance(value, Tensor):
        raise TypeError(f"{value} is not an instance of torch.Tensor")
    owner, attr = _owner(module, name)
    if attr in owner._parameters or attr in owner._buffers:
        table = owner._parameters if attr in owner._parameters else owner._buffers
        old = table[attr]
    else:
        old = getattr(owner, attr, _MISSING)
        if old is not _MISSING and not isinstance(old, Tensor):
            raise TypeError(f"attribute `{attr}`: {old} is not an instance of torch.Tensor")
    _put(owner, attr, value)
    return owner, attr, old


def _put(owner, attr, value):
    if attr in owner._parameters:
        owner._parameters[attr] = value  # (the table: a plain tensor may stand for a Parameter)
    elif attr in owner._buffers:
        owner._buffers[attr] = value
    elif value is _MISSING:
        delattr(owner, attr)
    else:
        setattr(owner, attr, value)


def _owner(module, name):
    """The submodule holding the dotted ``name``, and the attribute's own name (with the errors
    of PyTorch's walk: a part missing, or a part that is not a module)."""
    from ..nn.module import Module

    *path, attr = name.split(".")
    for k, part in enumerate(path):
        sub = getattr(module, part, _MISSING)
        if sub is _MISSING:
            raise AttributeError(f"{module._get_name()} has no attribute `{part}`")
        if not isinstance(sub, Module):
            raise TypeError(f"submodule `{'.'.join(path[:k + 1])}`: {sub} is not an instance of "
                            "torch.nn.Module")
        module = sub
    return module, attr


def _untied(own, given):
    """``given`` with a tensor the module uses under several names (tied weights) given under
    all of them; several different values for one tied tensor are ambiguous."""
    names_of = {}
    for name, t in own.items():
        names_of.setdefault(id(t), []).append(name)
    out = dict(given)
    for name in given:
        tied = names_of.get(id(own.get(name)), ())
        if len(tied) < 2:
            continue
        if len({id(given[k]) for k in tied if k in given}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(tied)}, "
                             "which are tied. Consider using tie_weights=False")
        for other in tied:
            out[other] = given[name]
    return out


def _check_keys(module, own, given):
    missing = sorted(k for k in own if k not in given)
    unexpected = sorted(k for k in given if k not in own)
    if missing or unexpected:
        lines = []
        if unexpected:
            lines.append("Unexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + ".")
        if missing:
            lines.append("Missing key(s): " + ", ".join(f"'{k}'" for k in missing) + ".")
        raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:\n\t" +
                           "\n\t".join(lines))
