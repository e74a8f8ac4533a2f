"""Finite-difference gradient checks (``gradcheck``, ``gradgradcheck``), float64, central."""

import warnings

import numpy as np

from ..tensor import Tensor, _make


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical Jacobians disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    outs = _as_tuple(func(*inputs))
    return [o for o in outs if isinstance(o, Tensor)]


def _numerical(func, inputs, i, eps):
    """d(outputs)/d(inputs[i]) by central differences: one matrix (n_in, n_out) per output."""
    x = inputs[i]
    arr = x._arr()
    flat = arr.reshape(-1)
    if not np.shares_memory(flat, arr) or not flat.flags.writeable:
        raise RuntimeError("gradcheck needs writeable, contiguous inputs")
    # NOTE: grad mode stays on: gradgradcheck's function computes gradients itself.
    base = [np.asarray(o._data, np.float64).reshape(-1) for o in _outputs(func, inputs)]
    jac = [np.zeros((arr.size, b.size)) for b in base]
    for j in range(arr.size):
        orig = flat[j]
        flat[j] = orig + eps
        plus = [np.asarray(o._data, np.float64).reshape(-1) for o in _outputs(func, inputs)]
        flat[j] = orig - eps
        minus = [np.asarray(o._data, np.float64).reshape(-1) for o in _outputs(func, inputs)]
        flat[j] = orig
        for k, (p, m) in enumerate(zip(plus, minus)):
            jac[k][j] = (p - m) / (2 * eps)
    return jac


def _analytical(func, inputs, diff_idx):
    """Rows of the Jacobian by reverse mode: one backward per output element."""
    from . import grad

    outs = _outputs(func, inputs)
    diff = [inputs[i] for i in diff_idx]
    jacs = {(k, i): np.zeros((inputs[i].numel(), o.numel())) for k, o in enumerate(outs)
            for i in diff_idx}
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for m in range(o.numel()):
            seed = np.zeros(o.numel(), np.float64)
            seed[m] = 1.0
            gs = grad(o, diff, grad_outputs=_make(seed.reshape(o.shape).astype(o.dtype)),
                      retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, gs):
                if g is not None:
                    jacs[(k, i)][:, m] = np.asarray(g._data, np.float64).reshape(-1)
    return outs, jacs


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """Compare reverse-mode gradients of ``func`` with central finite differences.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([0.3, 0.7], requires_grad=True)
        >>> tg.autograd.gradcheck(lambda a: (a ** 2).sin(), (x,))
        True
    """
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in diff_idx:
        if inputs[i].dtype != np.float64:
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", UserWarning,
                          stacklevel=2)
    outs, ana = _analytical(func, inputs, diff_idx)
    for i in diff_idx:
        num = _numerical(func, inputs, i, eps)
        for k in range(len(outs)):
            a, n = ana[(k, i)], num[k]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {k} with respect to input {i},\n"
                    f"numerical:{_make(n.T.copy())}\nanalytical:{_make(a.T.copy())}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """``gradcheck`` of the gradient itself (second order, through re-taping).

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([0.3, 0.7], requires_grad=True)
        >>> tg.autograd.gradgradcheck(lambda a: (a ** 3).sum(), (x,))
        True
    """
    from . import grad

    inputs = _as_tuple(inputs)
    diff_idx = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_make(rng.standard_normal(o.shape).astype(o.dtype))
                             .requires_grad_() for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_order(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, ins) if o.requires_grad]
        gs = grad(outs, [ins[i] for i in diff_idx], grad_outputs=list(gos[: len(outs)]),
                  create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_order, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
