"""NumPy's floating-point warnings never escape tapegrad's own array code.

``tg.log(0)``, ``1 / 0``, ``inf - inf`` and the derivative formulas evaluated at such points
give IEEE's -inf, inf and NaN, as PyTorch's do, and PyTorch says nothing, whatever warnings
filters are installed; NumPy would warn "RuntimeWarning: divide by zero encountered in log"
from a line of tapegrad. Four parts, none of them a cost per op on the way that does not warn:

- one warnings filter at import ignores exactly those messages when attributed to a tapegrad
  module: the default filters, and pytest's (its own filters come after it);
- a filter the user puts in front of it later that *shows* them (``simplefilter("always")``,
  ``"default"``, ``catch_warnings(record=True)``) reaches ``warnings._showwarnmsg``, the
  stdlib's hook that writes (or records) a warning: ``_show`` drops those raised from a file of
  tapegrad there (only when a warning is shown: nothing on the way that does not warn);
- one that makes them errors (``simplefilter("error")``, ``-W error`` in a test run, pytest's
  ``filterwarnings = error``) raises out of the NumPy call: the forward's central NumPy calls
  (elementwise and scalar ops, sums, reductions, scans, casts, fft) catch ``RuntimeWarning``
  there (a ``try`` costs nothing until it raises) and compute again under
  ``np.errstate(all="ignore")`` (``quiet``), or keep a result already written in place;
- a backward sweeps each segment with NumPy's floating-point errors ignored (``begin_quiet``)
  when a filter of the user's is in front of the import-time one (a context variable set:
  ~1 µs, 1.5% of a 64-element ``(a * b).sum().backward()``; nothing otherwise); hooks and a
  user's custom ``Function.backward`` run with the user's own error state again (``as_user``).

Not covered: under a user's "always" filter, a warning NumPy attributes to a file of its own
(``np.fft`` of inf, a NumPy Python function called from tapegrad) is shown; under an "error"
filter, NumPy calls off the central paths raise; a user's ``np.seterr(all="raise")`` still
makes NumPy calls raise FloatingPointError (the backward's only while no filter of the user's
is in front). A user's own NumPy calls warn as before;
tapegrad's deliberate warnings have other messages.
"""

import os
import re
import warnings
from contextvars import ContextVar

import numpy as np

_IEEE = r"(divide by zero|invalid value|overflow|underflow) encountered in"
warnings.filterwarnings("ignore", message=_IEEE, category=RuntimeWarning,
                        module=r"tapegrad(\.|$)")
_OURS = warnings.filters[0]  # (that filter: ``begin_quiet`` looks for it in front)
_HOME, _ieee = os.path.dirname(os.path.abspath(__file__)) + os.sep, re.compile(_IEEE).match
_write = getattr(warnings, "_showwarnmsg", None)  # (the stdlib's hook, "replace if you like")


def _show(msg):
    """What ``warnings`` calls to write (or record) a warning its filters let through: NumPy's
    IEEE warnings raised in tapegrad's own code are dropped there too (a user's "always" or
    "default" filter in front of the one above); anything else is written as before."""
    if msg.category is RuntimeWarning and msg.filename.startswith(_HOME) and \
            _ieee(str(msg.message)):
        return
    _write(msg)


if _write is not None:
    warnings._showwarnmsg = _show


def quiet(f, *args, **kwargs):
    """``f(*args, **kwargs)`` with NumPy's floating-point errors ignored: the except branch
    of a NumPy call whose warning a user's filter turned into an exception."""
    with np.errstate(all="ignore"):
        return f(*args, **kwargs)


try:  # NumPy >= 2: the error state is one context variable (what np.errstate sets)
    from numpy._core._ufunc_config import _extobj_contextvar as _state, _make_extobj

    # two equal "ignore" states: which one is set tells the state to give user code back,
    # NumPy's default (nothing set: one object) or the user's own, held in ``_user``
    _IGNORE, _IGNORE_USERS = _make_extobj(all="ignore"), _make_extobj(all="ignore")
    _DEFAULT = _state.get()
except ImportError:  # (another layout: np.errstate itself, ~1 µs a backward)
    _state = None
_user = ContextVar("tapegrad_user_fp_state", default=None)


def begin_quiet():
    """Ignore NumPy's floating-point errors until ``end_quiet(token)`` (a backward's sweep):
    nothing while the import-time filter above is still the first (it ignores them: no
    filter of the user's is in front), else one context variable set where the user's state
    is NumPy's default (~1 µs: 1.5% of a 64-element ``(a * b).sum().backward()``)."""
    f = warnings.filters
    if f and f[0] is _OURS:
        return None
    if _state is None:
        e = np.errstate(all="ignore")
        e.__enter__()
        return e
    cur = _state.get()
    if cur is _DEFAULT:
        return _state.set(_IGNORE)
    if cur is _IGNORE or cur is _IGNORE_USERS:  # (a backward inside a backward)
        return _state.set(cur)
    return _state.set(_IGNORE_USERS), _user.set(cur)


def end_quiet(token):
    if token is None:
        return
    if _state is None:
        token.__exit__(None, None, None)
    elif type(token) is tuple:
        _state.reset(token[0])
        _user.reset(token[1])
    else:
        _state.reset(token)


def as_user(f):
    """``f`` (a pause into user code: hooks, a custom backward) run with the error state its
    caller had outside the backward."""
    def run(*args):
        if _state is None:
            return f(*args)
        cur = _state.get()
        if cur is _IGNORE:
            token = _state.set(_DEFAULT)
        elif cur is _IGNORE_USERS:
            token = _state.set(_user.get())
        else:
            return f(*args)
        try:
            return f(*args)
        finally:
            _state.reset(token)

    run.__name__ = run.__qualname__ = getattr(f, "__name__", "run")
    return run
