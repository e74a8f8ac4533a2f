"""Tests for tapegrad.grad_mode (PyTorch 2.13 grad-mode semantics)."""

import doctest
import functools
import threading

import pytest

from tapegrad import grad_mode
from tapegrad.grad_mode import (
    _set_grad_enabled,
    _set_inference_mode,
    _state,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)


@pytest.fixture(autouse=True)
def _restore_mode():
    """Every test starts from, and leaves, the default state (even when it fails)."""
    _state.grad_enabled = True
    _state.inference = False
    yield
    _state.grad_enabled = True
    _state.inference = False


def _mode():
    return is_grad_enabled(), is_inference_mode_enabled()


# Context-manager factories and the grad mode each one sets (from the default state).
GRAD_CMS = {
    "no_grad": (no_grad, False),
    "enable_grad": (enable_grad, True),
    "set_grad_enabled(False)": (lambda: set_grad_enabled(False), False),
    "set_grad_enabled(True)": (lambda: set_grad_enabled(True), True),
}
ALL_CMS = {
    **GRAD_CMS,
    "inference_mode": (inference_mode, False),
    "inference_mode(False)": (lambda: inference_mode(False), True),
}


# ---- defaults and accessors ----


def test_defaults():
    assert is_grad_enabled() is True
    assert is_inference_mode_enabled() is False
    assert type(_state).grad_enabled is True and type(_state).inference is False


def test_private_setters():
    _set_grad_enabled(False)
    assert is_grad_enabled() is False and _state.grad_enabled is False
    _set_grad_enabled(True)
    assert is_grad_enabled() is True
    _set_inference_mode(True)
    assert is_inference_mode_enabled() is True
    assert is_grad_enabled() is True  # the raw setter touches only its own flag
    _set_inference_mode(False)
    assert is_inference_mode_enabled() is False


def test_public_names():
    for name in grad_mode.__all__:
        assert hasattr(grad_mode, name)
    assert "get_grad_mode" not in grad_mode.__all__  # not a public name


def test_enter_returns_none():
    for factory, _ in ALL_CMS.values():
        with factory() as value:
            assert value is None


# ---- context managers and nesting ----


@pytest.mark.parametrize("name", list(GRAD_CMS))
def test_context_manager_sets_and_restores(name):
    factory, inside = GRAD_CMS[name]
    for start in (True, False):
        _set_grad_enabled(start)
        with factory():
            assert is_grad_enabled() is inside
        assert is_grad_enabled() is start


@pytest.mark.parametrize("outer", list(GRAD_CMS))
@pytest.mark.parametrize("inner", list(GRAD_CMS))
def test_nesting_all_combinations(outer, inner):
    outer_factory, outer_mode = GRAD_CMS[outer]
    inner_factory, inner_mode = GRAD_CMS[inner]
    with outer_factory():
        assert is_grad_enabled() is outer_mode
        with inner_factory():
            assert is_grad_enabled() is inner_mode
        assert is_grad_enabled() is outer_mode
    assert is_grad_enabled() is True


def test_deep_nesting():
    with no_grad():
        with no_grad():
            assert is_grad_enabled() is False
        assert is_grad_enabled() is False  # still off after the inner block
        with enable_grad():
            with no_grad():
                with enable_grad():
                    assert is_grad_enabled() is True
                assert is_grad_enabled() is False
            assert is_grad_enabled() is True
        assert is_grad_enabled() is False
    assert is_grad_enabled() is True


def test_same_instance_can_be_reused_sequentially():
    ctx = no_grad()
    for _ in range(3):
        with ctx:
            assert is_grad_enabled() is False
        assert is_grad_enabled() is True


@pytest.mark.parametrize("name", list(ALL_CMS))
def test_restore_after_exception(name):
    factory, _ = ALL_CMS[name]
    for start in (True, False):
        _set_grad_enabled(start)
        with pytest.raises(ValueError, match="boom"):
            with factory():
                raise ValueError("boom")
        assert _mode() == (start, False)


def test_exception_is_not_swallowed():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with no_grad():
            with enable_grad():
                raise Boom
    assert is_grad_enabled() is True


# ---- decorators ----


@pytest.mark.parametrize(
    "deco, expected",
    [
        (no_grad, False),
        (no_grad(), False),
        (enable_grad, True),
        (enable_grad(), True),
        (inference_mode, False),
        (inference_mode(), False),
        (inference_mode(True), False),
        (inference_mode(False), True),
    ],
    ids=[
        "no_grad",
        "no_grad()",
        "enable_grad",
        "enable_grad()",
        "inference_mode",
        "inference_mode()",
        "inference_mode(True)",
        "inference_mode(False)",
    ],
)
def test_decorator_with_and_without_parentheses(deco, expected):
    @deco
    def f(a, b=2):
        """Doc of f."""
        return a + b, is_grad_enabled()

    assert f.__name__ == "f" and f.__doc__ == "Doc of f."  # functools.wraps
    assert f(1) == (3, expected)
    assert f(1, b=5) == (6, expected)
    assert is_grad_enabled() is True
    with no_grad():
        assert f(1)[1] is expected
        assert is_grad_enabled() is False  # caller still in no-grad after the call
    assert _mode() == (True, False)


def test_bare_decorator_returns_function_not_instance():
    def f():
        return is_grad_enabled()

    g = no_grad(f)
    assert not isinstance(g, no_grad) and callable(g)
    assert g() is False and is_grad_enabled() is True
    assert isinstance(no_grad(), no_grad) and isinstance(enable_grad(), enable_grad)
    assert isinstance(inference_mode(), inference_mode)


def test_decorated_method():
    class Model:
        @no_grad()
        def forward(self, x):
            return x, is_grad_enabled()

    assert Model().forward(3) == (3, False)
    assert is_grad_enabled() is True


def test_decorated_function_restores_on_exception():
    @no_grad
    def f():
        raise KeyError("k")

    with pytest.raises(KeyError):
        f()
    assert is_grad_enabled() is True


def test_decorator_uses_mode_at_call_time_not_definition_time():
    with no_grad():

        @enable_grad
        def f():
            return is_grad_enabled()

    assert is_grad_enabled() is True
    with no_grad():
        assert f() is True
        assert is_grad_enabled() is False


# ---- set_grad_enabled ----


def test_set_grad_enabled_as_statement():
    ret = set_grad_enabled(False)
    assert is_grad_enabled() is False
    assert isinstance(ret, set_grad_enabled)
    assert repr(ret) == str(ret) == "tapegrad.grad_mode.set_grad_enabled(mode=False)"
    set_grad_enabled(True)
    assert is_grad_enabled() is True


def test_set_grad_enabled_context_restores_previous():
    with set_grad_enabled(False):
        assert is_grad_enabled() is False
        with set_grad_enabled(True):
            assert is_grad_enabled() is True
        assert is_grad_enabled() is False
    assert is_grad_enabled() is True
    with no_grad():
        with set_grad_enabled(True):
            assert is_grad_enabled() is True
        assert is_grad_enabled() is False


def test_set_grad_enabled_statement_inside_with_block_is_undone_on_exit():
    with no_grad():
        set_grad_enabled(True)
        assert is_grad_enabled() is True
    assert is_grad_enabled() is True
    with enable_grad():
        set_grad_enabled(False)
        assert is_grad_enabled() is False
    assert is_grad_enabled() is True  # enable_grad restores what it saw on entry


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_decorator(mode):
    @set_grad_enabled(mode)
    def f():
        return is_grad_enabled()

    assert is_grad_enabled() is True  # construction's switch was undone by decorating
    assert f() is mode
    assert is_grad_enabled() is True
    with no_grad():
        assert f() is mode
        assert is_grad_enabled() is False


def test_set_grad_enabled_decorator_defined_inside_no_grad():
    with no_grad():

        @set_grad_enabled(True)
        def f():
            return is_grad_enabled()

        assert is_grad_enabled() is False  # reset to the mode before construction
    assert is_grad_enabled() is True
    assert f() is True and is_grad_enabled() is True


@pytest.mark.parametrize(
    "bad, typename",
    [(1, "int"), (0, "int"), ("yes", "str"), (None, "NoneType"), (1.0, "float"), ([], "list")],
)
def test_set_grad_enabled_rejects_non_bool(bad, typename):
    msg = f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {typename}"
    with pytest.raises(TypeError) as info:
        set_grad_enabled(bad)
    assert str(info.value) == msg
    assert is_grad_enabled() is True  # nothing changed
    with pytest.raises(TypeError) as info:
        _set_grad_enabled(bad)
    assert str(info.value) == msg
    assert is_grad_enabled() is True


def test_set_grad_enabled_type_name_of_user_class():
    class Flag:
        pass

    with pytest.raises(TypeError, match=r"must be bool, not Flag$"):
        set_grad_enabled(Flag())


# ---- generators ----


def test_no_grad_generator_mode_inside_body_vs_caller():
    seen = []

    @no_grad()
    def gen(n):
        for i in range(n):
            seen.append(is_grad_enabled())
            yield i

    it = gen(3)
    assert seen == []  # nothing runs before the first next()
    out = []
    for value in it:
        out.append(value)
        assert is_grad_enabled() is True  # caller's mode between next() calls
    assert out == [0, 1, 2]
    assert seen == [False, False, False]
    assert is_grad_enabled() is True


def test_enable_grad_generator_advanced_inside_no_grad():
    @enable_grad
    def gen():
        yield is_grad_enabled()
        yield is_grad_enabled()

    with no_grad():
        it = gen()
        assert next(it) is True
        assert is_grad_enabled() is False
        assert next(it) is True
        assert is_grad_enabled() is False
    assert is_grad_enabled() is True


def test_generator_uses_callers_mode_at_each_resumption():
    @no_grad
    def gen():
        while True:
            yield is_grad_enabled()

    it = gen()
    assert next(it) is False
    with enable_grad():
        assert next(it) is False and is_grad_enabled() is True
    with no_grad():
        assert next(it) is False and is_grad_enabled() is False
    assert is_grad_enabled() is True


def test_generator_send_throw_return_value():
    @no_grad
    def gen():
        received = yield ("start", is_grad_enabled())
        try:
            yield ("got", received, is_grad_enabled())
        except ValueError as e:
            yield ("caught", str(e), is_grad_enabled())
        return "done"

    it = gen()
    assert next(it) == ("start", False)
    assert it.send(42) == ("got", 42, False)
    assert is_grad_enabled() is True
    assert it.throw(ValueError("v")) == ("caught", "v", False)
    assert is_grad_enabled() is True
    with pytest.raises(StopIteration) as info:
        next(it)
    assert info.value.value == "done"
    assert is_grad_enabled() is True


def test_generator_uncaught_throw_propagates_and_restores():
    @no_grad
    def gen():
        yield 1
        yield 2

    it = gen()
    next(it)
    with pytest.raises(KeyError):
        it.throw(KeyError("x"))
    assert is_grad_enabled() is True
    with pytest.raises(StopIteration):
        next(it)


def test_generator_exception_in_body_restores():
    @no_grad
    def gen():
        yield 1
        raise RuntimeError("inside")

    it = gen()
    assert next(it) == 1
    with pytest.raises(RuntimeError, match="inside"):
        next(it)
    assert is_grad_enabled() is True


def test_generator_close_runs_cleanup_under_the_mode():
    seen = []

    @no_grad
    def gen():
        try:
            yield 1
        finally:
            seen.append(is_grad_enabled())

    it = gen()
    next(it)
    it.close()
    assert seen == [False]
    assert is_grad_enabled() is True


def test_generator_yield_from_and_wraps():
    def inner():
        yield is_grad_enabled()
        yield is_grad_enabled()

    @inference_mode
    def outer():
        """Outer doc."""
        yield from inner()
        yield is_inference_mode_enabled()

    assert outer.__name__ == "outer" and outer.__doc__ == "Outer doc."
    assert list(outer()) == [False, False, True]
    assert _mode() == (True, False)


def test_generator_objects_are_independent():
    @no_grad
    def gen():
        yield is_grad_enabled()
        yield is_grad_enabled()

    a, b = gen(), gen()
    assert next(a) is False
    assert is_grad_enabled() is True
    assert next(b) is False
    assert next(a) is False and next(b) is False
    assert is_grad_enabled() is True


def test_set_grad_enabled_generator():
    @set_grad_enabled(False)
    def gen():
        yield is_grad_enabled()

    assert is_grad_enabled() is True
    assert list(gen()) == [False]
    assert is_grad_enabled() is True


# ---- threads ----


def _run_in_thread(fn):
    result = {}

    def target():
        try:
            result["value"] = fn()
        except BaseException as e:  # pragma: no cover - surfaced below
            result["error"] = e

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in result:  # pragma: no cover
        raise result["error"]
    return result["value"]


def test_thread_started_inside_no_grad_sees_default():
    with no_grad():
        assert _run_in_thread(_mode) == (True, False)
        assert is_grad_enabled() is False  # still off in the main thread after join()
    with inference_mode():
        assert _run_in_thread(_mode) == (True, False)
        assert _mode() == (False, True)


def test_thread_changes_do_not_leak_to_main_thread():
    def body():
        set_grad_enabled(False)
        _set_inference_mode(True)
        return _mode()

    assert _run_in_thread(body) == (False, True)
    assert _mode() == (True, False)
    # ... nor to a later thread
    assert _run_in_thread(_mode) == (True, False)


def test_threads_in_different_modes_concurrently():
    barrier = threading.Barrier(3)
    seen = {}

    def worker(name, factory):
        with factory():
            barrier.wait()  # all three threads are inside their blocks now
            seen[name] = _mode()
            barrier.wait()

    factories = {"no_grad": no_grad, "enable_grad": enable_grad, "inference": inference_mode}
    with no_grad():
        threads = [
            threading.Thread(target=worker, args=(name, f)) for name, f in factories.items()
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert is_grad_enabled() is False
    assert seen == {
        "no_grad": (False, False),
        "enable_grad": (True, False),
        "inference": (False, True),
    }


def test_decorated_function_called_from_many_threads():
    barrier = threading.Barrier(4)

    @no_grad
    def f():
        barrier.wait()
        return is_grad_enabled()

    results = []
    lock = threading.Lock()

    def worker():
        r = f()
        with lock:
            results.append((r, is_grad_enabled()))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(False, True)] * 4


# ---- inference mode ----


def test_inference_mode_flags():
    assert _mode() == (True, False)
    with inference_mode():
        assert _mode() == (False, True)
    assert _mode() == (True, False)
    with inference_mode(True):
        assert _mode() == (False, True)
    assert _mode() == (True, False)


def test_inference_mode_false():
    with inference_mode(False):
        assert _mode() == (True, False)
    assert _mode() == (True, False)


def test_inference_mode_false_enables_grad_like_pytorch():
    # PyTorch's InferenceMode(false) guard sets grad mode to !enabled, i.e. on.
    with no_grad():
        with inference_mode(False):
            assert _mode() == (True, False)
        assert _mode() == (False, False)
    with inference_mode():
        with inference_mode(False):
            assert _mode() == (True, False)
        assert _mode() == (False, True)
    assert _mode() == (True, False)


def test_grad_modes_inside_inference_mode():
    with inference_mode():
        with enable_grad():
            assert _mode() == (True, True)
        assert _mode() == (False, True)
        with no_grad():
            assert _mode() == (False, True)
        with set_grad_enabled(True):
            assert _mode() == (True, True)
        assert _mode() == (False, True)
    assert _mode() == (True, False)


def test_inference_mode_inside_no_grad_restores_grad_off():
    with no_grad():
        with inference_mode():
            assert _mode() == (False, True)
        assert _mode() == (False, False)
    assert _mode() == (True, False)


def test_nested_inference_mode_and_statement_inside():
    with inference_mode():
        with inference_mode():
            assert _mode() == (False, True)
        assert _mode() == (False, True)
        set_grad_enabled(True)  # undone when the inference block exits
    assert _mode() == (True, False)


def test_inference_mode_decorator_on_generator():
    @inference_mode()
    def gen():
        yield _mode()

    it = gen()
    assert next(it) == (False, True)
    assert _mode() == (True, False)


# ---- class decoration ----


@pytest.mark.parametrize(
    "make_deco",
    [
        lambda: no_grad,
        lambda: no_grad(),
        lambda: enable_grad,
        lambda: enable_grad(),
        lambda: set_grad_enabled(False),
        lambda: inference_mode,
        lambda: inference_mode(),
    ],
    ids=[
        "no_grad",
        "no_grad()",
        "enable_grad",
        "enable_grad()",
        "set_grad_enabled(False)",
        "inference_mode",
        "inference_mode()",
    ],
)
def test_decorating_a_class_raises(make_deco):
    deco = make_deco()
    with pytest.raises(RuntimeError, match="Cannot decorate classes"):

        @deco
        class A:
            pass

    assert _mode() == (True, False)


# ---- fresh context per call (re-entrancy) ----


@pytest.mark.parametrize(
    "make_deco, expected",
    [
        (no_grad, False),
        (enable_grad, True),
        (lambda: set_grad_enabled(False), False),
        (inference_mode, False),
    ],
    ids=["no_grad", "enable_grad", "set_grad_enabled(False)", "inference_mode"],
)
def test_recursion_uses_a_fresh_context_per_call(make_deco, expected):
    deco = make_deco()
    trace = []

    @deco
    def f(n):
        trace.append(is_grad_enabled())
        if n:
            f(n - 1)
        trace.append(is_grad_enabled())

    with no_grad() if expected else enable_grad():  # start from the opposite mode
        f(4)
        assert is_grad_enabled() is (not expected)  # the caller's mode is back
    assert trace == [expected] * 10
    assert _mode() == (True, False)


def test_reentrant_recursion_through_opposite_modes():
    trace = []

    @no_grad
    def a(n):
        trace.append(("a", is_grad_enabled()))
        if n:
            b(n - 1)
        trace.append(("a", is_grad_enabled()))

    @enable_grad
    def b(n):
        trace.append(("b", is_grad_enabled()))
        if n:
            a(n - 1)
        trace.append(("b", is_grad_enabled()))

    a(3)
    assert trace == [
        ("a", False),
        ("b", True),
        ("a", False),
        ("b", True),
        ("b", True),
        ("a", False),
        ("b", True),
        ("a", False),
    ]
    assert is_grad_enabled() is True


def test_decorated_call_does_not_share_state_with_decorator_instance():
    ctx = no_grad()

    @ctx
    def f():
        return is_grad_enabled()

    with ctx:  # entering the decorator's own instance must not break decorated calls
        assert f() is False
        assert is_grad_enabled() is False
    assert is_grad_enabled() is True


def test_clone_gives_new_equivalent_instances():
    for ctx in (no_grad(), enable_grad(), inference_mode(False)):
        c = ctx.clone()
        assert type(c) is type(ctx) and c is not ctx
    s = set_grad_enabled(False)
    c = s.clone()
    assert c is not s and c.mode is False
    set_grad_enabled(True)
    assert inference_mode(False).clone().mode is False


def test_functools_partial_is_decorated():
    def add(a, b):
        return a + b, is_grad_enabled()

    g = no_grad(functools.partial(add, 1))
    assert g(2) == (3, False)
    assert is_grad_enabled() is True


# ---- docstrings ----


def test_doctests():
    result = doctest.testmod(grad_mode, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
    assert _mode() == (True, False)
