"""Layers made with a negative or ill-typed size raise PyTorch's errors: the negative
dimension of the parameter PyTorch makes (ConvTranspose's weight is (in, out / groups, ...)),
the recurrent layers' input_size/bias/batch_first checks, MultiheadAttention's sizes."""

import pytest

import tapegrad as tg

CASES = [
    ("Linear", (-1, 2), {}), ("Linear", (3, -2), {}), ("Conv2d", (3, -1, 2), {}),
    ("Conv1d", (-3, 3, 2), {}), ("ConvTranspose2d", (3, -1, 2), {}),
    ("ConvTranspose1d", (3, -4, 2), {"groups": 1}), ("ConvTranspose3d", (-2, 4, 2), {}),
    ("Embedding", (-1, 2), {}), ("Embedding", (3, -2), {}), ("Bilinear", (2, -1, 3), {}),
    ("LSTM", (-3, 2), {}), ("GRU", (0, 2), {}), ("RNN", (2.0, 2), {}),
    ("RNN", (2, 2), {"bias": 1}), ("LSTM", (2, 2), {"batch_first": None}),
    ("MultiheadAttention", (-4, 2), {}), ("MultiheadAttention", (4, 0), {}),
]


def _outcome(lib, name, args, kw):
    try:
        m = getattr(lib.nn, name)(*args, **kw)
    except (RuntimeError, ValueError, TypeError, AssertionError) as e:
        return f"{type(e).__name__}: {e}"
    return [tuple(p.shape) for p in m.parameters()]


@pytest.mark.parametrize("name,args,kw", CASES, ids=[f"{n}{a}{k}" for n, a, k in CASES])
def test_layer_size_errors_as_torch(torch, name, args, kw):
    assert _outcome(tg, name, args, kw) == _outcome(torch, name, args, kw)


@pytest.mark.parametrize("nd", [1, 2, 3])
def test_conv_transpose_parameters_as_torch(torch, nd):
    """The transposed convolutions make their weight once, in PyTorch's shape, bias of
    out_channels (they made and initialised a convolution's weight first)."""
    for args, kw in [((4, 6, 3), {}), ((4, 6, 2), {"groups": 2, "bias": False})]:
        name = f"ConvTranspose{nd}d"
        assert _outcome(tg, name, args, kw) == _outcome(torch, name, args, kw)
        tg.manual_seed(0)
        m = getattr(tg.nn, name)(*args, **kw)
        made = [p.detach().clone() for p in m.parameters()]
        tg.manual_seed(0)
        m.reset_parameters()  # (the layer's one draw from the seed)
        for p, q in zip(m.parameters(), made):
            assert tg.equal(p, q)
