"""The targets and class weights of the losses and embedding's indices on the other device
raise PyTorch's error (their values are read on the host, so either device would otherwise be
taken); indexing with a CPU index, CPU scalars and the ops that build their indices on the
host (pad, interpolate) keep working; on numba-cuda's simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg
import tapegrad.nn.functional as F
from test_cuda_sim import check

MIXED = "Expected all tensors to be on the same device, but found at least two devices"


def _cases(x, rows, classes):
    """(name, call) pairs of an input x with row indices and class targets."""
    return [
        ("embedding", lambda: F.embedding(rows, x)),
        ("cross_entropy", lambda: F.cross_entropy(x, classes)),
        ("nll_loss", lambda: F.nll_loss(x, classes)),
    ]


@pytest.mark.parametrize("index_on", ["cpu", "cuda"])
def test_targets_and_indices_must_be_on_the_inputs_device(index_on):
    x_on = "cuda" if index_on == "cpu" else "cpu"
    x = tg.ones(2, 3, device=x_on)
    rows = tg.tensor([1, 0], device=index_on)
    for name, call in _cases(x, rows, rows):
        with pytest.raises(RuntimeError, match=MIXED):
            call()
            pytest.fail(name)


def test_class_weights_must_be_on_the_inputs_device():
    x, t = tg.ones(2, 3, device="cuda"), tg.tensor([0, 2], device="cuda")
    for loss in (F.cross_entropy, F.nll_loss):
        with pytest.raises(RuntimeError, match=MIXED):
            loss(x, t, weight=tg.ones(3))


def test_same_device_arguments_still_work():
    x = tg.tensor(np.arange(6.0).reshape(2, 3), device="cuda")
    rows = tg.tensor([1, 0], device="cuda")
    for name, call in _cases(x, rows, rows):
        assert call().device == "cuda", name
    # a CPU index for indexing and a 0-d CPU tensor are allowed, as in PyTorch
    np.testing.assert_array_equal(x[tg.tensor([1, 0])].cpu().numpy(), [[3, 4, 5], [0, 1, 2]])
    assert (x * tg.tensor(2.0)).device == "cuda"


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_that_indexes_on_the_host(mode):
    a = np.random.default_rng(8).uniform(-1.0, 1.0, (1, 2, 4))
    check(lambda x: F.pad(x, (2, 1), mode=mode), a)


def test_promotion_on_the_device_is_the_cpus():
    # (PyTorch's: int64 with float32 is float32, a 0-d float64 tensor gives way to float32)
    f, i = tg.ones(3, dtype=tg.float32), tg.arange(3)
    c = tg.tensor(2.0)
    fd, idd, cd = f.to("cuda"), i.to("cuda"), c.to("cuda")
    for cpu, dev in ((f * i, fd * idd), (f * c, fd * cd), (i * 0.5, idd * 0.5), (i / 2, idd / 2),
                     (tg.where(i > 0, f, i), tg.where(idd > 0, fd, idd)),
                     (tg.where(i > 0, f, 0.0), tg.where(idd > 0, fd, 0.0)), (tg.exp(i), tg.exp(idd)),
                     (tg.where(i > 0, 1, 2), tg.where(idd > 0, 1, 2)),
                     (tg.cat([f, i]), tg.cat([fd, idd]))):
        assert dev.device.type == "cuda" and dev.dtype == cpu.dtype
        np.testing.assert_allclose(dev.cpu().numpy(), cpu.numpy(), rtol=1e-6)
