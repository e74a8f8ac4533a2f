"""``nn.utils.clip_grad_norm_`` as replay nodes.

The eager function scales each ``.grad`` in place through NumPy, which the tracer does not see;
traced whole, it becomes nodes over the program's gradients: the total 2-norm (each gradient's
squares summed in float64, as eager widens them), the coefficient ``max_norm / (norm + 1e-6)``
capped at 1 (NaN stays NaN, as eager's ``min``), each gradient times it written back into its
``.grad`` in place (as ``zero_grad(set_to_none=False)`` writes), and the norm as the result.
Gradients the program computed (a ``backward`` in the function) are clipped this way; other
norm types, ``error_if_nonfinite`` and gradients from before the call refuse the trace."""

import inspect
import types

import numpy as np

from ..tensor import Tensor
from .ir import Unsupported


def parameters_of(L):
    """The tensors ``parameters`` names, read when the call starts: ``model.parameters()`` is a
    generator the call consumes, so its module is asked for them again (None: another
    generator, which cannot be read twice)."""
    from ..nn.module import Module

    p = L["parameters"]
    if isinstance(p, Tensor):
        return [p]
    if isinstance(p, (list, tuple)):
        return list(p)
    if isinstance(p, types.GeneratorType) and p.gi_code is Module.parameters.__code__ and \
            inspect.getgeneratorstate(p) == inspect.GEN_CREATED:
        f = p.gi_frame.f_locals
        return list(f["self"].parameters(f["recurse"]))
    return None


def clip_grad_norm(tr, name, a, result):
    from .effects import _found, _grad_state

    params = a["tensors"]
    if params is None:
        raise Unsupported(f"{name} of a generator other than model.parameters()")
    if float(a["norm_type"]) != 2.0 or a["error_if_nonfinite"] or \
            type(a["max_norm"]) not in (int, float):  # (a tensor's value would be baked in)
        raise Unsupported(f"{name} with norm_type other than 2, error_if_nonfinite or a "
                          "tensor max_norm")
    clipped = []
    for p in params:
        grad = p._grad
        if grad is None:
            continue
        r = tr.ref_of.get(id(p)) or tr._ref(p, _found(tr, p))
        st = tr.gstate[r.index]
        if type(st) is not int or type(grad._data) not in (float, np.ndarray) or \
                grad.dtype not in (np.float64, np.float32) or grad._seg is not None:
            raise Unsupported(f"{name} of a .grad the function did not compute")
        clipped.append((p, r, _grad_state(tr, r)))
    if not clipped:
        raise Unsupported(f"{name} without gradients")
    total = None
    for _, _, st in clipped:
        v = st if tr.g.dtype(st) == np.float64 else tr.e("astype", (st,),
                                                           dtype=np.dtype(np.float64))
        s = tr.e("sum", (tr.e("mul", (v, v)),), axis=None, keepdims=False)
        total = s if total is None else tr.e("add", (total, s))
    total = tr.e("sqrt", (total,))
    coef = tr.e("rdivc", (tr.e("addc", (total,), c=1e-6),), c=float(a["max_norm"]))
    one = tr.v(1.0)
    coef = tr.e("where", (tr.e("gt", (coef, one)), one, coef))
    for p, r, st in clipped:
        new = tr.e("mul", (st, coef))
        if tr.g.dtype(new) != tr.g.dtype(st):
            new = tr.e("astype", (new,), dtype=tr.g.dtype(st))
        from .trace import check

        check(tr.g.val[new], p._grad._data, name)
        tr.versions[id(p._grad)] = p._grad._version
        tr.g.effect("setgrad", (new,), ref=r.index, fresh=False)
        tr.gstate[r.index] = new
    if result.dtype != np.float64:
        total = tr.e("astype", (total,), dtype=result.dtype)
    tr.out(result, total, name)
