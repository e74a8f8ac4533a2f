"""``tg.contiguous_format``/``channels_last``/``channels_last_3d``/``preserve_format``: accepted
where PyTorch takes ``memory_format=``, values unchanged (layouts are not tracked), PyTorch's
checks of the type and of the rank the channels-last formats need."""

import pickle

import numpy as np
import pytest

import tapegrad as tg

FORMATS = ("contiguous_format", "channels_last", "preserve_format")


def test_formats_keep_the_values():
    x = tg.tensor(np.arange(120.0).reshape(2, 3, 4, 5), requires_grad=True)
    for name in FORMATS:
        fmt = getattr(tg, name)
        for y in (x.contiguous(memory_format=fmt), x.to(memory_format=fmt),
                  x.clone(memory_format=fmt), tg.clone(x, memory_format=fmt)):
            assert y.shape == (2, 3, 4, 5) and y.tolist() == x.tolist()
        assert tg.empty_like(x, memory_format=fmt).shape == (2, 3, 4, 5)
        assert tg.zeros_like(x, memory_format=fmt).tolist() == np.zeros((2, 3, 4, 5)).tolist()
    x.clone(memory_format=tg.channels_last).sum().backward()
    assert x.grad.tolist() == np.ones((2, 3, 4, 5)).tolist()
    assert tg.ones(1, 2, 1, 1, 1).contiguous(memory_format=tg.channels_last_3d).shape == \
        (1, 2, 1, 1, 1)


def test_format_errors():
    x = tg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        x.contiguous(memory_format=tg.channels_last)
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        x.to(memory_format=tg.channels_last)
    with pytest.raises(RuntimeError, match="required rank 5 tensor to use channels_last_3d"):
        x.clone(memory_format=tg.channels_last_3d)
    with pytest.raises(TypeError, match=r"contiguous\(\): argument 'memory_format' must be "
                                        r"torch.memory_format, not str"):
        x.contiguous(memory_format="channels_last")


def test_module_to_memory_format():
    conv = tg.nn.Conv2d(3, 4, 3)
    w = conv.weight.tolist()
    assert conv.to(memory_format=tg.channels_last) is conv and conv.weight.tolist() == w
    lin = tg.nn.Linear(3, 2)
    assert lin.to(memory_format=tg.channels_last) is lin  # (PyTorch: only 4-D parameters)
    assert lin.to(tg.float32, memory_format=tg.contiguous_format).weight.dtype == tg.float32
    with pytest.raises(TypeError, match="must be torch.memory_format"):
        lin.to(memory_format=1)


def test_formats_are_constants():
    assert repr(tg.channels_last) == "tapegrad.channels_last"
    assert isinstance(tg.preserve_format, tg.memory_format)
    assert pickle.loads(pickle.dumps(tg.channels_last)) is tg.channels_last


def test_formats_as_torch():
    torch = pytest.importorskip("torch")
    data = np.arange(24.0).reshape(1, 2, 3, 4)
    for name in FORMATS:
        want = torch.tensor(data).contiguous(memory_format=getattr(torch, name))
        got = tg.tensor(data).contiguous(memory_format=getattr(tg, name))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert repr(getattr(tg, name)) == repr(getattr(torch, name)).replace("torch", "tapegrad")
    for name in ("channels_last", "channels_last_3d"):
        with pytest.raises(RuntimeError) as want:
            torch.zeros(2, 3).contiguous(memory_format=getattr(torch, name))
        with pytest.raises(RuntimeError) as got:
            tg.zeros(2, 3).contiguous(memory_format=getattr(tg, name))
        assert str(got.value) == str(want.value)


def test_clone_with_a_format_under_compile():
    def f(x):
        return (x.clone(memory_format=tg.contiguous_format) * 2 + tg.clone(x)).sum()

    g = tg.compile(f, fullgraph=True)  # (no eager fallback: it would raise)
    x = tg.ones(2, 3)
    assert [g(x).item() for _ in range(3)] == [18.0] * 3
