"""``tapegrad.autograd.functional``: Jacobians, Hessians and vector products of functions.

PyTorch's ``torch.autograd.functional`` API (signatures, return structure, error texts): every
function is built on ``autograd.grad``; ``jvp`` and ``hvp`` use the double-backward trick, so
they exercise re-taping to third order. ``vectorize=True`` (and ``strategy="forward-mode"``)
use ``tg.func.jacrev`` / ``jacfwd``.
"""

import numpy as np

from .. import grad_mode as _gm
from ..ops.record import compile_tracing
from ..tensor import Tensor, _make

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ---- helpers (mirroring torch/autograd/functional.py) ----------------------------------

def _as_tuple(inp, arg_name, fn_name):
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {arg_name}"
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple "
                            f"of Tensors but the {where} has type {type(el)}.")
    return is_tuple, items


def _unpack(res, to_unpack):
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _preprocess(inputs, create_graph, need_graph):
    """Fresh tensor objects for the inputs (PyTorch issue 32576), attached only if wanted."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.reshape(t.shape))  # a differentiable alias: gradients flow to t
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _postprocess(items, create_graph):
    if items and isinstance(items[0], tuple):
        return tuple(_postprocess(el, create_graph) for el in items)
    return items if create_graph else tuple(t.detach() for t in items)


def _size(shape):
    return f"torch.Size([{', '.join(map(str, shape))}])"  # (as PyTorch's message prints it)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got "
                               f"{len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (el_v, el_o) in enumerate(zip(v, other)):
        if el_v.shape != el_o.shape:
            pre = f"Entry {i} in " if is_other_tuple else ""
            raise RuntimeError(f"{pre}v has invalid size: should be {_size(el_o.shape)} but got "
                               f"{_size(el_v.shape)}.")


def _check_requires_grad(items, kind, strict):
    if not strict:
        return
    for i, t in enumerate(items):
        if t is None:
            raise RuntimeError(f"The output of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode.")
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is thrice differentiable and that the hessian depends on "
                "the inputs.")
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example).")
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode.")
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs "
            "must be computed in a differentiable manner from the input when running in strict "
            "mode.")


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` that skips outputs without history and allows unused inputs."""
    from . import grad

    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    outs, gos = [], []
    for o, g in zip(outputs, grad_outputs):
        if o is not None and o.requires_grad:
            outs.append(o)
            gos.append(g)
    if not outs:
        return (None,) * len(inputs)
    return grad(outs, inputs, gos, allow_unused=True, create_graph=create_graph,
                retain_graph=retain_graph)


_STAGE_MSG = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
            "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
                  "grad_outputs when using the double backward trick to compute forward mode "
                  "gradients. This is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
                   "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
                         "in the grad_jacobian. This is not allowed in strict mode as it prevents "
                         "from using the double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    from ..creation import zeros_like

    res = []
    for i, g in enumerate(grads):
        if g is None:
            if strict:
                raise RuntimeError(_STAGE_MSG[stage].format(i=i))
            g = zeros_like(refs[i])
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(f"The {what} of the user-provided function is independent of "
                               f"input {i}. This is not allowed in strict mode when "
                               "create_graph=True.")
        res.append(g)
    return tuple(res)


def _zeros_rg(t):
    from ..creation import zeros_like

    return zeros_like(t).requires_grad_()


def _stack_rows(rows, shape):
    """Stack equally shaped tensors along a new first axis, differentiably, into ``shape``."""
    if not any(r.requires_grad and _gm.is_grad_enabled() or r.is_cuda for r in rows):
        data = np.stack([np.asarray(r.detach().numpy()) for r in rows]) if rows else \
            np.zeros(shape)
        return _make(data.reshape(shape))
    from .. import ops

    stack = getattr(ops, "stack", None)
    if stack is not None:
        return stack(rows, 0).reshape(shape)
    # Without a stack op: place each flat row with a strided scatter and add them up.
    from ..ops.movement import scatter_strided

    n = rows[0].numel()
    total = None
    for j, r in enumerate(rows):
        flat = r.reshape(n) if n != 1 else r.reshape(())
        placed = scatter_strided(flat, (n,), (1,), j * n, len(rows) * n)
        total = placed if total is None else total + placed
    return total.reshape(shape)


def _jacobian_one_sweep(outputs, inputs, per_row=True):
    """``jac[i][j]`` of ``outputs`` (recorded from ``inputs``) w.r.t. ``inputs``: the rows of
    the identity as seeds of ``autograd.grad(..., is_grads_batched=True)``, which sweeps the
    graph once carrying all of them (per row where the graph has hooks or custom Functions).
    ``per_row=False``: None instead of that per-row fallback (whose rows carry every output's
    seed, so a hook would also see the zero rows of outputs that do not reach it), and the
    graph retained, as a row-by-row Jacobian leaves it."""
    from . import grad, _any_batched, _one_batched_sweep

    sizes = [o.numel() for o in outputs]
    n = sum(sizes)
    live = [i for i, o in enumerate(outputs) if o.requires_grad]
    cols = [None] * len(inputs)
    if live and n:
        eye = np.eye(n)
        starts = np.cumsum([0] + sizes)
        # (a complex output takes the rows as complex seeds, as PyTorch's vectorized rows)
        seeds = [_make(np.ascontiguousarray(eye[:, starts[i]:starts[i + 1]]).reshape(
            (n,) + tuple(outputs[i].shape)).astype(np.result_type(outputs[i].dtype, eye.dtype)))
            for i in live]
        seeds = [s.cuda() if outputs[i].is_cuda else s for s, i in zip(seeds, live)]
        if per_row:
            cols = grad([outputs[i] for i in live], inputs, seeds, is_grads_batched=True,
                        allow_unused=True)
        else:
            outs = [outputs[i] for i in live]
            cols = None if _any_batched(outs, list(inputs), seeds) else _one_batched_sweep(
                outs, list(inputs), seeds, True, True, False)
            if cols is None:
                return None
    jac, k = [], 0
    for o, s in zip(outputs, sizes):
        row = []
        for t, c in zip(inputs, cols):
            shape = tuple(o.shape) + tuple(t.shape)
            # (.copy(), not np.ascontiguousarray: a 0-d row stays 0-d)
            if t.is_cuda:  # (the rows stay on the device)
                row.append(t.new_zeros(shape) if c is None else
                           c.detach()[k:k + s].reshape(shape).clone())
                continue
            row.append(_make(np.zeros(shape, t.dtype)) if c is None else
                       _make(c.detach().numpy()[k:k + s].reshape(shape).copy()))
        jac.append(tuple(row))
        k += s
    return tuple(jac)


# ---- public API ------------------------------------------------------------------------

_V_OUT = ("The vector v can only be None if the user-provided function returns a single Tensor "
          "with a single element.")
_V_IN = ("The vector v can only be None if the input to the user-provided function is a single "
         "Tensor with a single element.")


def _prepare_v(v, against, is_tuple, fn_name, create_graph, none_msg):
    """``v`` checked against the tensors it weights; None only for a single 1-element one."""
    if v is None:
        if len(against) != 1 or against[0].numel() != 1:
            raise RuntimeError(none_msg)
        return None
    _, v = _as_tuple(v, "v", fn_name)
    v = _preprocess(v, create_graph, need_graph=False)
    _validate_v(v, against, is_tuple)
    return v


def _finish(outputs, diff, wrt, v, like, create_graph, strict, stage, is_out_tuple, res_tuple):
    """The last backward of vjp/jvp/hvp/vhp (``v`` weighting ``diff``), zeros filled in, and
    both results packed as the user passed them."""
    with _gm.set_grad_enabled(True if create_graph else _gm.is_grad_enabled()):
        res = _grad(diff, wrt, v, create_graph=create_graph)
        res = _fill_in_zeros(res, like, strict, create_graph, stage)
    outputs = _postprocess(outputs, create_graph)
    res = _postprocess(res, create_graph)
    return _unpack(outputs, is_out_tuple), _unpack(res, res_tuple)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``: ``(func_output, vjp)``.

    Example:
        >>> import tapegrad as tg
        >>> vjp(lambda a: a ** 2, tg.tensor([1., 2.]), tg.tensor([1., 1.]))
        (tensor([1., 4.]), tensor([2., 4.]))
    """
    with _gm.enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _prepare_v(v, outputs, is_out_tuple, "vjp", create_graph, _V_OUT)
    return _finish(outputs, outputs, inputs, v, inputs, create_graph, strict, "back",
                   is_out_tuple, is_in_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Jacobian-vector product ``J v`` by the double-backward trick: ``(func_output, jvp)``.

    Example:
        >>> import tapegrad as tg
        >>> jvp(lambda a: a ** 2, tg.tensor([1., 2.]), tg.tensor([1., 0.]))
        (tensor([1., 4.]), tensor([2., 0.]))
    """
    with _gm.enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        v = _prepare_v(v, inputs, is_in_tuple, "jvp", create_graph, _V_IN)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # The backward is linear in grad_outputs: their value does not matter (zeros are safe).
        grad_outputs = tuple(_zeros_rg(o) for o in outputs)
        grad_inputs = _grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    return _finish(outputs, grad_inputs, grad_outputs, v, outputs, create_graph, strict,
                   "back_trick",
                   is_out_tuple, is_out_tuple)


# Installed by tapegrad.func: ``(func, inputs, strategy) -> (is_out_tuple, jac[out][in])``
# computed with jacrev / jacfwd (vmap over the vjp / jvp).
_vectorized_jacobian = None


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """Jacobian of ``func`` at ``inputs``, one reverse sweep per output element.

    One input and one output give a Tensor of shape ``out.shape + in.shape``; tuples give
    tuples (``[output][input]``), as in PyTorch. ``vectorize`` is accepted; rows are still
    computed one by one.

    Example:
        >>> import tapegrad as tg
        >>> jacobian(lambda a: a ** 2, tg.tensor([1., 2.]))
        tensor([[2., 0.],
                [0., 4.]])
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". '
                             'Hint: If your function has more outputs than inputs, '
                             '"forward-mode" tends to be more performant. Otherwise, prefer to '
                             'use "reverse-mode".')
    # PyTorch's order of refusals: forward mode checks its options before calling ``func``,
    # reverse mode calls ``func`` (whose own strict checks may raise first) before refusing
    # ``strict`` with ``vectorize``
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("torch.autograd.functional.jacobian: `create_graph=True` "
                                      "and `strategy=\"forward-mode\"` are not supported "
                                      "together (yet). Please either set `create_graph=False` "
                                      "or `strategy=\"reverse-mode\"`.")
        if strict:
            raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                               "`strategy=\"forward-mode\"` are not supported together (yet). "
                               "Please either set `strict=False` or "
                               "`strategy=\"reverse-mode\"`.")
        if not vectorize:
            raise NotImplementedError("Computing Jacobian using forward-AD or "
                                      "forward-over-reverse Hessian is only implemented for "
                                      "`vectorize=True`.")
    if strict and vectorize:
        with _gm.enable_grad():
            _, inputs = _as_tuple(inputs, "inputs", "jacobian")
            outputs = func(*_preprocess(inputs, create_graph, need_graph=True))
            _check_requires_grad(_as_tuple(outputs, "outputs of the user-provided function",
                                           "jacobian")[1], "outputs", strict)
        raise RuntimeError("torch.autograd.functional.jacobian: `strict=True` and "
                           "`vectorized=True` are not supported together. Please either set "
                           "`strict=False` or `vectorize=False`.")
    if vectorize and strategy == "reverse-mode" and not create_graph:
        with _gm.enable_grad():
            is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
            inputs = _preprocess(inputs, False, need_graph=True)
            outputs = func(*inputs)
            is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                              "jacobian")
            jac = _jacobian_one_sweep(outputs, inputs)
        return _unpack(jac, (is_out_tuple, is_in_tuple))
    if vectorize and _vectorized_jacobian is not None:
        with _gm.enable_grad():
            is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
            # (create_graph: inputs that require grad, so the rows are differentiable in them)
            inputs = _preprocess(inputs, create_graph, need_graph=create_graph)
            is_out_tuple, jac = _vectorized_jacobian(func, inputs, strategy)
            jac = _postprocess(tuple(jac), create_graph)
        return _unpack(jac, (is_out_tuple, is_in_tuple))
    with _gm.enable_grad():
        is_in_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _preprocess(inputs, create_graph, need_graph=True)
        outputs = func(*inputs)
        is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function",
                                          "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if not (create_graph or strict or compile_tracing()):  # the rows a backward per row would
            jac = _jacobian_one_sweep(outputs, inputs, per_row=False)  # give, in one sweep
            if jac is not None:
                return _unpack(jac, (is_out_tuple, is_in_tuple))
        from ..creation import zeros_like

        jac = []
        for i, out in enumerate(outputs):
            rows = tuple([] for _ in inputs)
            flat = out.reshape(-1) if out.requires_grad else None
            for k in range(out.numel()):
                vj = _grad((flat[k],) if flat is not None else (None,), inputs,
                           retain_graph=True, create_graph=create_graph)
                for j, (acc, g, inp) in enumerate(zip(rows, vj, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"Output {i} of the user-provided function is "
                                               f"independent of input {j}. This is not allowed "
                                               "in strict mode.")
                        g = zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError("The jacobian of the user-provided function is "
                                           f"independent of input {i}. This is not allowed in "
                                           "strict mode when create_graph=True.")
                    acc.append(g)
            jac.append(tuple(_stack_rows(acc, out.shape + inp.shape)
                             for acc, inp in zip(rows, inputs)))
        jac = _postprocess(tuple(jac), create_graph)
        return _unpack(jac, (is_out_tuple, is_in_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Hessian of a scalar ``func`` at ``inputs`` (the Jacobian of its gradient).

    Example:
        >>> import tapegrad as tg
        >>> hessian(lambda a: (a ** 3).sum(), tg.tensor([1., 2.]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def single_output(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should "
                               "contain a single element")
        return out.reshape(())

    if vectorize and not (create_graph or strict) and \
            outer_jacobian_strategy == "reverse-mode":
        # the gradient re-taped once, then all its rows in one sweep carrying n seeds
        with _gm.enable_grad():
            inputs = _preprocess(inputs, False, need_graph=True)
            out = single_output(*inputs)
            jac = _fill_in_zeros(_grad((out,), inputs, create_graph=True), inputs, False,
                                 True, "double_back")
            res = _jacobian_one_sweep(jac, inputs)
        return _unpack(res, (is_in_tuple, is_in_tuple))

    def jac_func(*inp):
        jac = jacobian(single_output, inp, create_graph=True, vectorize=vectorize)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack(res, (is_in_tuple, is_in_tuple))


def _scalar_check(outputs, is_out_tuple, name):
    if is_out_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain "
                           "a single element")


def _hessian_prelude(func, inputs, v, create_graph, strict, name):
    is_in_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _preprocess(inputs, create_graph, need_graph=True)
    v = _prepare_v(v, inputs, is_in_tuple, name, create_graph, _V_IN)
    outputs = func(*inputs)
    is_out_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict)
    _scalar_check(outputs, is_out_tuple, name)
    jac = _grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict)
    return is_in_tuple, is_out_tuple, inputs, v, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """Vector-Hessian product ``v^T H`` of a scalar ``func``: ``(func_output, vhp)``.

    Example:
        >>> import tapegrad as tg
        >>> vhp(lambda a: (a ** 3).sum(), tg.tensor([1., 2.]), tg.tensor([1., 0.]))
        (tensor(9.), tensor([6., 0.]))
    """
    with _gm.enable_grad():
        is_in_tuple, is_out_tuple, inputs, v, outputs, jac = _hessian_prelude(
            func, inputs, v, create_graph, strict, "vhp")
    return _finish(outputs, jac, inputs, v, inputs, create_graph, strict, "double_back",
                   is_out_tuple, is_in_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """Hessian-vector product ``H v`` by the double-backward trick: ``(func_output, hvp)``.

    Example:
        >>> import tapegrad as tg
        >>> hvp(lambda a: (a ** 3).sum(), tg.tensor([1., 2.]), tg.tensor([1., 0.]))
        (tensor(9.), tensor([6., 0.]))
    """
    with _gm.enable_grad():
        is_in_tuple, is_out_tuple, inputs, v, outputs, jac = _hessian_prelude(
            func, inputs, v, create_graph, strict, "hvp")
        grad_jac = tuple(_zeros_rg(t) for t in inputs)
        double_back = _grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    return _finish(outputs, double_back, grad_jac, v, inputs, create_graph, strict,
                   "double_back_trick",
                   is_out_tuple, is_in_tuple)
