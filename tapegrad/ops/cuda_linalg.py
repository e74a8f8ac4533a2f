"""einsum, the linear-algebra functions and logcumsumexp on CUDA tensors.

* ``einsum``: built from device ops that exist and are differentiable (to any order): a
  repeated letter is a strided view (the diagonal), a letter of one operand only is summed,
  and operands are contracted pairwise, left to right, each pair as one batched matmul over
  permuted and reshaped operands (the plan of ``einsum_plan``: (batch, free, contracted) @
  (batch, contracted, free)). The gradient is that of those ops: ``grad_fn`` names them, not
  ``EinsumBackward0``.
* Solves and decompositions (solve, inv, det, slogdet, cholesky, qr, pinv, eigh, svd and
  their value-only variants) and logcumsumexp (``on_host``): a host round trip. The CUDA inputs are
  copied to the host with the differentiable ``.cpu()``, the CPU function runs (LAPACK), and
  its tensor results come back with ``.cuda()``: values and gradients are the CPU's, at the
  cost of two synchronising copies per call.

Imported by the op modules at start-up: nothing here imports numba.cuda until a CUDA tensor
arrives.
"""

import functools

from ..device import DeviceArray
from ..tensor import Tensor


def _is_dev(a):
    return isinstance(a, Tensor) and type(a._data) is DeviceArray


def on_host(fn, traced=False, scalars=False):
    """``fn`` (a linear-algebra function of tensors) for CUDA tensors through the host:
    differentiable copies there and back (see the module docstring). ``scalars``: an
    elementwise ``fn`` takes 0-d CPU tensors among CUDA ones, as PyTorch's binary ops take
    CPU scalars (``torch.fmod(x_cuda, torch.tensor(2.))``)."""

    @functools.wraps(fn)
    def run(*args, **kw):
        for a in args:
            if _is_dev(a):
                break
        else:
            if not kw or not any(_is_dev(v) for v in kw.values()):
                return fn(*args, **kw)
        from .cuda_ops import same_device

        same_device(*[a for a in (*args, *kw.values())  # (keyword tensors too: weights=)
                      if not (scalars and isinstance(a, Tensor) and not a.ndim and not _is_dev(a))])
        return _to_device(fn(*[a.cpu() if _is_dev(a) else a for a in args],
                             **{k: v.cpu() if _is_dev(v) else v for k, v in kw.items()}))

    if traced:  # tg.compile's tracer follows the call into fn, as into an unwrapped one;
        TRACED_INTO.add(fn)  # otherwise it meets this code, which many ops share, and names fn
    return run


TRACED_INTO = set()  # the functions ``on_host(..., traced=True)`` wraps


def _to_device(r):
    if isinstance(r, Tensor):
        return r.cuda()
    if isinstance(r, tuple):  # plain and named tuples (EighResult, SVDResult...)
        items = [_to_device(v) for v in r]
        return type(r)(*items) if hasattr(r, "_fields") else type(r)(items)
    return r


def einsum(ts, subs, out_sub, sizes):
    """``einsum`` of CUDA tensors ``ts`` with subscripts ``subs`` -> ``out_sub`` (ellipses
    expanded; ``sizes``: each letter's size)."""
    from .cuda_ops import to_same_device

    ts = to_same_device(*ts)
    ops = [_single(t, sub, sizes) for t, sub in zip(ts, subs)]
    ops = [_sum_unused(t, sub, out_sub, [s for _, s in ops[:i] + ops[i + 1:]])
           for i, (t, sub) in enumerate(ops)]
    while len(ops) > 1:
        (a, la), (b, lb) = ops[0], ops[1]
        keep = set(out_sub).union(*[s for _, s in ops[2:]])
        ops = [_contract(a, la, b, lb, keep, sizes)] + ops[2:]
    t, sub = _sum_unused(*ops[0], out_sub, [])
    return _permute(t, sub, out_sub)


def _single(t, sub, sizes):
    """One operand with its repeated letters taken on the diagonal and its size-1 letters
    broadcast to the letter's size."""
    from .movement import expand, gather_strided
    from .shapes import c_strides

    if len(set(sub)) < len(sub):  # ii -> i: one dim whose stride is the sum of the strides
        cs = c_strides(t.shape)
        letters = "".join(dict.fromkeys(sub))
        strides = [sum(s for c, s in zip(sub, cs) if c == k) for k in letters]
        t = gather_strided(t, tuple(sizes[k] for k in letters), tuple(strides), 0)
        sub = letters
    shape = tuple(sizes[c] for c in sub)
    return (t if t.shape == shape else expand(t, *shape)), sub


def _sum_unused(t, sub, out_sub, others):
    """Sum the letters of ``sub`` that are in neither the output nor another operand."""
    from .movement import sum as tsum

    drop = [k for k, c in enumerate(sub) if c not in out_sub and not any(c in o for o in others)]
    if not drop:
        return t, sub
    return tsum(t, tuple(drop)), "".join(c for k, c in enumerate(sub) if k not in drop)


def _permute(t, sub, order):
    from .movement import permute

    if sub == order:
        return t
    return permute(t, *[sub.index(c) for c in order])


def _contract(a, la, b, lb, keep, sizes):
    """a (letters la) with b (lb): letters in both that are kept become the batch, the rest of
    the shared letters are contracted by one batched matmul."""
    from .linalg import matmul
    from .movement import reshape

    a, la = _sum_unused(a, la, keep, [lb])
    b, lb = _sum_unused(b, lb, keep, [la])
    batch = [c for c in la if c in lb and c in keep]
    contracted = [c for c in la if c in lb and c not in keep]
    fa = [c for c in la if c not in lb]
    fb = [c for c in lb if c not in la]

    def size(letters):
        n = 1
        for c in letters:
            n *= sizes[c]
        return n

    left = reshape(_permute(a, la, "".join(batch + fa + contracted)),
                   (size(batch), size(fa), size(contracted)))
    right = reshape(_permute(b, lb, "".join(batch + contracted + fb)),
                    (size(batch), size(contracted), size(fb)))
    sub = "".join(batch + fa + fb)
    return reshape(matmul(left, right), tuple(sizes[c] for c in sub)), sub
