"""pad_sequence of sequences whose trailing dims differ from the first one's: PyTorch copies each
into a slot of the first one's trailing shape (broadcasting, so a size-1 dim is repeated) and
raises copy_'s errors; tapegrad raised stack's 'stack expects each tensor to be equal size'
(and a ValueError, not PyTorch's RuntimeError, for a bad padding_side). Values, gradients,
types and words against PyTorch, finite differences."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn.utils.rnn import pad_sequence

torch = pytest.importorskip("torch")
from torch.nn.utils.rnn import pad_sequence as torch_pad  # noqa: E402

SHAPES = [[(2, 3), (2, 1)], [(2, 3), (4, 4)], [(2, 3, 5), (2, 3, 4)], [(2, 3), (2,)], [(2,), (2, 3)],
          [(2, 1), (3, 3)], [(3,), (2,)], [(2, 3), (2, 1, 3)], [(2, 1), (3, 1, 1)], [(3, 2), (1, 2)],
          [(1, 4), (3, 1), (2, 4)]]


def _error(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return type(e).__name__, str(e)


@pytest.mark.parametrize("shapes", SHAPES)
@pytest.mark.parametrize("kw", [{}, {"batch_first": True, "padding_side": "left", "padding_value": -1.0}])
def test_trailing_shapes_as_torch(shapes, kw):
    rng = np.random.default_rng(len(shapes))
    arrays = [rng.standard_normal(s) for s in shapes]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    gs = [tg.tensor(a, requires_grad=True) for a in arrays]
    want = _error(lambda: torch_pad(ts, **kw))
    got = _error(lambda: pad_sequence(gs, **kw))
    if isinstance(want, tuple):
        assert got == want
        return
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy())
    w = rng.standard_normal(tuple(want.shape))
    (want * torch.tensor(w)).sum().backward()
    (got * tg.tensor(w)).sum().backward()
    for t, g in zip(ts, gs):
        np.testing.assert_allclose(g.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    assert tg.autograd.gradcheck(lambda *xs: pad_sequence(list(xs), **kw),
                                 tuple(tg.tensor(a, requires_grad=True) for a in arrays))


def test_padding_side_refused_as_torch():
    for side in ("middle", "LEFT"):
        want = _error(lambda: torch_pad([torch.zeros(2)], padding_side=side))
        assert _error(lambda: pad_sequence([tg.zeros(2)], padding_side=side)) == want
