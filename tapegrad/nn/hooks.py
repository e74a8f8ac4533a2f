"""Module hooks: forward pre-hooks, forward hooks and full backward (pre-)hooks.

Backward hooks work as PyTorch's: the module's tensor inputs and outputs pass through identity
``Function``s. The sweep reaches the output identity first: its backward records the gradients
of the outputs (backward pre-hooks may replace them). It reaches the input identity when the
gradients of the inputs are complete: its backward calls the hooks with
``(module, grad_input, grad_output)``, and what a hook returns replaces ``grad_input``.
"""

import warnings

from ..autograd.function import Function
from ..creation import zeros
from ..grad_mode import is_grad_enabled
from ..tensor import Tensor
from ..torch_names.construct import typename
from ..utils.hooks import RemovableHandle, add_hook  # noqa: F401 (re-exported)
from . import global_hooks as G
from .global_hooks import ANY as GLOBAL_HOOKS  # noqa: F401 (re-exported)


class BackwardHookFunction(Function):
    """Identity on the tensors that require grad; its backward hands the gradients to the
    ``BackwardHook`` (``on_output`` for outputs, ``on_input`` for inputs). PyTorch's name, so
    the node is ``BackwardHookFunctionBackward`` and in-place errors name it as PyTorch's do."""

    generate_vmap_rule = True  # under vmap: an identity on the batch, hooks see the batch

    @staticmethod
    def forward(ctx, callback, *tensors):
        ctx.callback = callback
        ctx.set_materialize_grads(False)  # the hooks see None for an unused output
        return tensors

    @staticmethod
    def backward(ctx, *grads):
        return (None, *ctx.callback(grads))


def _check_replacements(old, new, index):
    """PyTorch's checks of the gradients a module backward hook returns in place of ``old``
    (at the positions ``index`` that carry gradients): the same tensor type, then shape."""
    for i in index:
        a, b = old[i], new[i]
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            continue
        if typename(a) != typename(b):
            raise RuntimeError(f"hook 'hook' has changed the type of value (was {typename(a)} "
                               f"got {typename(b)})")
        if tuple(a.shape) != tuple(b.shape):
            raise RuntimeError("hook 'hook' has changed the size of value")


class BackwardHook:
    """The backward hooks of one module call (PyTorch's ``torch.utils.hooks.BackwardHook``)."""

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = 0
        self.input_index = self.output_index = None

    def _wrap(self, callback, values):
        """``values`` with its tensors that require grad passed through the identity; also
        the positions wrapped (``None`` when nothing needs a gradient)."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor) and v.requires_grad]
        if not index or not is_grad_enabled():
            return values, None
        new = BackwardHookFunction.apply(callback, *(values[i] for i in index))
        out = list(values)
        for i, t in zip(index, new):
            out[i] = t
        return tuple(out), index

    @staticmethod
    def _pack(index, values, n):
        res = [None] * n
        for i, v in zip(index, values):
            res[i] = v
        return tuple(res)

    def setup_input_hook(self, args):
        self.n_inputs = len(args)
        args, self.input_index = self._wrap(self._on_input, args)
        # PyTorch reports zeros for floating tensor inputs that need no gradient, as long as
        # some input needs one.
        self.input_zeros = [(i, a.shape, a.dtype) for i, a in enumerate(args)
                            if isinstance(a, Tensor) and not a.requires_grad
                            and a.dtype.kind in "fc"]
        return args

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        values = (result,) if single else result
        self.n_outputs = len(values)
        values, self.output_index = self._wrap(self._on_output, values)
        return values[0] if single else values

    def _on_output(self, grads):
        self.grad_outputs = self._pack(self.output_index, grads, self.n_outputs)
        for hook in self.user_pre_hooks:
            res = hook(self.module, self.grad_outputs)
            if res is None:
                continue
            if len(res) != len(self.grad_outputs):
                raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                   f"got {len(res)}, but expected {len(self.grad_outputs)}")
            _check_replacements(self.grad_outputs, res, self.output_index)
            self.grad_outputs = tuple(res)
        grad_outputs = self.grad_outputs
        if self.input_index is None:  # no input needs a gradient: the hooks run now
            warnings.warn("Full backward hook is firing when gradients are computed with "
                          "respect to module outputs since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=5)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.user_hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(grad_outputs[i] for i in self.output_index)

    def _on_input(self, grads):
        if self.grad_outputs is None:
            # The gradient reached the inputs without passing through the outputs (e.g. a
            # gradient of a gradient): there is nothing for the hooks to report.
            return grads
        res = list(self._pack(self.input_index, grads, self.n_inputs))
        for i, shape, dtype in self.input_zeros:
            res[i] = zeros(shape, dtype=dtype)
        res = tuple(res)
        for hook in self.user_hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            _check_replacements(res, out, self.input_index)
            res = tuple(out)
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)


def call_with_hooks(module, args, kwargs):
    """``module(*args, **kwargs)`` with its hooks, in PyTorch's order: forward pre-hooks,
    backward hooks on the inputs, ``forward``, forward hooks, backward hooks on the outputs."""
    result = None
    called = set()
    try:
        for hook_id, hook in [*G.FORWARD_PRE.items(), *module._forward_pre_hooks.items()]:
            if hook_id in module._forward_pre_hooks_with_kwargs:
                res = hook(module, args, kwargs)
                if res is not None:
                    if not (isinstance(res, tuple) and len(res) == 2):
                        raise RuntimeError("forward pre-hook must return None or a tuple of "
                                           f"(new_args, new_kwargs), but got {res}.")
                    args, kwargs = res
            else:
                res = hook(module, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)

        bw_hook = None
        full = module.__dict__.get("_is_full_backward_hook") is not False
        if (full and module._backward_hooks) or module._backward_pre_hooks or G.BACKWARD or \
                G.BACKWARD_PRE:  # (the global hooks first, as PyTorch's)
            bw_hook = BackwardHook(
                module, [*G.BACKWARD.values(), *(module._backward_hooks.values() if full else ())],
                [*G.BACKWARD_PRE.values(), *module._backward_pre_hooks.values()])
            args = bw_hook.setup_input_hook(args)

        result = module.forward(*args, **kwargs)
        for hook_id, hook in [*G.FORWARD.items(), *module._forward_hooks.items()]:
            if hook_id in module._forward_hooks_always_called or \
                    hook_id in G.FORWARD_ALWAYS_CALLED:
                called.add(hook_id)
            if hook_id in module._forward_hooks_with_kwargs or hook_id in G.FORWARD_WITH_KWARGS:
                res = hook(module, args, kwargs, result)
            else:
                res = hook(module, args, result)
            if res is not None:
                result = res

        if bw_hook is not None:
            if not isinstance(result, (Tensor, tuple)):
                warnings.warn("For backward hooks to be called, module output should be a "
                              f"Tensor or a tuple of Tensors but received {type(result)}",
                              stacklevel=3)
            else:
                result = bw_hook.setup_output_hook(result)
        if not full and module._backward_hooks:
            _attach_node_hooks(module, args, result)
        return result
    except Exception:
        for hook_id, hook in [*G.FORWARD.items(), *module._forward_hooks.items()]:
            if hook_id not in module._forward_hooks_always_called and \
                    hook_id not in G.FORWARD_ALWAYS_CALLED or hook_id in called:
                continue
            try:
                if hook_id in module._forward_hooks_with_kwargs or \
                        hook_id in G.FORWARD_WITH_KWARGS:
                    res = hook(module, args, kwargs, result)
                else:
                    res = hook(module, args, result)
                if res is not None:
                    result = res
            except Exception as e:  # noqa: BLE001 - reported as a warning, as PyTorch
                warnings.warn("module forward hook with ``always_call=True`` raised an exception "
                              f"that was silenced as another error was raised in forward: {e}",
                              stacklevel=3)
        raise


_MIXED_HOOKS = ("Cannot use both regular backward hooks and full backward hooks on a single "
                "Module. Please use only one of them.")


def set_backward_hook_kind(module, full):
    """Record whether ``module``'s backward hooks are full ones or the deprecated kind (PyTorch
    refuses a mix)."""
    if module.__dict__.get("_is_full_backward_hook", full) is not full:
        raise RuntimeError(_MIXED_HOOKS)
    module.__dict__["_is_full_backward_hook"] = full


def _attach_node_hooks(module, args, result):
    """The deprecated backward hooks: on the node of the first tensor of ``result`` (its
    grad_input/grad_output are that node's), with PyTorch's warnings where they miss some."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) \
            else var[0]
    node = var.grad_fn
    if node is None:
        return
    for hook in list(module._backward_hooks.values()):
        node.register_hook(lambda gi, go, hook=hook: hook(module, gi, go))
    reason = _partial_hook_reason(args, result, node)
    if reason:
        warnings.warn(f"Using {reason} is deprecated and will be removed in future versions. "
                      f"This hook will be missing some {_MISSING[reason]}", FutureWarning,
                      stacklevel=4)


_MISSING = {
    "non-full backward hooks on a Module that does not return a single Tensor or a tuple of "
    "Tensors": "of the grad_output. Please use register_full_backward_hook to get the "
               "documented behavior.",
    "non-full backward hooks on a Module that does not take as input a single Tensor or a "
    "tuple of Tensors": "of the grad_input. Please use register_full_backward_hook to get the "
                        "documented behavior.",
    "a non-full backward hook when outputs are nested in python data structure": "grad_output.",
    "a non-full backward hook when outputs are generated by different autograd Nodes":
        "grad_output. Please use register_full_backward_hook to get the documented behavior.",
    "a non-full backward hook when the forward contains multiple autograd Nodes":
        "grad_input. Please use register_full_backward_hook to get the documented behavior.",
}


def _partial_hook_reason(inputs, result, node):
    """Why PyTorch warns that a deprecated hook on ``node`` misses gradients (None: it does
    not)."""
    reasons = list(_MISSING)
    outputs = (result,) if isinstance(result, Tensor) else result
    if not (isinstance(outputs, tuple) and all(isinstance(r, Tensor) for r in outputs)):
        return reasons[0]
    if not all(isinstance(i, Tensor) for i in inputs):
        return reasons[1]
    out_nodes = {r.grad_fn for r in outputs if r.grad_fn is not None}
    if not out_nodes or (len(out_nodes) == 1 and node not in out_nodes):
        return reasons[2]
    if len(out_nodes) > 1:
        return reasons[3]
    in_nodes = {i.grad_fn for i in inputs if i.grad_fn is not None}
    if in_nodes != {n for n, _ in node.next_functions}:
        return reasons[4]
    return None
