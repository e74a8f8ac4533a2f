"""Grad mode: thread-local switches that decide whether operations are recorded.

Follows PyTorch 2.13 (``torch/autograd/grad_mode.py`` and ``torch/utils/_contextlib.py``):
``no_grad``, ``enable_grad``, ``set_grad_enabled`` and ``inference_mode`` are context managers
and decorators (``inference_mode``, ``no_grad`` and ``enable_grad`` also without parentheses),
they nest, restore the previous mode on exit (also when an exception escapes), wrap generator
functions so the mode holds only while the generator body runs, and give every decorated call a
fresh context. The state is per thread: a new thread always starts with grad mode on.

The hot path reads ``_state.grad_enabled`` (or :func:`recording`) on every op.

Forward mode ignores grad mode, as PyTorch's does: while a forward-mode computation runs
(``forward_level``: a ``forward_ad`` level, a ``jvp``/``jacfwd``/``linearize`` recording its
function), ``no_grad`` leaves ``_state.grad_enabled`` at ``FORWARD_ONLY``, a true value: ops
still record, on segments the tape marks forward-only (the forward sweep follows them, the
reverse sweeps treat them as constants), while :func:`is_grad_enabled` says False.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = [
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "inference_mode",
    "is_grad_enabled",
    "is_inference_mode_enabled",
]

F = TypeVar("F", bound=Callable[..., Any])


# ---- thread-local state ----


class _GradModeState(threading.local):
    """Per-thread grad-mode flags.

    The defaults live on the class, so a thread that never set a flag reads the class
    attribute: no ``__init__`` per thread and no ``getattr(..., default)`` on the hot path.
    """

    grad_enabled: bool = True
    inference: bool = False
    forward_levels: int = 0  # forward-mode computations running (``forward_level``)
    fw_leaves: list | None = None  # weak references: see ``drop_history_at_exit``


class _ForwardOnly:
    """``grad_enabled`` under ``no_grad`` inside forward mode: true, so ops record (their
    tangents), and not ``True``, so ``is_grad_enabled()`` is False."""

    __slots__ = ()

    def __bool__(self):
        return True

    def __repr__(self):
        return "FORWARD_ONLY"


FORWARD_ONLY = _ForwardOnly()
_state = _GradModeState()
NO_GRAD_VIEW = ("no_grad",)  # Tensor._multi of a view made under no_grad (or of its views)


def mark_no_grad_view(t, x):
    """Mark ``t``, a view of ``x`` made under no_grad (or a view of such a view), as PyTorch's:
    changing it in place with grad enabled is refused (ops/inplace.py), and it requires grad
    when ``x`` does, a leaf whose gradient reaches nothing (not ``x``, not its own ``.grad``,
    not its hooks): the tape imports a stand-in sharing its value (``_standin``) in its place,
    which takes the gradient nobody reads."""
    t._multi = NO_GRAD_VIEW
    if x._rg and t._seg is None:
        t._rg = True
        s = t._standin = object.__new__(type(t))  # (a bare tensor: the class holds defaults)
        s._data, s._rg, s._multi = t._data, True, NO_GRAD_VIEW  # (autograd/node.py: no node)
_on_switch = [None]  # tape.set_forward_only, registered by the tensor layer
_first_inference = []  # callbacks run once, when any thread first enters inference mode


def on_first_inference(fn):
    """Call ``fn()`` once, the first time inference mode is entered (the tensor layer uses it to
    start flagging inference tensors only in programs that use inference mode)."""
    _first_inference.append(fn)


def _inference_entered():
    while True:
        try:
            fn = _first_inference.pop()
        except IndexError:  # empty (another thread may have emptied it meanwhile)
            return
        fn()


def is_grad_enabled() -> bool:
    """Return whether gradient recording is enabled in the current thread.

    Example:
        >>> from tapegrad.grad_mode import no_grad, is_grad_enabled
        >>> is_grad_enabled()
        True
        >>> with no_grad():
        ...     is_grad_enabled()
        False
    """
    return _state.grad_enabled is True


def recording():
    """Whether ops record now (grad mode on, or off inside forward mode: ``FORWARD_ONLY``)."""
    return _state.grad_enabled


def _restore(mode):
    """Set ``_state.grad_enabled`` to ``mode`` (a saved value, or a new bool) where forward mode
    may be running: off means ``FORWARD_ONLY`` inside it, and plain off outside; the tape is
    told which kind of segment the records made from now on belong to."""
    s = _state
    if s.forward_levels:
        if mode is False:
            mode = FORWARD_ONLY
    elif mode is FORWARD_ONLY:
        mode = False
    s.grad_enabled = mode
    if _on_switch[0] is not None:
        _on_switch[0](mode is FORWARD_ONLY)


class forward_level:
    """Around a forward-mode computation: inside, ``no_grad`` does not stop tangents."""

    __slots__ = ()

    def __enter__(self):
        _state.forward_levels += 1
        _restore(_state.grad_enabled)

    def __exit__(self, *exc):
        s = _state
        s.forward_levels -= 1
        _restore(s.grad_enabled)
        if s.fw_leaves is not None and not s.forward_levels:
            refs, s.fw_leaves = s.fw_leaves, None
            for r in refs:
                t = r()
                if t is not None and t._seg is not None and t._seg.forward_only:
                    t._seg, t._rec, t._rg = None, -1, False


def drop_history_at_exit(t):
    """``t``, a leaf that requires no grad, takes a forward-only record (an in-place op under
    no_grad with a dual operand, ops/inplace.py): when forward mode ends it is a plain leaf
    again, as PyTorch's loses its tangent with the level, so that results computed from it
    afterwards do not require grad."""
    s = _state
    if s.fw_leaves is None:
        s.fw_leaves = []
    s.fw_leaves.append(weakref.ref(t))


class untracked:
    """Nothing is recorded inside, not even forward mode's tangents (``no_grad`` outside
    forward mode): an in-place update of a leaf under ``no_grad`` changes its value only."""

    __slots__ = ("prev",)

    def __enter__(self):
        s = _state
        self.prev = s.grad_enabled, s.forward_levels
        s.grad_enabled, s.forward_levels = False, 0
        if self.prev[0] is FORWARD_ONLY:  # (an enable_grad inside records plain segments)
            _on_switch[0](False)

    def __exit__(self, *exc):
        s = _state
        s.grad_enabled, s.forward_levels = self.prev
        if self.prev[0] is FORWARD_ONLY:
            _on_switch[0](True)


def on_forward_switch(fn):
    """Call ``fn(forward_only)`` whenever recording switches between forward-only and plain
    records (the tape starts a fresh segment of that kind)."""
    _on_switch[0] = fn


def is_inference_mode_enabled() -> bool:
    """Return whether inference mode is enabled in the current thread.

    Example:
        >>> from tapegrad.grad_mode import inference_mode, is_inference_mode_enabled
        >>> is_inference_mode_enabled()
        False
        >>> with inference_mode():
        ...     is_inference_mode_enabled()
        True
    """
    return _state.inference


def _typename(obj: object) -> str:
    """Name of ``type(obj)`` as CPython's ``tp_name`` spells it (``int``, ``numpy.bool``)."""
    t = type(obj)
    # Heap types (classes defined in Python) and builtins print their bare name; static
    # extension types such as numpy scalars print "module.name", as torch's error does.
    if t.__flags__ & (1 << 9) or t.__module__ == "builtins":  # 1 << 9 = Py_TPFLAGS_HEAPTYPE
        return t.__name__
    return f"{t.__module__}.{t.__name__}"


def _set_grad_enabled(mode: bool) -> None:
    """Set grad mode for this thread (``torch._C._set_grad_enabled``); ``mode`` must be bool."""
    if mode is not True and mode is not False:
        raise TypeError(
            "set_grad_enabled(): argument 'enabled' (position 1) must be bool, "
            f"not {_typename(mode)}"
        )
    _restore(mode)


def _set_inference_mode(mode: bool) -> None:
    """Set only the inference-mode flag of the current thread (grad mode is left alone)."""
    _state.inference = bool(mode)
    if mode:
        _inference_entered()


# ---- decorator machinery (torch/utils/_contextlib.py) ----

_CLASS_DECORATION_ERROR = (
    "Cannot decorate classes; it is ambiguous whether or not only the "
    "constructor or all methods should have the context manager applied; "
    "additionally, decorating a class at definition-site will prevent "
    "use of the identifier as a conventional type.  "
    "To specify which methods to decorate, decorate each of them "
    "individually."
)


def _wrap_generator(ctx_factory: Callable[[], Any], func: Callable[..., Any]) -> Callable:
    """Wrap a generator function so a fresh context is entered around each resumption."""

    @functools.wraps(func)
    def generator_context(*args, **kwargs):
        gen = func(*args, **kwargs)
        # The generator is suspended at every `yield`: enter the context each time control
        # goes back into it and leave it before control returns to our caller.
        try:
            with ctx_factory():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with ctx_factory():
                        gen.close()
                    raise
                except BaseException as exc:  # noqa: BLE001 - forward whatever was thrown in
                    with ctx_factory():
                        response = gen.throw(exc)
                else:
                    with ctx_factory():
                        response = gen.send(request)
        except StopIteration as e:
            return e.value

    return generator_context


def _context_decorator(ctx_factory: Callable[[], Any], func: Callable[..., Any]) -> Callable:
    """Decorate ``func`` so each call runs inside a fresh ``ctx_factory()`` context."""
    if inspect.isclass(func):
        # NOTE: torch 2.13's _DecoratorContextManager only warns (FutureWarning) and wraps the
        # constructor; tapegrad raises, with the message of torch's context_decorator, as
        # PyTorch announces it will.
        raise RuntimeError(_CLASS_DECORATION_ERROR)
    if inspect.isgeneratorfunction(func):
        return _wrap_generator(ctx_factory, func)

    @functools.wraps(func)
    def decorate_context(*args, **kwargs):
        with ctx_factory():
            return func(*args, **kwargs)

    return decorate_context


class _DecoratorContextManager:
    """Allow a context manager to be used as a decorator."""

    def __call__(self, orig_func: F) -> F:
        return _context_decorator(self.clone, orig_func)  # type: ignore[return-value]

    def __enter__(self) -> None:
        raise NotImplementedError

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        raise NotImplementedError

    def clone(self):
        """Return a fresh copy of this context manager (one per decorated call)."""
        return self.__class__()


class _NoParamDecoratorContextManager(_DecoratorContextManager):
    """Allow a context manager to be used as a decorator without parentheses."""

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)


# ---- public context managers ----


class no_grad(_NoParamDecoratorContextManager):
    """Context manager and decorator that disables gradient recording.

    Results computed inside do not require grad, even from inputs that do. Factory
    functions (``tensor``, ``ones``, ... with ``requires_grad=True``) are not affected.
    Thread-local; usable as ``with no_grad():``, ``@no_grad()`` and ``@no_grad``.

    Example:
        >>> from tapegrad.grad_mode import no_grad, is_grad_enabled
        >>> with no_grad():
        ...     is_grad_enabled()
        False
        >>> @no_grad
        ... def f():
        ...     return is_grad_enabled()
        >>> f(), is_grad_enabled()
        (False, True)
    """

    def __init__(self) -> None:
        self.prev = False

    def __enter__(self) -> None:
        s = _state
        self.prev = s.grad_enabled
        if s.forward_levels:
            _restore(False)
        else:
            s.grad_enabled = False

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        prev = self.prev
        if _state.forward_levels or prev is FORWARD_ONLY:
            _restore(prev)
        else:
            _state.grad_enabled = prev


class enable_grad(_NoParamDecoratorContextManager):
    """Context manager and decorator that enables gradient recording.

    Re-enables grad inside ``no_grad`` / ``set_grad_enabled(False)`` (and inside
    ``inference_mode``, where the inference flag stays on). Thread-local; usable as
    ``with enable_grad():``, ``@enable_grad()`` and ``@enable_grad``.

    Example:
        >>> from tapegrad.grad_mode import enable_grad, no_grad, is_grad_enabled
        >>> with no_grad():
        ...     with enable_grad():
        ...         print(is_grad_enabled())
        ...     print(is_grad_enabled())
        True
        False
    """

    def __enter__(self) -> None:
        s = _state
        self.prev = s.grad_enabled
        if s.forward_levels:
            _restore(True)
        else:
            s.grad_enabled = True

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        prev = self.prev
        if _state.forward_levels or prev is FORWARD_ONLY:
            _restore(prev)
        else:
            _state.grad_enabled = prev


class set_grad_enabled(_DecoratorContextManager):
    """Set gradient recording on or off; a function, context manager and decorator.

    The mode takes effect on construction, so a plain ``set_grad_enabled(False)`` statement
    switches grad off; used with ``with`` the previous mode comes back on exit. Thread-local.

    Args:
        mode: ``True`` to enable grad, ``False`` to disable it. Must be a ``bool``.

    Raises:
        TypeError: if ``mode`` is not a ``bool``.

    Example:
        >>> from tapegrad.grad_mode import set_grad_enabled, is_grad_enabled
        >>> with set_grad_enabled(False):
        ...     is_grad_enabled()
        False
        >>> _ = set_grad_enabled(False)
        >>> is_grad_enabled()
        False
        >>> _ = set_grad_enabled(True)
        >>> is_grad_enabled()
        True
    """

    def __init__(self, mode: bool) -> None:
        self.prev = _state.grad_enabled
        self.mode = mode
        _set_grad_enabled(mode)

    def __call__(self, orig_func: F) -> F:
        # Used as a decorator: undo the switch made on construction, then wrap.
        _restore(self.prev)
        return super().__call__(orig_func)

    def __enter__(self) -> None:
        _restore(self.mode)

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        _restore(self.prev)

    def __str__(self) -> str:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}(mode={self.mode})"

    def __repr__(self) -> str:
        return str(self)

    def clone(self) -> set_grad_enabled:
        """Return a fresh ``set_grad_enabled`` with the same mode."""
        return self.__class__(self.mode)


class inference_mode(_DecoratorContextManager):
    """Context manager and decorator that enables or disables inference mode.

    Like :class:`no_grad`, and more restrictive: tensors made inside are inference tensors.
    Entering ``inference_mode(True)`` sets inference on and grad off; entering
    ``inference_mode(False)`` sets inference off and grad **on** (as PyTorch's C++
    ``InferenceMode`` guard does). Both flags are restored on exit. Thread-local; usable as
    ``with inference_mode():``, ``@inference_mode()`` and ``@inference_mode``.

    Args:
        mode: ``True`` to enable inference mode, ``False`` to disable it; a function here
            means bare-decorator use.

    Example:
        >>> from tapegrad.grad_mode import inference_mode, is_inference_mode_enabled
        >>> from tapegrad.grad_mode import is_grad_enabled
        >>> with inference_mode():
        ...     is_inference_mode_enabled(), is_grad_enabled()
        (True, False)
        >>> with inference_mode(False):
        ...     is_inference_mode_enabled(), is_grad_enabled()
        (False, True)
    """

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return super().__new__(cls)
        return cls()(mode)

    def __init__(self, mode: bool = True) -> None:
        self.mode = mode

    def __enter__(self) -> None:
        s = _state
        self._prev = (s.grad_enabled, s.inference)
        mode = self.mode
        # (inference mode stops forward mode too, as PyTorch's: plain off, no FORWARD_ONLY)
        s.grad_enabled = not mode
        s.inference = mode
        if s.forward_levels and not mode:
            _restore(True)
        if mode and _first_inference:
            _inference_entered()  # tensor._make starts flagging inference tensors

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        s = _state
        s.grad_enabled, s.inference = self._prev
        if s.forward_levels or s.grad_enabled is FORWARD_ONLY:
            _restore(s.grad_enabled)

    def clone(self) -> inference_mode:
        """Return a fresh ``inference_mode`` with the same mode."""
        return self.__class__(self.mode)
