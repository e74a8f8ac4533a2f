"""autograd.set_multithreading_enabled / is_multithreading_enabled (they were missing): the
switch's states as a function, context manager and decorator, as PyTorch's; thread-local; a
backward under it unchanged."""

import threading

import tapegrad as tg


def _trace(lib):
    A = lib.autograd
    out = [A.is_multithreading_enabled()]
    with A.set_multithreading_enabled(False):
        out.append(A.is_multithreading_enabled())
    out.append(A.is_multithreading_enabled())
    A.set_multithreading_enabled(False)
    out.append(A.is_multithreading_enabled())

    @A.set_multithreading_enabled(True)
    def inside():
        return A.is_multithreading_enabled()

    out += [A.is_multithreading_enabled(), inside(), A.is_multithreading_enabled()]
    seen = []
    worker = threading.Thread(target=lambda: seen.append(A.is_multithreading_enabled()))
    worker.start()
    worker.join()
    out.append(seen)
    A.set_multithreading_enabled(True)
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    with A.set_multithreading_enabled(False):
        (x * x).sum().backward()
    return out + [x.grad.tolist()]


def test_multithreading_switch_as_torch(torch):
    assert _trace(tg) == _trace(torch)
