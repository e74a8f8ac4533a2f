"""Functions whose results are indices, counts, truth values or fresh samples: computed with
NumPy on the values and returned without history, as PyTorch's are (no gradient flows through
``nonzero``, ``searchsorted``, ...). ``unique``'s values of a tensor that requires grad are on
the graph, as PyTorch's, with a backward that raises."""

import numpy as np

from .. import creation as _creation
from .. import ops as _ops
from ..ops.complex_refusals import refuse, refuse_pair
from ..ops.elementwise import zero_grad_like
from ..ops.shapes import norm_dim, torch_dtype_name
from ..tensor import Tensor
from ._common import _t, const, vals


def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero entries: ``(N, ndim)``, or one 1-D tensor per dim."""
    v = vals(input)
    if as_tuple:
        return tuple(const(i.astype(np.int64)) for i in np.nonzero(np.atleast_1d(v)))
    return const(np.argwhere(v).astype(np.int64))


def argwhere(input):
    """The indices of the non-zero entries, ``(N, ndim)``."""
    return const(np.argwhere(vals(input)).astype(np.int64))


def unravel_index(indices, shape):
    """Flat indices as a tuple of coordinate tensors for ``shape``."""
    idx = vals(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError("expected 'indices' to be integer dtype, but got "
                        f"{idx.dtype}")
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
    n = int(np.prod(shape))
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise RuntimeError("index out of bounds for the shape")
    return tuple(const(c.astype(np.int64)) for c in np.unravel_index(idx % max(n, 1), shape))


def _no_grad_formula(input, values, op):
    """``values`` computed from ``input``: where it requires grad, on the graph with a backward
    that raises PyTorch's NotImplementedError for ``op`` (which has no derivative), as its
    ``unique`` outputs are (``requires_grad`` True, ``grad_fn`` ``Unique2Backward0``...)."""
    out = const(values)
    if not (isinstance(input, Tensor) and input.requires_grad):
        return out
    from .lapack_factors import _no_derivative

    name = "".join(w.capitalize() for w in op.split("_")) + "Backward0"
    error = f"the derivative for '{op}' is not implemented."
    return _no_derivative(lambda: NotImplementedError(error), (input,), (out,), name)[0]


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """The distinct values (sorted), optionally with the inverse indices and the counts."""
    v = vals(input)
    refuse("unique" if dim is None else "unique.dim", v.dtype)
    if dim is not None and v.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = dim if dim is None else norm_dim(dim, v.ndim)  # (PyTorch's IndexError)
    res = np.unique(v, return_inverse=True, return_counts=True, axis=dim,
                    equal_nan=False)  # (each NaN a value of its own, as PyTorch)
    u, inv, counts = res
    inv = inv.reshape(v.shape if dim is None else (v.shape[dim],))
    out = [_no_grad_formula(input, u, "_unique2" if dim is None else "unique_dim")]
    if return_inverse:
        out.append(const(inv.astype(np.int64)))
    if return_counts:
        out.append(const(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive values (slices along ``dim``) kept once."""
    v = vals(input)
    refuse("unique" if dim is None else "unique.dim", v.dtype)
    if dim is not None and v.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    dim = dim if dim is None else norm_dim(dim, v.ndim)  # (PyTorch's IndexError)
    if dim is None:
        flat = v.reshape(-1)
        starts = np.ones(flat.shape[0], bool)
        starts[1:] = flat[1:] != flat[:-1]
        u = flat[starts]
        shape = v.shape
    else:
        d = dim % max(v.ndim, 1)
        moved = np.moveaxis(v, d, 0).reshape(v.shape[d], -1)
        starts = np.ones(moved.shape[0], bool)
        starts[1:] = (moved[1:] != moved[:-1]).any(axis=1)
        u = np.compress(starts, v, axis=d)
        shape = (v.shape[d],)
    out = [_no_grad_formula(input, u, "unique_consecutive")]
    group = np.cumsum(starts) - 1
    if return_inverse:
        out.append(const(group.reshape(shape).astype(np.int64)))
    if return_counts:
        out.append(const(np.bincount(group, minlength=int(starts.sum())).astype(np.int64)
                         if group.size else np.zeros(0, np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs (summed ``weights`` when given)."""
    v = vals(input)
    if v.dtype.kind not in "iu":  # (PyTorch: no kernel for them, whatever the shape)
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{torch_dtype_name(v.dtype)}'")
    if v.ndim != 1 or v.dtype.kind not in "iu":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if v.size and v.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return const(np.bincount(v, minlength=int(minlength)).astype(np.int64))
    w = vals(weights)
    out = np.bincount(v, weights=w, minlength=int(minlength))
    return const(out.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where ``input``'s values would be inserted in the (last dim of) ``sorted_sequence``."""
    seq = vals(sorted_sequence)
    v = vals(input)
    refuse_pair("searchsorted", seq, v)
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    if sorter is not None:
        seq = np.take_along_axis(seq, vals(sorter).astype(np.intp), axis=-1)
    how = "right" if right else "left"
    dt = np.int32 if out_int32 else np.int64
    if seq.ndim <= 1:
        return const(np.searchsorted(seq, v, side=how).astype(dt))
    if seq.shape[:-1] != v.shape[:-1]:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or "
                           "the first N-1 dimensions of boundaries tensor and input value "
                           f"tensor must match, but we got boundaries tensor {list(seq.shape)} "
                           f"and input value tensor {list(v.shape)}")
    s2, v2 = seq.reshape(-1, seq.shape[-1]), v.reshape(-1, v.shape[-1])
    out = np.stack([np.searchsorted(a, b, side=how) for a, b in zip(s2, v2)]) if s2.shape[0] \
        else np.zeros(v2.shape, dt)
    return const(out.reshape(v.shape).astype(dt))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each value: ``boundaries[i-1] < x <= boundaries[i]`` (``right=False``)."""
    b = vals(boundaries)
    if b.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({b.ndim})")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """Whether each element occurs in ``test_elements`` (a bool tensor)."""
    refuse_pair("isin", elements, test_elements)
    return const(np.isin(vals(elements), vals(test_elements), assume_unique=assume_unique,
                         invert=invert))


def equal(input, other):
    """True when both have the same shape and elements (a Python bool)."""
    a, b = vals(input), vals(other)
    return bool(a.shape == b.shape and np.array_equal(a, b))


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    """A random permutation of ``0 .. n-1`` (``tg.manual_seed`` makes it reproducible)."""
    if isinstance(n, (bool, float)) or not hasattr(n, "__index__"):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not "
                        f"{type(n).__name__}")
    n, = _creation.checked_shape((n,), "randperm")  # (PyTorch's negative-size error)
    perm = _creation.draws(generator).permutation(int(n)).astype(
        np.int64 if dtype is None else dtype)
    return _creation.tensor(perm, device=device, requires_grad=requires_grad)


def _sampled(value, *sources):
    """Samples depending on tensors ``sources`` (mean, std, probabilities): they require grad
    when a source does, with a zero gradient (PyTorch's samplers are not reparameterized)."""
    live = [t for t in sources if isinstance(t, Tensor) and t.requires_grad]
    if not live:
        return const(value)
    src = live[0] if len(live) == 1 else _ops.add(*[_ops.sum(t) for t in live[:2]])
    return zero_grad_like(src, value) if src.shape == value.shape else \
        zero_grad_like(_ops.broadcast_to(_ops.reshape(_ops.sum(src), ()), value.shape), value)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False):
    """Gaussian samples: elementwise for tensor ``mean``/``std`` (broadcast), or of ``size``
    for numbers. Their gradient is zero, as PyTorch's."""
    rng = _creation.draws(generator)
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments: give "
                            "tensors for mean or std, or size")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        value = rng.normal(mean, std, size=_creation.checked_shape((size,), "normal")).astype(
            dtype or _creation.get_default_dtype())
        return _creation.tensor(value, device=device, requires_grad=requires_grad)
    m, sd = vals(mean), vals(std)
    if (sd < 0).any():
        raise RuntimeError("normal expects all elements of std >= 0.0")
    dt = np.result_type(*[vals(t).dtype for t in (mean, std) if isinstance(t, Tensor)])
    shape = np.broadcast_shapes(np.shape(m), np.shape(sd))
    value = (m + sd * rng.standard_normal(shape)).astype(dt)
    return _sampled(value, mean, std)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with probabilities ``input`` (or ``p`` for every element), in ``input``'s
    dtype; zero gradient."""
    x = _t(input)
    refuse("bernoulli" if p is None else "bernoulli.p", x.dtype)
    prob = vals(x) if p is None else np.full(x.shape, float(p))
    if ((prob < 0) | (prob > 1)).any() or np.isnan(prob).any():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could "
                           "this error message be improved?  If so, please report an "
                           "enhancement request to PyTorch.)")
    value = (_creation.draws(generator).random(x.shape) < prob).astype(x.dtype)
    return _sampled(value, x if p is None else None)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Category indices drawn with weights ``input`` (a row per distribution: 1-D or 2-D),
    ``num_samples`` per row, with or without replacement."""
    w = vals(input).astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    rows = w.reshape(-1, w.shape[-1])
    n = rows.shape[1]
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                           "replacement")
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rng = _creation.draws(generator)
    out = []
    for r in rows:
        total = r.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out.append(rng.choice(n, size=num_samples, p=r / total))
        else:  # PyTorch's exponential race: the largest r / Exp(1); zero weights come last
            out.append(np.argsort(-(r / rng.exponential(size=n)), kind="stable")[:num_samples])
    idx = np.asarray(out, np.int64).reshape(w.shape[:-1] + (num_samples,))
    return const(idx)


def poisson(input, generator=None):
    """Poisson samples with rates ``input``, in its dtype; zero gradient."""
    x = _t(input)
    rates = vals(x)
    if (rates < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    value = _creation.draws(generator).poisson(rates).astype(x.dtype)
    return _sampled(value, x)


def _tri_indices(np_f):
    def fn(row, col, offset=0, *, dtype=None, device=None):
        r, c = np_f(int(row), int(offset), int(col))
        # numpy orders by row then column, as PyTorch does
        return _creation.tensor(np.stack([r, c]).astype(dtype or np.int64).reshape(2, -1),
                                device=device)

    return fn


tril_indices = _tri_indices(np.tril_indices)
tril_indices.__doc__ = "The (row, column) indices of the lower triangle of a row x col matrix."
triu_indices = _tri_indices(np.triu_indices)
triu_indices.__doc__ = "The (row, column) indices of the upper triangle of a row x col matrix."


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` values ``base ** t`` for ``t`` evenly spaced from ``start`` to ``end``."""
    dt = _creation.range_dtype(start, end, dtype, "logspace")
    if np.dtype(dt).kind == "c":
        e = _creation.linspace_values(start, end, steps, np.complex128)
    else:
        e = np.linspace(_num(start), _num(end), int(steps), dtype=np.float64)
    return _creation.tensor((float(base) ** e).astype(dt), device=device,
                            requires_grad=requires_grad)


def _num(v):
    return float(vals(v)) if isinstance(v, Tensor) else float(v)


def isposinf(input):
    """Whether each element is +inf."""
    v = vals(input)
    refuse("isposinf", v.dtype)
    return const(np.isposinf(v))


def isneginf(input):
    """Whether each element is -inf."""
    v = vals(input)
    refuse("isneginf", v.dtype)
    return const(np.isneginf(v))


def histc(input, bins=100, min=0, max=0):  # noqa: A002 (torch's argument names)
    """Counts of the values in ``bins`` equal bins over [min, max] (the data's range when
    both are 0); values outside are ignored. The counts have the input's dtype."""
    v = vals(input)
    refuse("histc" if min == max == 0 else "histc.range", v.dtype)
    if v.dtype.kind != "f":  # (PyTorch's kernel dispatch: a NotImplementedError)
        raise NotImplementedError(f'"{"linspace" if v.dtype.kind == "b" else "histogram"}_cpu" '
                                  f'not implemented for \'{torch_dtype_name(v.dtype)}\'')
    lo, hi = float(min), float(max)
    if lo == hi and v.size:
        lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    counts, _ = np.histogram(v[(v >= lo) & (v <= hi)], bins=int(bins), range=(lo, hi))
    return const(counts.astype(v.dtype))


__all__ = ["nonzero", "argwhere", "unravel_index", "unique", "unique_consecutive", "bincount",
           "searchsorted", "bucketize", "isin", "equal", "randperm", "tril_indices",
           "triu_indices", "logspace", "normal", "bernoulli", "multinomial", "poisson",
           "isposinf", "isneginf", "histc"]


