"""Vector math for large float64 arrays: ``exp``, ``log``, ``sin``, ``cos``, ``erf`` as SIMD
Numba loops.

NumPy evaluates float64 ``sin``/``cos`` one element at a time with the C library (~16 ns an
element on the development VM) and ``exp``/``log`` the same way on CPUs where it has no
AVX-512 loop of its own (~4.5 ns). The kernels in ``kernels.py`` (FDLIBM's methods, written
branch-free so LLVM vectorises them; error < 1 ulp against the correctly rounded value,
``tests/test_vecmath.py``) take ~1-4 ns, in the widest vectors the CPU has
(``kernels.wide_vectors``). They are used for C-contiguous float64 arrays of at least
``THRESHOLD`` elements, and only for the functions where they beat NumPy on this CPU
(``ENABLED``); every other call is NumPy's. Elements a kernel does not handle exactly (nan,
inf, zeros and negatives of ``log``, results outside the normal range of ``exp``, ``sin``/``cos``
arguments beyond ``2**20``) are recomputed by NumPy, so special values, signed zeros, warnings
and ``np.errstate`` behave exactly as NumPy's. NumPy has no ``erf``: its kernel leaves NaN and
infinities to the scalar ``erf`` (``special``: SciPy's, or ``math``'s without SciPy), which also
computes every array the kernel does not take.

Float32 ``g * sin(x)``/``g * cos(x)`` (``times``, sin's and cos's derivatives) are one pass
of ``trig32_kernels`` (NumPy's float32 sin/cos are SIMD loops already, but its form of the
product takes a second pass over a fresh array).

This is the bottom layer: it imports NumPy here and Numba (``kernels.py``) on the first large
call, so ``import tapegrad`` and small programs never load or compile the kernels (the first
large call of a function compiles its loop: ~0.1-0.5 s, then cached on disk).
"""

import math

import numpy as np

THRESHOLD = 4096  # elements from which a kernel is used (below, NumPy's call overhead is less)


def _numpy_has_simd(feature):
    try:
        from numpy._core._multiarray_umath import __cpu_features__
    except ImportError:  # NumPy 1.x
        try:
            from numpy.core._multiarray_umath import __cpu_features__
        except ImportError:
            return False
    return bool(__cpu_features__.get(feature))


# Which kernels beat NumPy here. NumPy's float64 sin/cos are scalar loops on every CPU; its
# float64 exp/log are AVX-512 loops where the CPU has AVX512F (~1.4 ns, faster than ours).
ENABLED = {"sin": True, "cos": True, "exp": True, "log": True, "erf": True}
if _numpy_has_simd("AVX512F"):
    ENABLED["exp"] = ENABLED["log"] = False

_NP = {"exp": np.exp, "log": np.log, "sin": np.sin, "cos": np.cos}
_SPECIAL = {}


def special(name):
    """SciPy's ``erf``/``erfc`` ufunc (SciPy imported on first use: ~0.3 s); without SciPy,
    ``math``'s function applied to each element."""
    f = _SPECIAL.get(name)
    if f is None:
        try:
            import scipy.special as sp

            f = getattr(sp, name)
        except ImportError:
            f = np.vectorize(getattr(math, name), otypes=[np.float64])
        _SPECIAL[name] = f
    return f


def _scalar(name):
    """The function that computes what a kernel leaves out: NumPy's ufunc, or for ``erf``
    the scalar one of ``special``."""
    f = _NP.get(name)
    return special(name) if f is None else f


_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_F32 = np.dtype(np.float32)
_kernels = None


def _load():
    global _kernels
    if _kernels is None:
        from . import erf_kernels, kernels

        _kernels = ({**kernels.KERNELS, **erf_kernels.KERNELS}, kernels.outside, kernels.TIMES)
    return _kernels


def apply(name, x):
    """``name`` (a key of ``KERNELS``) of the float64 C-contiguous array ``x`` with the SIMD
    kernel, whatever its size; elements it does not handle exactly are NumPy's."""
    table, outside, _ = _load()
    loop, lo, hi = table[name]
    flat = x.reshape(-1)
    out = np.empty_like(x)
    oflat = out.reshape(-1)
    nbad = loop(flat, oflat)
    if nbad:
        idx = outside(flat, lo, hi, nbad)
        oflat[idx] = _scalar(name)(flat[idx])
    return out


def times(name, g, x, out=None, add=False):
    """``g * name(x)`` (``name``: "sin" or "cos"), into ``out`` when given, or added into
    ``out`` (``add``: ``out += g * name(x)``): one pass where the kernel applies (``g``, ``x``
    and ``out`` C-contiguous float64 or float32 arrays of one size, at least ``THRESHOLD``
    elements), else NumPy's passes (added: f(x), then one pass, ``add_product``); the same
    values either way (float32: f(x) the float32 kernel's, ``trig32``, for a contiguous
    ``x``)."""
    np_f = _NP[name]
    dt = x.dtype if type(x) is _ndarray else None
    if not (type(g) is _ndarray and (dt == _F64 or dt == _F32) and x.size >= THRESHOLD and
            ENABLED[name] and g.dtype == dt and x.shape == g.shape and
            x.flags.c_contiguous and g.flags.c_contiguous and
            (out is None or (type(out) is _ndarray and out.dtype == dt and
                             out.shape == x.shape and out.flags.c_contiguous and
                             not np.may_share_memory(out, x) and
                             (out is g and not add or not np.may_share_memory(out, g))))):
        if dt == _F32 and ENABLED[name] and x.size >= THRESHOLD and x.flags.c_contiguous:
            fx = trig32(name, x)  # (the float32 kernel's values, as in its one pass)
        else:
            fx = sin(x) if name == "sin" else cos(x)
        if add and _addable(out, g, fx):  # (float32 arrays: f(x), then one pass)
            _selects().add_product(out.reshape(-1), g.reshape(-1), fx.reshape(-1))
            return out
        return np.add(out, g * fx, out=out) if add else np.multiply(g, fx, out=out)
    table, outside, (into, scale, add_into) = _load()
    if dt == _F32:  # (float32: its own loops, the bounds of the float64 ones)
        into, scale, add_into = _trig32()
    if out is None:
        out = np.empty_like(x)
    flat, oflat, gflat = x.reshape(-1), out.reshape(-1), g.reshape(-1)
    cosine = name == "cos"
    if add:
        nbad = add_into(flat, gflat, oflat, cosine)
    else:
        nbad = scale(flat, oflat, cosine) if out is g else into(flat, gflat, oflat, cosine)
    if nbad:  # those elements hold g (or, adding, their sum so far): NumPy's f(x) goes in
        idx = outside(flat, table[name][1], table[name][2], nbad)
        if add:
            oflat[idx] += gflat[idx] * np_f(flat[idx])
        else:
            oflat[idx] *= np_f(flat[idx])
    return out


_t32 = []


def trig32(name, x, out=None):
    """``name`` ("sin" or "cos") of the C-contiguous float32 array ``x`` as ``times`` computes
    it for float32 (``trig32_kernels``, NumPy's function where that leaves an element)."""
    if out is None:
        out = np.empty_like(x)
    from . import trig32_kernels as K

    flat, oflat = x.reshape(-1), out.reshape(-1)
    nbad = K.trig_loop(flat, oflat, name == "cos")
    if nbad:
        idx = _load()[1](flat, -K.TRIG32_MAX, K.TRIG32_MAX, nbad)
        oflat[idx] = _NP[name](flat[idx])
    return out


def _trig32():
    """``trig32_kernels``' loops for float32 ``times`` (loaded on first use)."""
    if not _t32:
        from . import trig32_kernels as K

        assert K.TRIG32_MAX == _load()[0]["sin"][2]  # (``times`` recomputes the same elements)
        _t32.append((K.times_loop, K.scale_loop, K.times_add_loop))
    return _t32[0]


def _make(name):
    np_f = _NP[name]

    def f(x):  # (the test written out, also in ``erf``: fused softmax calls exp at every
        # size, and a shared predicate measured ~40 ns more per call)
        if type(x) is _ndarray and x.size >= THRESHOLD and ENABLED[name] \
                and x.dtype == _F64 and x.flags.c_contiguous:
            return apply(name, x)
        return np_f(x)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``np.{name}(x)``; a SIMD kernel for C-contiguous float64 arrays of "
                 f"``THRESHOLD`` elements or more where it beats NumPy (``ENABLED``).")
    f.small, f.threshold = np_f, THRESHOLD  # a caller may call NumPy itself below THRESHOLD
    return f


exp = _make("exp")
log = _make("log")
sin = _make("sin")
cos = _make("cos")


def erf(x):
    """``special("erf")(x)``; the SIMD kernel (``erf_kernels``, within 1 ulp) for C-contiguous
    float64 arrays of ``THRESHOLD`` elements or more (SciPy's and the C library's erf are
    scalar: ~15 ns an element here, the kernel ~5)."""
    if type(x) is _ndarray and x.size >= THRESHOLD and ENABLED["erf"] and x.dtype == _F64 \
            and x.flags.c_contiguous:
        return apply("erf", x)
    return special("erf")(x)


_select = None
_BOOL = np.dtype(np.bool_)


def where(cond, a, b):
    """``np.where(cond, a, b)``, the same values and dtype; a branch-free compiled select
    (``select_kernels``) where NumPy's branchy loop is slow: a float64/float32 result of at
    least ``THRESHOLD`` elements, ``cond`` a C-contiguous bool or float64 array (nonzero and
    NaN select ``a``, as in NumPy), ``a`` and ``b`` numbers or C-contiguous arrays of the
    result's dtype and ``cond``'s shape (no broadcasting); a one-value ``cond`` (a Python or
    NumPy bool) of a large result: a copy of the chosen operand."""
    if type(cond) is bool or type(cond) is np.bool_:  # a formula's test of a constant
        shape = np.broadcast_shapes(np.shape(a), np.shape(b))
        if math.prod(shape) < THRESHOLD:
            return np.where(cond, a, b)
        out = np.empty(shape, np.result_type(a, b))
        out[...] = a if cond else b  # one copy, where np.where's loop takes ~3x as long
        return out
    if type(cond) is not _ndarray or cond.size < THRESHOLD or not cond.flags.c_contiguous or \
            (cond.dtype != _BOOL and cond.dtype != _F64):  # (a saved 0/1 mask: float64)
        return np.where(cond, a, b)
    dtype = np.result_type(a, b)  # (NEP 50: a Python number takes the array's dtype)
    if dtype != _F64 and dtype != np.float32:
        return np.where(cond, a, b)
    args = []
    for v in (a, b):
        if type(v) is _ndarray and v.ndim:
            if v.shape != cond.shape or v.dtype != dtype or not v.flags.c_contiguous:
                return np.where(cond, a, b)
            args.append(v.reshape(-1))
        elif type(v) in (float, int) or (isinstance(v, (np.generic, _ndarray)) and
                                         np.ndim(v) == 0):
            args.append(dtype.type(v))
        else:
            return np.where(cond, a, b)
    kernels = _selects()
    out = np.empty(cond.shape, dtype)
    first, second = args
    flat = cond.reshape(-1)
    if type(first) is _ndarray and type(second) is _ndarray:
        kernels.select(flat, first, second, out.reshape(-1))
    elif type(second) is _ndarray:
        kernels.select_first_const(flat, first, second, out.reshape(-1))
    elif type(first) is _ndarray:
        kernels.select_second_const(flat, first, second, out.reshape(-1))
    else:
        return np.where(cond, a, b)
    return out


def relu(x):
    """``np.maximum(x, 0)`` of an array (its values: NaN kept, -0.0 made 0.0); one branch-free
    pass for C-contiguous float64/float32 arrays of ``THRESHOLD`` elements or more."""
    if x.size < THRESHOLD or not _selectable(x):  # (the size first: every small relu's path)
        return np.maximum(x, np.zeros((), x.dtype))
    out = np.empty_like(x)
    _selects().relu(x.reshape(-1), out.reshape(-1))
    return out


def leaky_relu(x, slope):
    """``where(x > 0, x, x * slope)`` of a real float array (``slope`` a Python number: in
    ``x``'s dtype, as NumPy's weak scalars), in one pass where ``relu`` makes one."""
    if not _selectable(x):
        try:
            return where(x > 0, x, x * slope)
        except RuntimeWarning:  # (x * slope overflowing, which a user's filter raised)
            with np.errstate(all="ignore"):
                return where(x > 0, x, x * slope)
    out = np.empty_like(x)
    _selects().leaky_relu(x.reshape(-1), x.dtype.type(slope), out.reshape(-1))
    return out


def c_order(x):
    """``np.ascontiguousarray(x)``; for a transposed float64/float32 matrix of ``THRESHOLD``
    elements or more whose columns are a multiple of 256 bytes apart, a copy in tiles
    (``transpose_kernels``): NumPy reads such columns one element at a time from rows that fall
    in a few cache sets (Xeon with AVX-512: (1024, 256) float64 transposed 0.73-0.92 ms against
    the tiles' 0.24-0.28, (1024, 1024) 6.4-6.9 against 1.4-1.5; (256, 1024) float64 0.31-0.33
    against 0.26-0.27). Columns at other distances ((500, 1000) float64: 4000 bytes) NumPy's
    copy reads as quickly or more (0.38 against 0.45-0.54 ms). The same values: a copy."""
    if not (type(x) is _ndarray and x.ndim == 2 and x.size >= THRESHOLD and
            (x.dtype == _F64 or x.dtype == _F32) and x.strides[0] == x.itemsize and
            x.strides[1] >= x.shape[0] * x.itemsize and x.strides[1] % 256 == 0 and
            not x.flags.c_contiguous):
        return np.ascontiguousarray(x)
    from . import transpose_kernels  # (compiled with the first such copy)

    out = np.empty(x.shape, x.dtype)
    transpose_kernels.copy_transposed(x, out)
    return out


def _addable(out, g, f):
    """Whether ``out += g * f`` may run as ``add_product``: C-contiguous float arrays of one
    dtype and shape, of ``THRESHOLD`` elements or more, ``out`` sharing memory with neither."""
    return (type(out) is _ndarray and type(g) is _ndarray and type(f) is _ndarray and
            _selectable(out) and out.dtype == g.dtype == f.dtype and
            out.shape == g.shape == f.shape and g.flags.c_contiguous and f.flags.c_contiguous
            and not np.may_share_memory(out, g) and not np.may_share_memory(out, f))


def _selectable(x):
    return type(x) is _ndarray and x.size >= THRESHOLD and x.flags.c_contiguous and \
        (x.dtype == _F64 or x.dtype == _F32)


def _selects():
    global _select
    if _select is None:
        from . import select_kernels

        _select = select_kernels
    return _select


def sigmoid(x):
    """PyTorch's overflow-free logistic function of a real float array: ``1/(1+e)`` where
    ``x >= 0``, else ``e/(1+e)``, ``e = exp(-|x|)`` (NumPy's exp). For C-contiguous
    float64/float32 arrays of ``THRESHOLD`` elements or more, ``e`` is computed in place and the
    rest in one branch-free pass (NumPy's expression makes five temporaries); the same values."""
    if not _selectable(x):
        e = np.exp(-np.abs(x))
        return where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    kernels = _selects()
    e = np.empty_like(x)
    kernels.negative_abs(x.reshape(-1), e.reshape(-1))
    np.exp(e, out=e)
    out = np.empty_like(x)
    kernels.logistic(x.reshape(-1), e.reshape(-1), x.dtype.type(1), out.reshape(-1))
    return out


def plain_sigmoid(x):
    """``1.0 / (1.0 + np.exp(-x))`` (derivative formulas' ``sigmoid``), the same values
    (``over_one_plus_exp_neg``)."""
    return over_one_plus_exp_neg(1.0, x)


def silu(x):
    """``x / (1.0 + np.exp(-x))``, the same values (``over_one_plus_exp_neg``)."""
    return over_one_plus_exp_neg(x, x)


def over_one_plus_exp_neg(num, x):
    """``num / (1.0 + np.exp(-x))``, ``num`` 1.0 or ``x`` itself; for C-contiguous
    float64/float32 arrays of ``THRESHOLD`` elements or more, NumPy's ``exp`` in place of the
    negation and one compiled pass for the two roundings after it (NumPy's expression: four
    passes, three arrays), the same values."""
    if not _selectable(x):
        return num / (1.0 + np.exp(-x))
    e = np.negative(x)
    np.exp(e, out=e)
    if num is x:
        _selects().over_one_plus_array(x.reshape(-1), e.reshape(-1))
    else:
        _selects().over_one_plus(e.dtype.type(num), e.reshape(-1))
    return e
