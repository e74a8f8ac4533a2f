"""Activation checkpointing (``torch.utils.checkpoint``).

``checkpoint(fn, *args)`` runs ``fn`` without recording, keeping only its inputs; the backward
runs ``fn`` again with grad mode on and takes ``tg.autograd.grad`` of the recomputed outputs
(a backward inside a backward, which the engine supports). Memory: the saved values of ``fn``'s
records exist only while its segment of the backward runs.
"""

import warnings

from .. import grad_mode as _gm
from .. import tape
from ..autograd import Function
from ..autograd import grad as _grad
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Checkpoint(Function):
    generate_vmap_rule = True  # under vmap fn runs on the batch, as does its recomputation

    @staticmethod
    def forward(ctx, fn, preserve, n_kw, *args):
        ctx.fn = fn
        ctx.n_kw = n_kw
        ctx.tensor_idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*[args[i] for i in ctx.tensor_idx])
        ctx.others = [None if isinstance(a, Tensor) else a for a in args]
        return _call(fn, args, n_kw)

    @staticmethod
    def backward(ctx, *grads):
        saved = ctx.saved_tensors
        args = list(ctx.others)
        inputs = []
        # a create_graph backward runs this with grad mode on: recompute from the inputs
        # themselves so that the gradient stays a function of them (higher order)
        create = _gm.is_grad_enabled()
        for i, t in zip(ctx.tensor_idx, saved):
            d = t if create and t.requires_grad else t.detach()
            if t.requires_grad and d.dtype.kind == "f":
                if not create:
                    d.requires_grad_(True)
                inputs.append((i, d))
            args[i] = d
        # the recomputed records on a segment of their own, not appended to the one being
        # swept: the inner backward's arena then spans those records alone
        tape.close_current()
        with _gm.enable_grad():
            outs = _call(ctx.fn, args, ctx.n_kw)
        outs = outs if isinstance(outs, tuple) else (outs,)
        pairs = [(o, g) for o, g in zip(outs, grads)
                 if isinstance(o, Tensor) and o.requires_grad and g is not None]
        res = [None] * len(args)
        if pairs and inputs:
            got = _grad([o for o, _ in pairs], [d for _, d in inputs], [g for _, g in pairs],
                        allow_unused=True, create_graph=create)
            for (i, _), g in zip(inputs, got):
                res[i] = g
        return (None, None, None) + tuple(res)


def _call(fn, args, n_kw):
    if not n_kw:
        return fn(*args)
    pos, kv = args[:len(args) - 2 * n_kw], args[len(args) - 2 * n_kw:]
    return fn(*pos, **dict(zip(kv[0::2], kv[1::2])))


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default",
               debug=False, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)`` whose intermediate values are recomputed in backward.

    Example:
        >>> import tapegrad as tg
        >>> from tapegrad.utils.checkpoint import checkpoint
        >>> x = tg.tensor([1., 2.], requires_grad=True)
        >>> checkpoint(lambda a: (a.sin() * a).sum(), x, use_reentrant=False).backward()
        >>> x.grad
        tensor([1.3818, 0.0770])
    """
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed "
                      "explicitly. Refer to docs for more details on the differences between "
                      "the two variants.", UserWarning, stacklevel=2)
    if not (_gm.is_grad_enabled() and any(isinstance(a, Tensor) and a.requires_grad
                                          for a in list(args) + list(kwargs.values()))):
        return function(*args, **kwargs)
    flat_kw = []
    for k, v in kwargs.items():
        flat_kw += [k, v]
    return _Checkpoint.apply(function, preserve_rng_state, len(kwargs), *args, *flat_kw)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or ``nn.Sequential``) in ``segments`` checkpointed chunks."""
    fns = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = max(1, (len(fns) + segments - 1) // segments)

    def run(chunk):
        def f(x):
            for m in chunk:
                x = m(x)
            return x
        return f

    for start in range(0, len(fns), size):
        chunk = fns[start:start + size]
        if start + size >= len(fns):
            input = run(chunk)(input)
        else:
            input = checkpoint(run(chunk), input, use_reentrant=use_reentrant)
    return input
