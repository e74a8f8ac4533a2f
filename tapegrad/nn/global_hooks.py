"""Hooks on every module's calls (``torch.nn.modules.module.register_module_forward_hook``
and its kin): they run before each module's own hooks of the same kind."""

from collections import OrderedDict

from ..utils.hooks import add_hook

ANY = OrderedDict()  # every global hook's id: empty when there is none (the modules' fast path)
FORWARD_PRE = OrderedDict()
FORWARD = OrderedDict()
FORWARD_WITH_KWARGS = OrderedDict()
FORWARD_ALWAYS_CALLED = OrderedDict()
BACKWARD_PRE = OrderedDict()
BACKWARD = OrderedDict()


def register_module_forward_pre_hook(hook):
    """Call ``hook(module, args)`` before every module's ``forward`` (before its own pre-hooks);
    a returned value replaces ``args``. Returns a handle with ``remove()``."""
    return add_hook(FORWARD_PRE, hook, extra=[ANY])


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """Call ``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` with
    ``with_kwargs``) after every module's ``forward``, before its own forward hooks; a returned
    value replaces the output. Returns a handle with ``remove()``."""
    extra = [ANY] + ([FORWARD_WITH_KWARGS] if with_kwargs else []) + \
        ([FORWARD_ALWAYS_CALLED] if always_call else [])
    return add_hook(FORWARD, hook, extra=extra)


def register_module_full_backward_pre_hook(hook):
    """Call ``hook(module, grad_output)`` for every module's outputs, before its own backward
    pre-hooks. Returns a handle with ``remove()``."""
    return add_hook(BACKWARD_PRE, hook, extra=[ANY])


def register_module_full_backward_hook(hook):
    """Call ``hook(module, grad_input, grad_output)`` for every module's inputs, before its own
    full backward hooks. Returns a handle with ``remove()``."""
    return add_hook(BACKWARD, hook, extra=[ANY])
