"""``backward()`` inside a function transform is refused as in PyTorch; outside any (also on a
thread where none ever ran, and after one has finished) it runs: the check reads the running
transforms' counts only when one is running."""

import numpy as np
import pytest

import tapegrad as tg
from tests.thread_runner import run_threads

torch = pytest.importorskip("torch")


def _backward_inside(lib, transform):
    seen = {}

    def f(x):
        y = (x * x).sum()
        try:
            y.backward()
            seen["error"] = None
        except RuntimeError as e:
            seen["error"] = str(e)
        return y

    x = lib.tensor([1.0, 2.0])
    if transform == "grad":
        lib.func.grad(f)(x)
    else:
        lib.func.vmap(f)(lib.stack([x, x]))
    return seen["error"]


@pytest.mark.parametrize("transform", ["grad", "vmap"])
def test_backward_inside_a_transform_is_refused_as_in_pytorch(transform):
    want = _backward_inside(torch, transform)
    got = _backward_inside(tg, transform)
    assert want is not None and got == want


def test_backward_after_a_transform_and_on_a_fresh_thread_runs():
    _backward_inside(tg, "grad")  # a transform ran and finished on this thread
    results = []

    def step():
        x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x * x).sum().backward()
        results.append(x.grad.numpy())

    step()
    run_threads([step])
    for g in results:
        np.testing.assert_allclose(g, [2.0, 4.0, 6.0])
    assert len(results) == 2
