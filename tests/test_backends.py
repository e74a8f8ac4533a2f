"""tg.backends, as torch.backends: the switches programs set (kept, read back, changing
nothing in tapegrad) and the availability questions, with PyTorch's defaults and errors."""

import pytest

import tapegrad as tg


def test_switches_are_kept():
    import tapegrad.backends.cudnn as cudnn

    before = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, tg.backends.cudnn.deterministic = True, True
        assert tg.backends.cudnn.benchmark and cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = before
    tg.backends.cuda.matmul.allow_tf32 = True
    assert tg.backends.cuda.matmul.allow_tf32
    tg.backends.cuda.matmul.allow_tf32 = False
    with pytest.raises(AttributeError, match="Unknown attribute foo"):
        tg.backends.cuda.matmul.foo = 1


def test_availability():
    assert tg.backends.mps.is_available() is False and tg.backends.mps.is_built() is False
    assert tg.backends.cudnn.is_available() is False and tg.backends.cudnn.version() is None
    assert tg.backends.cuda.is_built() == tg.cuda.is_available()


def test_defaults_match_torch():
    torch = pytest.importorskip("torch")
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(tg.backends.cudnn, name) == getattr(torch.backends.cudnn, name)
    for name in tg.backends.cuda.matmul._names:
        assert getattr(tg.backends.cuda.matmul, name) == getattr(torch.backends.cuda.matmul,
                                                                 name)
    assert tg.backends.mps.is_available() == torch.backends.mps.is_available()
