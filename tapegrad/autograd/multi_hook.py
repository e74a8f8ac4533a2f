"""``tg.autograd.graph.register_multi_grad_hook``: one hook over the gradients of several
tensors, built on tensor hooks.

Each tensor gets a hook that files its gradient under the backward running on this thread
(``driver.current_task``, distinct for a reentrant backward and per thread). Mode ``"all"``
calls ``fn(grads)`` once per backward: as soon as every tensor's gradient is in, or, where
some tensor is not reached (off the graph, or pruned by ``inputs=``), at the end of that
backward with None in its place. PyTorch asks its engine beforehand which nodes will run and
calls ``fn`` at the last one reached; here the tensors not reached are known only once the
sweep is over, so ``fn`` then runs after the leaves' ``.grad`` were accumulated. Mode
``"any"`` calls ``fn(grad)`` with the first gradient computed in each backward.
"""

import threading

__all__ = ["register_multi_grad_hook"]


class _MultiHandle:
    """What ``register_multi_grad_hook`` returns: ``remove()`` removes every hook."""

    def __init__(self, handles):
        self.handles = handles
        self.removed = False  # (an "all" hook removed mid-backward is not flushed at its end)

    def remove(self):
        self.removed = True
        for h in self.handles:
            h.remove()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _task():
    from .driver import current_task

    task = current_task()
    if task is None:
        raise AssertionError("expected this hook to be called inside a backward call")
    return task


def _queue(fn):
    from .driver import queue_callback

    queue_callback(fn)


def register_multi_grad_hook(tensors, fn, *, mode="all"):
    """Call ``fn`` once per backward with the gradients of ``tensors`` (see the module's
    doc); returns a handle whose ``remove()`` unregisters it.

    Example:
        >>> import tapegrad as tg
        >>> a, b = tg.ones(2, requires_grad=True), tg.ones(1, requires_grad=True)
        >>> h = tg.autograd.graph.register_multi_grad_hook((a, b), print)
        >>> (a * 2).sum().backward()
        [tensor([2., 2.]), None]
    """
    modes = ("all", "any")
    if mode not in modes:
        raise ValueError(f"Expects mode to be one of {modes} but got {mode}")
    tensors = tuple(tensors)
    lock = threading.Lock()
    state = {}  # id(task) -> [task, grads, count, called]: one entry per running backward

    if mode == "any":
        def any_hook(grad):
            task = _task()
            with lock:
                e = state.get(id(task))
                if e is not None and e[0] is task:
                    return
                state[id(task)] = (task,)
            _queue(lambda: state.pop(id(task), None))
            fn(grad)

        return _MultiHandle(tuple(t.register_hook(any_hook) for t in tensors
                                  if t.requires_grad))

    for t in tensors:
        if not t.requires_grad:
            raise AssertionError("Expected gradient function to be set")
    n = len(tensors)
    handle = _MultiHandle(())

    def flush(task):
        with lock:
            e = state.pop(id(task), None)
        if e is not None and e[0] is task and not e[3] and not handle.removed:
            fn(e[1])

    def inner(i):
        def hook(grad):
            task = _task()
            with lock:
                e = state.get(id(task))
                first = e is None or e[0] is not task
                if first:
                    e = state[id(task)] = [task, [None] * n, 0, False]
                e[1][i] = grad
                e[2] += 1
                complete = e[2] == n
                if complete:
                    e[3] = True
            if first:
                _queue(lambda: flush(task))
            if complete:
                fn(e[1])

        return hook

    handle.handles = tuple(t.register_hook(inner(i)) for i, t in enumerate(tensors))
    return handle
