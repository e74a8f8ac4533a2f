"""``tg.use_deterministic_algorithms`` and its readers: the flag PyTorch scripts set for
reproducible runs, recorded and reported.

On the CPU every tapegrad op is deterministic, so the flag changes nothing there: reductions
and ``index_add``/``scatter_add``/``index_put(accumulate=True)`` add in a fixed order
(sequential compiled loops, ``np.add.at``, NumPy's pairwise sums), the backward sweep is one
thread walking the tape in order, and NumPy's BLAS gives the same bits from run to run for a
given thread count (``set_num_threads``).
On CUDA tensors, sums, scatters and index adds, and the backward of many small records add
with atomics, whose order (so the last bits) may vary between runs; the flag does not change
those kernels either, and raises or warns for none of them.
"""

_state = {"mode": False, "warn_only": False}
_DEBUG_NAMES = ("default", "warn", "error")


def _check_bool(value, name, position=""):
    if type(value) is not bool:
        raise TypeError(f"_set_deterministic_algorithms(): argument '{name}'{position} must be "
                        f"bool, not {type(value).__name__}")


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record whether deterministic algorithms are required (``torch.use_deterministic_
    algorithms``); ``warn_only`` too. Every tapegrad CPU op already is deterministic, so
    nothing runs differently (see this module's docstring for CUDA tensors)."""
    _check_bool(mode, "mode", " (position 1)")
    _check_bool(warn_only, "warn_only")
    _state["mode"], _state["warn_only"] = mode, warn_only


def are_deterministic_algorithms_enabled():
    """The ``mode`` last given to ``use_deterministic_algorithms`` (False at first)."""
    return _state["mode"]


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` last given to ``use_deterministic_algorithms``."""
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """``use_deterministic_algorithms`` by PyTorch's debug-mode names: "default" (0) off,
    "warn" (1) on with ``warn_only``, "error" (2) on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_NAMES:
            raise RuntimeError("invalid value of debug_mode, expected one of `default`, `warn`, "
                               f"`error`, but got {debug_mode}")
        debug_mode = _DEBUG_NAMES.index(debug_mode)
    elif not isinstance(debug_mode, int):
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode)}")
    if debug_mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got "
                           f"{debug_mode}")
    use_deterministic_algorithms(debug_mode != 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    """0, 1 or 2: the flag as ``set_deterministic_debug_mode`` numbers it."""
    if not _state["mode"]:
        return 0
    return 1 if _state["warn_only"] else 2
