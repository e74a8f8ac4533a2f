"""``set_multithreading_enabled`` / ``is_multithreading_enabled``, PyTorch's switch of its
multithreaded backward (one worker thread per device). tapegrad's backward runs on the calling
thread whatever the setting, so the switch is recorded (thread-local, restored on exit, usable
as a function, context manager or decorator) and changes nothing else."""

import threading

from ..grad_mode import _DecoratorContextManager


class _State(threading.local):
    enabled = True


_state = _State()


def is_multithreading_enabled():
    """Whether ``set_multithreading_enabled`` last turned multithreaded backward on (default)."""
    return _state.enabled


class set_multithreading_enabled(_DecoratorContextManager):
    """Turn multithreaded backward on or off, as PyTorch's: it takes effect when made; used with
    ``with`` the previous setting comes back on exit."""

    def __init__(self, mode):
        self.prev = _state.enabled
        _state.enabled = mode
        self.mode = mode

    def __enter__(self):
        pass

    def __exit__(self, exc_type, exc_value, traceback):
        _state.enabled = self.prev

    def clone(self):
        return self.__class__(self.mode)
