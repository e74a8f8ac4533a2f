"""``stack_module_state``: the parameters and buffers of several models of one class, stacked
along a new leading dim, for ``vmap`` over ``functional_call`` (model ensembling).

Example:
    >>> import tapegrad as tg
    >>> models = [tg.nn.Linear(3, 2) for _ in range(4)]
    >>> params, buffers = tg.func.stack_module_state(models)
    >>> params["weight"].shape, params["weight"].is_leaf, buffers
    ((4, 2, 3), True, {})
    >>> x = tg.randn(5, 3)
    >>> run = lambda p, b, x: tg.func.functional_call(models[0], (p, b), (x,))
    >>> tg.func.vmap(run, in_dims=(0, 0, None))(params, buffers, x).shape
    (4, 5, 2)
"""

from ..ops.join import stack

__all__ = ["stack_module_state"]


def stack_module_state(models):
    """``(params, buffers)``: dicts from the names of the models' parameters and buffers to
    those of every model stacked (dim 0 indexes the models), as ``torch.func``'s. A stacked
    parameter is a new leaf (``requires_grad`` when the models' parameters require grad): it
    shares nothing with the models, which training the stack leaves as they are."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same "
                           "training/eval mode.")
    first = type(models[0])
    if not all(type(m) is first for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: _stacked_leaf([p[k] for p in all_params], k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: _stacked_leaf([b[k] for b in all_buffers], k) for k in all_buffers[0]}
    return params, buffers


def _stacked_leaf(tensors, name):
    grads = [t.requires_grad for t in tensors]
    if any(grads) and not all(grads):
        raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
    result = stack(list(tensors))
    return result.detach().requires_grad_() if all(grads) else result
