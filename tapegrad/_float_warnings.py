"""NumPy's floating-point warnings never escape tapegrad's own array code.

``tg.log(0)``, ``1 / 0``, ``inf - inf`` and the derivative formulas evaluated at such points
give IEEE's -inf, inf and NaN, as PyTorch's do, and PyTorch says nothing, whatever warnings
filters are installed; NumPy would warn "RuntimeWarning: divide by zero encountered in log"
from a line of tapegrad. Three parts, none of them a cost per op on the way that does not warn:

- one warnings filter at import ignores exactly those messages when attributed to a tapegrad
  module: the default filters, and pytest's (its own filters come after it);
- a filter the user puts in front of it later (``simplefilter("error")``, ``-W error``,
  pytest's ``filterwarnings = error``) makes the warning an exception raised out of the NumPy
  call: the forward's central NumPy calls (the elementwise and scalar ops, sums, reductions)
  catch ``RuntimeWarning`` there (a ``try`` costs nothing until it raises) and compute again
  under ``np.errstate(all="ignore")`` (``quiet``), or, where the call wrote its result in place
  before warning, keep it;
- a backward sweeps each segment with NumPy's floating-point errors ignored (``sweeping``:
  a context variable set once, ~0.1 µs); hooks and custom ``Function.backward`` run there with
  the user's own error state again (``as_user``).

Not covered: a filter in front that *shows* the warning (``"always"``, ``"default"``) prints
it from the forward's calls, as nothing is raised there to catch (the backward's are covered);
and NumPy calls off the central paths (less common ops) still raise under such a filter.
A user's own NumPy calls warn as before; tapegrad's deliberate warnings have other messages.
"""

import warnings
from contextvars import ContextVar

import numpy as np

warnings.filterwarnings(
    "ignore", message=r"(divide by zero|invalid value|overflow|underflow) encountered in",
    category=RuntimeWarning, module=r"tapegrad(\.|$)")


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
    one context variable set where the user's state is NumPy's default."""
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
