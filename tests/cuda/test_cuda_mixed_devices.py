"""Index, target and weight arguments on the other device raise PyTorch's errors (their values
are read on the host, so either device would otherwise be taken), while indexing with a CPU
index and CPU scalars stay allowed, as in PyTorch; on numba-cuda's simulator (see
conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn.functional as F

MIXED = "Expected all tensors to be on the same device, but found at least two devices"


def _cases(x, i, rows, classes):
    """(name, call) pairs of an input x with index i, row index rows and class targets."""
    return [
        ("gather", lambda: tg.gather(x, 1, i)),
        ("take_along_dim", lambda: tg.take_along_dim(x, i, 1)),
        ("index_select", lambda: tg.index_select(x, 0, rows)),
        ("scatter_add", lambda: x.scatter_add(1, i, x[:, :1])),
        ("scatter", lambda: x.scatter(1, i, 1.0)),
        ("embedding", lambda: F.embedding(rows, x)),
        ("cross_entropy", lambda: F.cross_entropy(x, classes)),
        ("nll_loss", lambda: F.nll_loss(x, classes)),
    ]


@pytest.mark.parametrize("index_on", ["cpu", "cuda"])
def test_index_and_target_tensors_must_be_on_the_inputs_device(index_on):
    x_on = "cuda" if index_on == "cpu" else "cpu"
    x = tg.ones(2, 3, device=x_on)
    i = tg.tensor([[0], [2]], device=index_on)
    rows = tg.tensor([1, 0], device=index_on)
    for name, call in _cases(x, i, rows, rows):
        with pytest.raises(RuntimeError, match=MIXED):
            call()
            pytest.fail(name)


def test_class_weights_must_be_on_the_inputs_device():
    x, t = tg.ones(2, 3, device="cuda"), tg.tensor([0, 2], device="cuda")
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(RuntimeError, match=MIXED):
            loss(x, t, weight=tg.ones(3))


def test_index_add_names_the_devices():
    x = tg.zeros(2, 3, device="cuda")
    with pytest.raises(RuntimeError, match=r"index_add\(\): self, index and source expected to "
                       r"be in the same device, but got \(self\) cuda:0, \(index\) cpu, and "
                       r"\(source\) cuda:0"):
        x.index_add(0, tg.tensor([0]), tg.ones(1, 3, device="cuda"))


def test_same_device_arguments_still_work():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), device="cuda")
    i, rows = tg.tensor([[0], [2]], device="cuda"), tg.tensor([1, 0], device="cuda")
    for name, call in _cases(x, i, rows, rows):
        assert call().device == "cuda", name
    a = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(x.index_add(0, rows, x).cpu().numpy(), a + a[::-1])
    # a CPU index for indexing and a 0-d CPU tensor are allowed, as in PyTorch
    np.testing.assert_array_equal(x[tg.tensor([1, 0])].cpu().numpy(), [[3, 4, 5], [0, 1, 2]])
    assert (x * tg.tensor(2.0)).device == "cuda"
