"""tg.accelerator, as torch.accelerator: the device choice the PyTorch tutorials open with, and
PyTorch's error where no accelerator is available."""

import pytest

import tapegrad as tg


def test_tutorial_device_choice():
    device = tg.accelerator.current_accelerator().type if tg.accelerator.is_available() \
        else "cpu"
    assert device == ("cuda" if tg.cuda.is_available() else "cpu")
    x = tg.ones(2, 3).to(device)
    assert x.device.type == device
    assert tg.accelerator.device_count() == tg.cuda.device_count()


@pytest.fixture
def no_cuda(monkeypatch):
    """A machine without CUDA (this one may have numba-cuda's simulator switched on)."""
    monkeypatch.setattr(tg.cuda, "available", lambda: False)


def test_without_an_accelerator_as_torch(no_cuda):
    assert tg.accelerator.is_available() is False
    assert tg.accelerator.current_accelerator() is None
    assert tg.accelerator.current_accelerator(check_available=True) is None
    assert tg.accelerator.device_count() == 0
    for call in (tg.accelerator.current_device_index, tg.accelerator.synchronize,
                 tg.accelerator.empty_cache, lambda: tg.accelerator.set_device_index(0)):
        with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none "
                                               "is available.$"):
            call()
    with tg.accelerator.device_index(None):
        pass


@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs a CUDA device")
def test_with_a_cuda_device():
    assert tg.accelerator.current_accelerator() == tg.device("cuda", 0)
    assert tg.accelerator.current_device_index() == 0
    with tg.accelerator.device_index(0):
        tg.accelerator.synchronize()


def test_matches_torch_here(monkeypatch):
    torch = pytest.importorskip("torch")
    if not torch.accelerator.is_available():
        # a CPU build of PyTorch: compare with tapegrad on a machine without CUDA (numba-cuda's
        # simulator may be on in this process)
        monkeypatch.setattr(tg.cuda, "available", lambda: False)
    elif not tg.accelerator.is_available():
        pytest.skip("PyTorch sees a GPU that numba-cuda does not")
    assert tg.accelerator.device_count() == torch.accelerator.device_count()
    mine, theirs = tg.accelerator.current_accelerator(), torch.accelerator.current_accelerator()
    assert (mine is None) == (theirs is None)

