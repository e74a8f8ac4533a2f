"""Finite-difference gradient checks (``gradcheck``, ``gradgradcheck``), central differences.

Jacobians are laid out like PyTorch's: one ``(input.numel(), output.numel())`` matrix per
(output, input) pair. Complex values count as two real coordinates each, ``(re, im)``: the
finite differences perturb the real and the imaginary part separately, and the reverse mode
seeds ``1`` and ``1j`` for the real and imaginary part of a complex output (PyTorch's
convention: the gradient of a real loss is ``dL/da + i dL/db``). A mismatch raises ``GradcheckError`` with PyTorch's message, followed by
the element where numerical and analytical disagree most.
"""

import warnings

import numpy as np

from ..device import DeviceArray
from ..tensor import Tensor, _make


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when analytical and numerical Jacobians disagree."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(func, inputs):
    outs = _as_tuple(func(*inputs))
    return [o for o in outs if isinstance(o, Tensor)]


def _real_coords(v):
    """A value as a flat float64 copy, complex values as (re, im) pairs (a CUDA value is
    copied to the host)."""
    a = v.host() if type(v) is DeviceArray else np.array(v)
    if a.dtype.kind == "c":
        return np.ascontiguousarray(a, np.complex128).reshape(-1).view(np.float64).copy()
    return np.array(a, np.float64).reshape(-1)


def _ncoords(t):
    return t.numel() * (2 if t.dtype.kind == "c" else 1)


def _from_coords(vec, like):
    """The inverse of ``_real_coords``: a tensor of ``like``'s shape and dtype."""
    vec = np.ascontiguousarray(vec, np.float64)
    if like.dtype.kind == "c":
        vec = vec.view(np.complex128)
    t = _make(vec.reshape(like.shape).astype(like.dtype))
    return t.to(like.device) if like.is_cuda else t


def _values(func, inputs):
    # NOTE: a copy: an output may share storage with the perturbed input (add's grad is g).
    return [_real_coords(o._data) for o in _outputs(func, inputs)]


def _numerical(func, inputs, i, eps):
    """d(outputs)/d(inputs[i]) by central differences: one matrix (n_in, n_out) per output."""
    x = inputs[i]
    arr = x._arr()
    store = None
    if type(arr) is DeviceArray:  # perturbed on the host, stored to the device each time
        from ..ops.cuda_ops import write

        store, arr = arr, arr.host()
    elif not arr.flags.writeable:
        raise RuntimeError("gradcheck needs writeable inputs")

    def values():
        if store is not None:
            write(store, arr, "unsafe")
        return _values(func, inputs)

    # NOTE: grad mode stays on: gradgradcheck's function computes gradients itself.
    base = _values(func, inputs)
    steps = (eps, 1j * eps) if arr.dtype.kind == "c" else (eps,)
    jac = [np.zeros((arr.size * len(steps), b.size)) for b in base]
    # element by element in C order, whatever the memory layout (a transposed input included)
    j = 0
    for idx in np.ndindex(arr.shape):
        for h in steps:  # complex: the real part, then the imaginary part
            orig = arr[idx]
            arr[idx] = orig + h
            plus = values()
            arr[idx] = orig - h
            minus = values()
            arr[idx] = orig
            if store is not None:
                write(store, arr, "unsafe")
            for k, (p, m) in enumerate(zip(plus, minus)):
                jac[k][j] = (p - m) / (2 * eps)
            j += 1
    return jac


def _one_hot(o, m):
    seed = np.zeros(_ncoords(o), np.float64)
    seed[m] = 1.0
    return _from_coords(seed, o)


def _analytical(func, inputs, diff_idx, check_grad_dtypes):
    """The Jacobians by reverse mode: one backward per output element."""
    from . import grad

    outs = _outputs(func, inputs)
    diff = [inputs[i] for i in diff_idx]
    jacs = {(k, i): np.zeros((_ncoords(inputs[i]), _ncoords(o))) for k, o in enumerate(outs)
            for i in diff_idx}
    for k, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for m in range(_ncoords(o)):
            gs = grad(o, diff, grad_outputs=_one_hot(o, m), retain_graph=True, allow_unused=True)
            for i, g in zip(diff_idx, gs):
                if g is None:
                    continue
                if g.shape != inputs[i].shape:
                    raise GradcheckError(f"Gradient for input {i} has shape {tuple(g.shape)}, "
                                         f"expected {tuple(inputs[i].shape)}")
                if check_grad_dtypes and g.dtype != inputs[i].dtype:
                    raise GradcheckError("Gradient has dtype mismatch")
                jacs[(k, i)][:, m] = _real_coords(g._data)
    return outs, jacs


def _reentrant(func, inputs, diff_idx, outs, jacs, nondet_tol):
    """One random vector-Jacobian product must reproduce the assembled Jacobian's."""
    from . import grad

    live = [(k, o) for k, o in enumerate(outs) if o.requires_grad]
    if not live:
        return True
    rng = np.random.default_rng(0)
    us = [rng.standard_normal(_ncoords(o)) for _, o in live]
    outs2 = _outputs(func, inputs)
    gs = grad([outs2[k] for k, _ in live], [inputs[i] for i in diff_idx],
              grad_outputs=[_from_coords(u, o) for u, (_, o) in zip(us, live)],
              allow_unused=True)
    for i, g in zip(diff_idx, gs):
        want = sum(jacs[(k, i)] @ u for u, (k, _) in zip(us, live))
        got = np.zeros(_ncoords(inputs[i])) if g is None else _real_coords(g._data)
        scale = 1e-10 + nondet_tol + 1e-7 * np.abs(want).max(initial=0.0)
        if np.abs(got - want).max(initial=0.0) > scale:
            return False
    return True


def _multiplied_by_grad_output(func, inputs, diff_idx):
    """Zero ``grad_outputs`` must give zero gradients (not NaN, not a constant): a backward
    that ignores its incoming gradient can still match the Jacobian one seed at a time."""
    from . import grad

    outs = [o for o in _outputs(func, inputs) if o.requires_grad]
    if not outs:
        return True
    gs = grad(outs, [inputs[i] for i in diff_idx], allow_unused=True,
              grad_outputs=[_from_coords(np.zeros(_ncoords(o)), o) for o in outs])
    return all(g is None or not np.any(_real_coords(g._data) != 0) for g in gs)


def _mismatch_message(k, i, num, ana):
    diff = np.abs(num - ana)
    diff = np.where(np.isnan(diff), np.inf, diff)
    j, m = np.unravel_index(int(np.argmax(diff)), diff.shape)
    return (f"Jacobian mismatch for output {k} with respect to input {i},\n"
            f"numerical:{_make(num.copy())}\nanalytical:{_make(ana.copy())}\n"
            f"The largest difference is at input element {j}, output element {m}: "
            f"numerical {float(num[j, m]):.10g}, analytical {float(ana[j, m]):.10g}.\n")


def _inputs_and_diff_idx(inputs):
    """``inputs`` as a tuple, and the indices of its tensors that require grad."""
    inputs = _as_tuple(inputs)
    return inputs, [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """Compare reverse-mode gradients of ``func`` with central finite differences.

    Returns True, or raises ``GradcheckError`` (a RuntimeError) saying which output and input
    disagree, with both Jacobians and the worst element; ``raise_exception=False`` returns
    False instead. float64 inputs are expected (float32 warns, like PyTorch). Forward-mode and
    batched checks are not available and are ignored; ``fast_mode`` runs the full check.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([0.3, 0.7], requires_grad=True)
        >>> tg.autograd.gradcheck(lambda a: (a ** 2).sin(), (x,))
        True
    """
    inputs, diff_idx = _inputs_and_diff_idx(inputs)
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but "
                         "none of the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype not in (np.float64, np.complex128):
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating "
                          "point or complex. This check will likely fail if all the inputs are "
                          "not of double precision floating point or complex. ", UserWarning,
                          stacklevel=2)

    def fail(msg):
        if raise_exception:
            raise GradcheckError(msg)
        return False

    if not check_backward_ad:
        return True
    try:
        outs, ana = _analytical(func, inputs, diff_idx, check_grad_dtypes)
    except GradcheckError as e:
        return fail(str(e))
    for i in diff_idx:
        num = _numerical(func, inputs, i, eps)
        for k in range(len(outs)):
            a, n = ana[(k, i)], num[k]
            if outs[k].dtype.kind == "c":  # (PyTorch's order: the imaginary parts first)
                for part, cols in (("imaginary", slice(1, None, 2)), ("real", slice(0, None, 2))):
                    if not np.allclose(a[:, cols], n[:, cols], rtol=rtol, atol=atol,
                                       equal_nan=True):
                        return fail(f"While considering the {part} part of complex outputs "
                                    f"only, " + _mismatch_message(k, i, n[:, cols], a[:, cols]))
            elif not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=True):
                return fail(_mismatch_message(k, i, n, a))
    if not _reentrant(func, inputs, diff_idx, outs, ana, nondet_tol):
        return fail("Backward is not reentrant, i.e., running backward with same input and "
                    "grad_output multiple times gives different values, although analytical "
                    "gradient matches numerical gradient. The tolerance for nondeterminism was "
                    f"{nondet_tol}.")
    if not _multiplied_by_grad_output(func, inputs, diff_idx):
        return fail("backward not multiplied by grad_output")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """``gradcheck`` of the gradient itself (second order, through re-taping).

    The first-order gradient is taken with random ``grad_outputs`` (which require grad, so the
    check covers both arguments of the backward), as PyTorch does.

    Example:
        >>> import tapegrad as tg
        >>> x = tg.tensor([0.3, 0.7], requires_grad=True)
        >>> tg.autograd.gradgradcheck(lambda a: (a ** 3).sum(), (x,))
        True
    """
    from . import grad

    inputs, diff_idx = _inputs_and_diff_idx(inputs)
    outs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_from_coords(rng.standard_normal(_ncoords(o)), o)
                             .requires_grad_() for o in outs if o.requires_grad)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_order(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(func, ins) if o.requires_grad]
        gs = grad(outs, [ins[i] for i in diff_idx], grad_outputs=list(gos[: len(outs)]),
                  create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    # tapegrad has two VJPs per op: finite differences of the re-taped gradient would agree with
    # a wrong re-taped rule, so first compare it with the numeric sweep's (which gradcheck
    # checks against finite differences).
    outs = [o for o in _outputs(func, inputs) if o.requires_grad]
    if outs and diff_idx:
        wrt = [inputs[i] for i in diff_idx]
        gos = list(grad_outputs[: len(outs)])
        fast = grad(outs, wrt, grad_outputs=[g.detach() for g in gos], allow_unused=True)
        slow = first_order(*(inputs + grad_outputs))
        fast = [g for g in fast if g is not None]
        for i, (f, s) in zip(diff_idx, zip(fast, slow)):
            fv, sv = _real_coords(f._data), _real_coords(s._data)
            if not np.allclose(fv, sv, rtol=rtol, atol=atol, equal_nan=True):
                msg = (f"Gradient with create_graph=True (re-taped VJPs) differs from the one "
                       f"without for input {i},\nwithout:{_make(fv)}\nwith:{_make(sv)}\n")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return gradcheck(first_order, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_grad_dtypes=check_grad_dtypes)
