"""``scipy.special``'s ufuncs on tensors: ``gammaln``, ``digamma``/``psi``, ``erf`` & co.,
``expit``/``logit``/``log_expit``, ``xlogy``/``xlog1py``, ``entr``/``rel_entr``/``kl_div``,
``ndtr``/``ndtri``/``log_ndtr``, ``gamma``, ``betaln``, the Bessel ``i0``/``i1`` family,
``j0``/``j1``/``y0``/``y1``/``k0``/``k1`` (and ``k0e``/``k1e``) and the Huber losses, each as tapegrad's ``tapegrad.special`` function or a composition of ops.

SciPy's ufuncs reach ``Tensor.__array_ufunc__`` like NumPy's; the table is built when the first
one arrives (SciPy is imported by then), so ``import tapegrad`` never imports SciPy. SciPy's
plain functions (``logsumexp``, ``softmax``, ``scipy.stats``, ``scipy.linalg``) convert their
arguments with ``np.asarray`` instead, which refuses a tensor that requires grad.
"""

import numpy as np

from ..ops.record import as_tensor as _t
from . import _float, _op, numpy_pair as tensors_weak, provided


def _gamma(x):
    """``sign(Gamma(x)) exp(gammaln(x))``: its derivative ``Gamma(x) digamma(x)``."""
    import scipy.special as sp

    special = provided("special")
    x = _float(x)
    with np.errstate(all="ignore"):
        sign = np.sign(sp.gamma(np.asarray(x._data))).astype(x.dtype)
    return _op("exp")(special.gammaln(x)) * _t(sign)


def _betaln(a, b):
    special = provided("special")
    a, b = tensors_weak(a, b)
    a, b = _float(a), _float(b)
    return special.gammaln(a) + special.gammaln(b) - special.gammaln(a + b)


def _rel_entr(x, y):
    """``x log(x / y)`` for x > 0 and y > 0, 0 at x = 0 (y >= 0), inf elsewhere (SciPy's)."""
    x, y = tensors_weak(x, y)
    x, y = _float(x), _float(y)
    r = _op("xlogy")(x, x) - _op("xlogy")(x, y)
    xv, yv = np.asarray(x._data), np.asarray(y._data)
    with np.errstate(invalid="ignore"):
        bad = (xv < 0) | ((xv > 0) & (yv <= 0)) | ((xv == 0) & (yv < 0))
    if np.any(bad):
        r = _op("where")(_t(np.asarray(bad)), _t(np.asarray(np.inf, r.dtype)), r)
    return r


def _kl_div(x, y):
    x, y = tensors_weak(x, y)
    return _rel_entr(x, y) - x + y


def _huber(delta, r):
    """``r²/2`` for ``|r| <= delta``, ``delta (|r| - delta/2)`` beyond (SciPy's argument order)."""
    delta, r = tensors_weak(delta, r)
    r = _float(r)
    a = _op("abs")(r)
    inside = np.asarray((a <= delta)._data)
    return _op("where")(_t(inside), r * r * 0.5, delta * (a - delta * 0.5))


def _pseudo_huber(delta, r):
    delta, r = tensors_weak(delta, r)
    r = _float(r)
    return delta * delta * (_op("sqrt")(1.0 + (r / delta) ** 2) - 1.0)


def _log_expit(x):
    return provided("logsigmoid")(_float(x))


def _exp10(x):
    return _op("pow")(10.0, _float(x))


def _build():
    import scipy.special as sp

    from .ufuncs import cbrt

    special = provided("special")

    sigmoid = _op("sigmoid")
    names = {
        "gammaln": special.gammaln, "psi": special.digamma, "digamma": special.digamma,
        "erf": special.erf, "erfc": special.erfc, "erfinv": special.erfinv,
        "expit": lambda x: sigmoid(_float(x)), "logit": special.logit, "log_expit": _log_expit,
        "xlogy": special.xlogy, "xlog1py": special.xlog1py, "entr": special.entr,
        "rel_entr": _rel_entr, "kl_div": _kl_div, "ndtr": special.ndtr,
        "ndtri": special.ndtri, "log_ndtr": special.log_ndtr, "erfcx": special.erfcx,
        "i0": special.i0, "i0e": special.i0e, "i1": special.i1, "i1e": special.i1e,
        "j0": special.bessel_j0, "j1": special.bessel_j1, "y0": special.bessel_y0,
        "y1": special.bessel_y1, "k0": special.modified_bessel_k0,
        "k1": special.modified_bessel_k1, "k0e": special.scaled_modified_bessel_k0,
        "k1e": special.scaled_modified_bessel_k1,
        "gamma": _gamma, "betaln": _betaln, "huber": _huber, "pseudo_huber": _pseudo_huber,
        "exp2": special.exp2, "exp10": _exp10, "expm1": _op("expm1"), "log1p": _op("log1p"),
        "cbrt": cbrt,
    }
    return {getattr(sp, n): _in_numpy_dtypes(f) if getattr(sp, n).nin == 2 else f
            for n, f in names.items() if isinstance(getattr(sp, n, None), np.ufunc)}


def _in_numpy_dtypes(f):
    """``f`` given its two operands in SciPy's (NumPy's) result dtype: the torch-named
    functions it reuses (``xlogy``...) promote as PyTorch does."""
    from . import numpy_dtypes

    def handler(x1, x2):
        return f(*numpy_dtypes(x1, x2))

    handler.__name__ = getattr(f, "__name__", "handler")
    return handler


def ufunc_handlers():
    """SciPy ufunc -> handler; empty where SciPy is not installed."""
    try:
        return _build()
    except ImportError:
        return {}

