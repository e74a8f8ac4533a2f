"""``tapegrad.testing.assert_close``: PyTorch's comparison of tensors, arrays, numbers and
nested sequences or mappings of them, with its default tolerances per dtype and its messages.

Example:
    >>> import tapegrad as tg
    >>> tg.testing.assert_close(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-9]))
"""

import collections.abc

import numpy as np

from .tensor import Tensor

__all__ = ["assert_close"]

_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7), np.dtype(np.complex64): (1.3e-6, 1e-5),
               np.dtype(np.complex128): (1e-7, 1e-7)}


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None,
                 equal_nan=False, check_device=True, check_dtype=True, check_layout=True,
                 check_stride=False, msg=None):
    """Raise ``AssertionError`` unless ``actual`` and ``expected`` are close:
    ``|actual - expected| <= atol + rtol * |expected|`` elementwise, with equal shapes (and
    dtypes, devices unless told not to check), NaNs equal only with ``equal_nan``."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'rtol' if rtol is None else 'atol'}.")
    _compare(actual, expected, [], dict(rtol=rtol, atol=atol, equal_nan=equal_nan,
                                        check_device=check_device, check_dtype=check_dtype,
                                        msg=msg))


def _fail(text, path, msg):
    if path:
        text += "\n\nThe failure occurred for item " + "".join(f"[{p!r}]" for p in path)
    if callable(msg):
        text = msg(text)
    elif msg is not None:
        text = msg
    raise AssertionError(text)


def _compare(actual, expected, path, opts):
    if isinstance(actual, collections.abc.Mapping) and \
            isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            _fail(f"The keys of the mappings do not match:\n{sorted(map(str, actual))} != "
                  f"{sorted(map(str, expected))}", path, opts["msg"])
        for k in expected:
            _compare(actual[k], expected[k], path + [k], opts)
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            _fail(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                  path, opts["msg"])
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + [i], opts)
        return
    scalars = _is_number(actual) and _is_number(expected)
    if not scalars and not all(isinstance(v, (Tensor, np.ndarray, np.generic)) or _is_number(v)
                               for v in (actual, expected)):
        _fail(f"No comparison pair was able to handle inputs of type {type(actual)} and "
              f"{type(expected)}.", path, opts["msg"])
    a, e = _values(actual), _values(expected)
    if opts["check_device"] and isinstance(actual, Tensor) and isinstance(expected, Tensor) \
            and actual.device != expected.device:
        _fail(f"The values for attribute 'device' do not match: {actual.device} != "
              f"{expected.device}.", path, opts["msg"])
    if a.shape != e.shape:
        _fail(f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.", path,
              opts["msg"])
    if opts["check_dtype"] and not scalars and a.dtype != e.dtype:
        _fail(f"The values for attribute 'dtype' do not match: {a.dtype} != {e.dtype}.", path,
              opts["msg"])
    rtol, atol = opts["rtol"], opts["atol"]
    if rtol is None:
        rtol, atol = max(_TOLERANCES.get(a.dtype, (0.0, 0.0)), _TOLERANCES.get(e.dtype,
                                                                              (0.0, 0.0)))
    _check_values(a, e, rtol, atol, opts["equal_nan"], scalars or a.ndim == 0, path,
                  opts["msg"])


def _check_values(a, e, rtol, atol, equal_nan, scalar, path, msg):
    exact = a.dtype.kind in "biu" and e.dtype.kind in "biu"
    if a.dtype.kind == "b" or e.dtype.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    dtype = np.result_type(a, e, np.float64) if not exact else np.float64
    a64, e64 = a.astype(dtype), e.astype(dtype)
    with np.errstate(all="ignore"):
        diff = np.abs(a64 - e64)
        ok = diff <= atol + rtol * np.abs(e64)
        ok |= a64 == e64  # (equal infinities)
        if equal_nan:
            ok |= np.isnan(a64) & np.isnan(e64)
    if ok.all():
        return
    with np.errstate(all="ignore"):
        rel = diff / np.abs(e64)
    what = "equal" if exact else "close"
    if scalar:
        text = (f"Scalars are not {what}!\n\nExpected {e.item()} but got {a.item()}.\n"
                f"Absolute difference: {_shown(diff.item(), exact)}" +
                ("" if exact else f" (up to {atol} allowed)") +
                f"\nRelative difference: {rel.item()}" +
                ("" if exact else f" (up to {rtol} allowed)"))
        _fail(text, path, msg)
    bad = int((~ok).sum())
    lines = [f"Tensor-likes are not {what}!", "",
             f"Mismatched elements: {bad} / {ok.size} ({100 * bad / ok.size:.1f}%)"]
    for name, d, tol in (("absolute", diff, atol), ("relative", rel, rtol)):
        masked = np.where(ok, 0.0, np.nan_to_num(d, nan=np.inf))
        at = np.unravel_index(int(np.argmax(masked)), d.shape)
        lines.append(f"Greatest {name} difference: {_shown(d[at].item(), exact and d is diff)} "
                     f"at index "
                     f"{tuple(int(i) for i in at)}" + ("" if exact else f" (up to {tol} allowed)"))
    _fail("\n".join(lines), path, msg)


def _shown(x, exact):
    """A difference as PyTorch prints it: an integer for integer tensors."""
    return int(x) if exact else x


def _is_number(v):
    return isinstance(v, (bool, int, float, complex)) and not isinstance(v, np.generic)


def _is_sequence(v):
    return isinstance(v, collections.abc.Sequence) and not isinstance(v, (str, bytes))


def _values(v):
    if isinstance(v, Tensor):
        return np.asarray(v.detach().cpu().numpy())
    return np.asarray(v)
