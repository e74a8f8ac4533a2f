"""NumPy's statistics on tensors, written with tapegrad ops: the NaN-skipping reductions
(``nansum``, ``nanmean``, ``nanvar``/``nanstd``, ``nanmax``/``nanmin``, ``nanprod``,
``nancumsum``/``nancumprod``), ``quantile``/``percentile`` and their NaN-skipping forms
(``nanquantile``/``nanpercentile``/``nanmedian``: linear interpolation between order
statistics), ``cov``/``corrcoef``, ``trapezoid`` and ``cumulative_sum``.

NaN entries are replaced by the reduction's neutral value with ``where`` on a constant mask, so
they get a zero gradient (but ``nanmean``'s in an all-NaN slice: NaN, as PyTorch's); the others
get the gradient of the plain reduction.
"""

import numpy as np

from ..ops.record import as_tensor as _t
from ..ops.record import compile_tracing
from ..ops.shapes import norm_dim
from ..tensor import Tensor
from . import _NV, _float, _kd, _need, _op, _to_float
from .shaping import _ravel


def _vals(x):
    return np.asarray(_t(x)._data)


def _filled(a, fill, complex_ok=True, keep_int=False):
    """``a`` with its NaNs replaced by ``fill`` (constant), and the NaN mask. A complex ``a``
    stays complex (a NaN in either part is a NaN, as NumPy's ``isnan``); where the caller has
    no complex rule (``complex_ok`` false) it is refused rather than cut to its real part.
    Integers and bools (no NaN) become float64, unless ``keep_int``: NumPy's nansum, nanprod,
    nanmax... of them are its sum, prod, max..., in their dtypes."""
    x = _t(a)
    if keep_int and x.dtype.kind not in "fc":
        return x, np.zeros(x.shape, bool)
    x = _to_float(x)
    if x.dtype.kind == "c":
        _need(complex_ok, "complex input")
    nan = np.isnan(_vals(x))
    if not nan.any() and not compile_tracing():
        return x, nan
    # under tg.compile the NaNs are found by ops (x != x), also where there are none: the
    # recorded program must not depend on the values (the next call's NaNs are replaced too)
    return _op("where")(_op("ne")(x, x), float(fill), x), nan


def _count(nan, axis, keepdims):
    return np.sum(~nan, axis=axis, keepdims=keepdims)


def nansum(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    from . import _sum

    x, _ = _filled(a, 0.0, keep_int=True)
    return _sum(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial,
                where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=_NV, *, where=_NV):
    from . import _common, _sum

    _common(out, where)
    x, nan = _filled(a, 0.0)
    ax = None if axis is None else _axis_tuple(axis, x.ndim)
    n = _count(nan, ax, _kd(keepdims))
    dead = np.all(nan, axis=ax, keepdims=True) if nan.size else nan
    if dead.any():  # an all-NaN slice: PyTorch's nansum(x) / 0 gives its entries the gradient
        # (g / 0) * 0, NaN; here they skip the where and are multiplied by a constant 0
        x = _op("where")(_t(nan & ~dead), 0.0, _to_float(_t(a))) * \
            _t((~dead).astype(_vals(x).real.dtype))
    with np.errstate(invalid="ignore", divide="ignore"):
        return _sum(x, axis=axis, dtype=dtype, keepdims=keepdims) / _t(n.astype(x.dtype))


def _axis_tuple(axis, ndim):
    return tuple(norm_dim(int(k), ndim) for k in ((axis,) if np.ndim(axis) == 0 else axis))


def _moment(root, skip_nan, plain=None):
    """var (``root``: std) over the entries that ``where=`` selects and, for nanvar/nanstd
    (``skip_nan``), that are not NaN: NumPy's mean and sum of squares over those entries, divided
    by their count less ``ddof``. Without either, ``plain`` (np.var/np.std's handler) runs."""
    def handler(a, axis=None, dtype=None, out=None, ddof=0, keepdims=_NV, *, where=_NV,
                mean=_NV, correction=_NV):
        from . import _cast, _common, _sum

        masked = where is not _NV and where is not True
        if not skip_nan and not masked:
            return plain(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean,
                         correction=correction)
        _common(out)
        _need(mean is _NV, "mean=")
        ddof = ddof if correction is _NV else correction
        if skip_nan:
            x, left_out = _filled(a, 0.0)
        else:
            x = _to_float(_cast(a, dtype))
            left_out = np.zeros(x.shape, bool)
        if masked:
            dropped = ~np.broadcast_to(np.asarray(_t(where)._data, dtype=bool), x.shape)
            x = _op("where")(dropped, _t(np.zeros((), x.dtype)), x)
            left_out = left_out | dropped
        ax = None if axis is None else _axis_tuple(axis, x.ndim)
        n = _count(left_out, ax, True).astype(x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = _sum(x, axis=axis, keepdims=True) / _t(n)
            d = _op("where")(left_out, _t(np.zeros((), x.dtype)), x - m)
            dof = np.maximum(n - ddof, 0).real
            # |d|^2: a complex spread is real, as NumPy's
            sq = (d.conj() * d).real if x.dtype.kind == "c" else d * d
            v = _sum(sq, axis=axis, keepdims=True) / _t(dof)
        v = v if _kd(keepdims) else _squeeze(v, ax, x.ndim)
        return _root(v) if root else v

    return handler


def _root(v):
    """``sqrt`` of a variance with PyTorch's ``std_backward`` rule (np.std's): the gradient is 0
    where the spread is 0 (constant data, one value), not the chain rule's ``inf * 0`` = NaN."""
    zero = v.detach().numpy() == 0
    if not zero.any():
        return _op("sqrt")(v)
    safe = _op("where")(zero, _t(np.ones((), v.dtype)), v)
    return _op("where")(zero, _t(np.zeros((), v.dtype)), _op("sqrt")(safe))


def _squeeze(v, axes, ndim):
    if axes is None:
        return _op("reshape")(v, ())
    return _op("reshape")(v, tuple(s for k, s in enumerate(v.shape) if k not in axes))


def _nanextreme(name, fill):
    def handler(a, axis=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
        from . import _extreme

        x, nan = _filled(a, fill, complex_ok=False, keep_int=True)
        if nan.any():
            _need(not np.all(nan, axis=axis).any(), "an all-NaN slice")
        r = _extreme(name)(x, axis=axis, out=out, keepdims=keepdims, initial=initial,
                           where=where)
        if x.dtype.kind != "f" or initial is not _NV or not compile_tracing():
            return r  # (with initial=, an all-NaN slice's is initial: NumPy's, for arrays)
        # a replay may meet an all-NaN slice the recording call had none of: NaN there, as
        # NumPy's, not the fill value
        v = _t(a)
        return _op("where")(_extreme("amax")(_op("eq")(v, v), axis=axis, keepdims=keepdims),
                            r, float("nan"))

    return handler


def nanprod(a, axis=None, dtype=None, out=None, keepdims=_NV, initial=_NV, where=_NV):
    from . import _prod

    x, _ = _filled(a, 1.0, keep_int=True)
    return _prod(x, axis=axis, dtype=dtype, out=out, keepdims=keepdims, initial=initial,
                 where=where)


def nancumsum(a, axis=None, dtype=None, out=None):
    from .shaping import _cumsum

    return _cumsum(_filled(a, 0.0, keep_int=True)[0], axis=axis, dtype=dtype, out=out)


def nancumprod(a, axis=None, dtype=None, out=None):
    from .composites import cumprod

    return cumprod(_filled(a, 1.0, keep_int=True)[0], axis=axis, dtype=dtype, out=out)


def cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    from .shaping import _cumsum

    return cumulative(lambda t, ax: _cumsum(t, axis=ax, dtype=dtype, out=out), 0.0, x, axis,
                      include_initial)


def cumulative(scan, initial, x, axis, include_initial):
    """NumPy 2's ``cumulative_sum``/``cumulative_prod``: ``scan(x, axis)``, with the
    operation's identity ``initial`` in front along ``axis`` when ``include_initial``."""
    x = _t(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError("For arrays which have more than one dimension ``axis`` argument "
                             "is required.")
        axis = 0
    r = scan(x, axis)
    if include_initial:
        ax = norm_dim(axis, r.ndim)
        first = _t(np.full(r.shape[:ax] + (1,) + r.shape[ax + 1:], initial, r.dtype))
        r = _op("cat")([first, r], dim=ax)
    return r


INTERPOLATIONS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile_along(y, qv, dim, skip_nan=False, interpolation="linear", q_grad=None):
    """Quantiles ``qv`` (a 0-d or 1-d array in [0, 1]) of ``y`` along ``dim`` at ``q (n - 1)``
    between the two order statistics around it: interpolated linearly, the lower, the higher,
    the nearest (ties to even) or their midpoint; the gradient goes to the entries read. The
    result has q's axis first (when ``qv`` is 1-d) and ``dim`` kept with size 1. NaN
    propagates to its slice (read from the NaN itself, which sorts last, so the gradient goes
    there, as PyTorch's), or (``skip_nan``) is left out of the count, with NaN where a slice has
    no other value. ``q_grad``: ``qv`` as a tensor that requires grad, which gets the linear
    interpolation's gradient (``(n - 1) (b - a)``, PyTorch's; the other methods have none)."""
    v = _vals(y)
    order = np.argsort(v, axis=dim, kind="stable")  # NaN sorts last
    nan = np.isnan(v)
    n = (np.sum(~nan, axis=dim, keepdims=True) if skip_nan else
         np.full(v.shape[:dim] + (1,) + v.shape[dim + 1:], v.shape[dim]))
    bad = (n == 0) if skip_nan else nan.any(axis=dim, keepdims=True)
    if skip_nan and bad.any():
        import warnings

        warnings.warn("All-NaN slice encountered", RuntimeWarning, stacklevel=4)
    outs = []
    if interpolation != "linear":
        q_grad = None
    for i, q in enumerate(np.atleast_1d(qv)):
        pos = q * (np.maximum(n, 1) - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        if interpolation in ("lower", "higher", "nearest"):
            lo = hi = (lo if interpolation == "lower" else np.ceil(pos) if interpolation ==
                       "higher" else np.round(pos)).astype(np.int64)
            frac = np.zeros_like(pos)
        elif interpolation == "midpoint":
            hi = np.ceil(pos).astype(np.int64)
            frac = np.full_like(pos, 0.5)
        if not skip_nan and bad.any():
            lo = np.where(bad, n - 1, lo)  # (the last sorted: a NaN)
            hi = np.where(bad, n - 1, hi)
        a = _op("gather")(y, dim, _t(np.take_along_axis(order, lo, axis=dim)))
        if interpolation in ("lower", "higher", "nearest"):
            r = a
        else:
            b = _op("gather")(y, dim, _t(np.take_along_axis(order, hi, axis=dim)))
            if q_grad is None:
                r = a + (b - a) * _t(frac.astype(y.dtype))
            else:  # frac = q (n - 1) - lo, of the tensor q
                qi = q_grad if q_grad.ndim == 0 else q_grad[i]
                span = _t((np.maximum(n, 1) - 1).astype(y.dtype))
                step = b - a
                if not skip_nan and bad.any():  # (a NaN slice gives q no gradient, as PyTorch)
                    step = _op("where")(bad, 0.0, step)
                r = a + step * (qi * span - _t(lo.astype(y.dtype)))
        if skip_nan and bad.any():
            r = _op("where")(bad, _t(np.asarray(np.nan, y.dtype)), r)
        outs.append(r)
    return _op("stack")(outs, dim=0) if np.ndim(qv) else outs[0]


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None, interpolation=None, _skip_nan=False):
    """The 'linear', 'lower', 'higher', 'nearest' and 'midpoint' methods
    (``quantile_along``), over one axis, several, or all."""
    _need(out is None, "out=")
    method = interpolation if interpolation is not None else method
    _need(method in INTERPOLATIONS and weights is None,
          "a method other than linear, lower, higher, nearest or midpoint")
    x = _float(a)
    qv = np.asarray(q._data if hasattr(q, "_data") else q, dtype=np.float64)
    if np.any((qv < 0) | (qv > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    if axis is None:
        y, kshape = _ravel(x), (1,) * x.ndim
    else:
        axes = _axis_tuple(axis, x.ndim)
        rest = [k for k in range(x.ndim) if k not in axes]
        y = _op("permute")(x, tuple(rest + list(axes)))
        y = _op("reshape")(y, tuple(x.shape[k] for k in rest) + (-1,))
        kshape = tuple(1 if k in axes else x.shape[k] for k in range(x.ndim))
    q_grad = q if isinstance(q, Tensor) and q.requires_grad else None
    if q_grad is not None and q_grad.ndim:
        q_grad = _op("reshape")(q_grad, (-1,))
    r = quantile_along(y, qv.reshape(-1) if qv.ndim else qv, y.ndim - 1, _skip_nan, method,
                       q_grad)
    r = _op("squeeze")(r, -1)
    if keepdims:
        return _op("reshape")(r, qv.shape + kshape)
    return _op("reshape")(r, qv.shape + tuple(r.shape[1 if qv.ndim else 0:]))


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    return quantile(a, q, axis, out, overwrite_input, method, keepdims, weights=weights,
                    interpolation=interpolation, _skip_nan=True)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None, interpolation=None, _of=quantile):
    qv = np.asarray(q._data if hasattr(q, "_data") else q, dtype=np.float64)
    if np.any((qv < 0) | (qv > 100)):
        raise ValueError("Percentiles must be in the range [0, 100]")
    q = q / 100.0 if isinstance(q, Tensor) and q.requires_grad else qv / 100.0  # (its graph)
    return _of(a, q, axis, out, overwrite_input, method, keepdims, weights=weights,
               interpolation=interpolation)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    return percentile(a, q, axis, out, overwrite_input, method, keepdims, weights=weights,
                      interpolation=interpolation, _of=nanquantile)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=_NV):
    return nanquantile(a, 0.5, axis, out, keepdims=_kd(keepdims))


def _cov_weights(w, name, n, integral):
    """NumPy's checks of cov's ``fweights``/``aweights``; the weights as a float64 tensor
    (a tensor's graph kept: a weighted covariance is differentiable in its weights)."""
    if w is None:
        return None
    wt = _t(w)
    v = _vals(wt)
    if integral and not np.all(v == np.around(v)):
        raise TypeError("fweights must be integer")
    if v.ndim > 1:
        raise RuntimeError(f"cannot handle multidimensional {name}")
    if v.shape[0] != n:
        raise RuntimeError(f"incompatible numbers of samples and {name}")
    if np.any(v < 0):
        raise ValueError(f"{name} cannot be negative")
    return wt.to(np.float64)


def weighted_cov(x, ddof, fw, aw):
    """Covariance of the rows of the 2-D ``x`` over observations weighted by ``fw * aw``
    (either may be None), normalised as NumPy's and PyTorch's: sum(w) - ddof * sum(w * aw)
    / sum(w), clamped at 0 (no degrees of freedom left gives inf/nan, not a negative)."""
    w = fw if aw is None else aw if fw is None else fw * aw
    w_sum = _op("sum")(w)
    xc = x - _op("sum")(x * w, dim=1, keepdim=True) / w_sum
    if ddof == 0:
        fact = w_sum
    elif aw is None:
        fact = w_sum - ddof
    else:
        fact = w_sum - ddof * _op("sum")(w * aw) / w_sum
    return xc @ (xc * w).T.conj() / _op("clamp")(fact, min=0.0)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    x = _to_float(m)  # (complex kept: X X^H, as NumPy's)
    _need(x.ndim <= 2, "inputs of more than 2 dimensions")
    x = _op("reshape")(x, (1, -1)) if x.ndim < 2 else x
    if not rowvar and x.shape[0] != 1:
        x = x.T
    if y is not None:
        yy = _to_float(y)
        yy = _op("reshape")(yy, (1, -1)) if yy.ndim < 2 else yy
        if not rowvar and yy.shape[0] != 1:
            yy = yy.T
        x = _op("cat")([x, yy], dim=0)
    if dtype is not None:
        x = x.to(dtype)
    ddof = (0 if bias else 1) if ddof is None else ddof
    n = x.shape[1]
    fw = _cov_weights(fweights, "fweights", n, True)
    aw = _cov_weights(aweights, "aweights", n, False)
    if fw is not None or aw is not None:
        c = weighted_cov(x, ddof, fw, aw)
        return _op("reshape")(c, ()) if c.shape == (1, 1) else c
    xc = x - _op("mean")(x, dim=1, keepdim=True)
    xx = xc @ xc.T.conj()
    c = xx * (1.0 / max(n - ddof, 0)) if n - ddof > 0 else xx * np.inf
    return _op("reshape")(c, ()) if c.shape == (1, 1) else c


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = _op("sqrt")(_op("diagonal")(c, 0, 0, 1).real)
    return c / _op("reshape")(d, (-1, 1)) / _op("reshape")(d, (1, -1))


def trapezoid(y, x=None, dx=1.0, axis=-1):
    yv = _to_float(y)  # (complex kept: sums and products have complex rules)
    ax = norm_dim(axis, yv.ndim)
    lead = (slice(None),) * ax
    mid = (yv[lead + (slice(1, None),)] + yv[lead + (slice(None, -1),)]) * 0.5
    if x is None:
        return _op("sum")(mid, dim=ax) * dx
    xv = _to_float(x)
    if xv.ndim == 1:
        d = xv[1:] - xv[:-1]
        d = _op("reshape")(d, (-1,) + (1,) * (yv.ndim - ax - 1))
    else:
        d = xv[lead + (slice(1, None),)] - xv[lead + (slice(None, -1),)]
    return _op("sum")(mid * d, dim=ax)


def _float64_at_least(f):
    """``f`` (cov, corrcoef) as NumPy's, which computes in float64 at least (float32 data too)
    unless ``dtype=`` says otherwise; torch_names calls ``f`` itself (PyTorch keeps float32)."""

    def handler(m, y=None, *args, dtype=None, **kwargs):
        if dtype is None:
            dtype = np.result_type(*(v.dtype if isinstance(v, Tensor) else np.asarray(v).dtype
                                     for v in (m, y) if v is not None), np.float64)
        return f(m, y, *args, dtype=dtype, **kwargs)

    return handler


def function_handlers():
    from . import _FUNC_HANDLERS, _values_only

    f = {np.nansum: nansum, np.nanmean: nanmean, np.nanvar: _moment(False, True),
         np.nanstd: _moment(True, True), np.nanmax: _nanextreme("amax", -np.inf),
         np.nanmin: _nanextreme("amin", np.inf), np.nanprod: nanprod, np.nancumsum: nancumsum,
         np.nancumprod: nancumprod, np.quantile: quantile, np.percentile: percentile,
         np.cov: _float64_at_least(cov), np.corrcoef: _float64_at_least(corrcoef), np.trapezoid: trapezoid,
         np.nanquantile: nanquantile, np.nanpercentile: nanpercentile, np.nanmedian: nanmedian}
    for g, root in ((np.var, False), (np.std, True)):  # (where=: _moment)
        f[g] = _moment(root, False, _FUNC_HANDLERS[g])
    if hasattr(np, "cumulative_sum"):  # NumPy >= 2.1
        f[np.cumulative_sum] = cumulative_sum
    for g in (np.nanargmax, np.nanargmin):
        f[g] = _values_only(g)
    return f
