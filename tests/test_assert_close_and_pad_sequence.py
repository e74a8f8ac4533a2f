"""tg.testing.assert_close (PyTorch's tolerances and messages) and
tg.nn.utils.rnn.pad_sequence / unpad_sequence."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.nn.utils.rnn import pad_sequence, unpad_sequence


def _message(*args, **kwargs):
    with pytest.raises(AssertionError) as info:
        tg.testing.assert_close(*args, **kwargs)
    return str(info.value)


def test_assert_close_passes_within_the_dtype_tolerances():
    tg.testing.assert_close(tg.tensor([1.0, 2.0]), tg.tensor([1.0, 2.0 + 1e-8]))
    tg.testing.assert_close(tg.tensor([1.0], dtype="float32"), tg.tensor([1.000001],
                                                                          dtype="float32"))
    tg.testing.assert_close(tg.tensor([np.nan, np.inf]), tg.tensor([np.nan, np.inf]),
                            equal_nan=True)
    tg.testing.assert_close({"a": [tg.tensor(1.0), 2.0]}, {"a": [tg.tensor(1.0), 2.0]})
    tg.testing.assert_close(tg.tensor([1.0]), tg.tensor([1.1]), rtol=0.2, atol=0.0)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.testing.assert_close(x * 1.0, x)


def test_assert_close_messages_are_pytorchs():
    assert _message(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([1.0, 2.1, 3.0])) == (
        "Tensor-likes are not close!\n\nMismatched elements: 1 / 3 (33.3%)\n"
        "Greatest absolute difference: 0.10000000000000009 at index (1,) (up to 1e-07 allowed)\n"
        "Greatest relative difference: 0.04761904761904766 at index (1,) (up to 1e-07 allowed)")
    assert _message(1.0, 1.1) == (
        "Scalars are not close!\n\nExpected 1.1 but got 1.0.\n"
        "Absolute difference: 0.10000000000000009 (up to 1e-07 allowed)\n"
        "Relative difference: 0.09090909090909098 (up to 1e-07 allowed)")
    assert _message([tg.tensor(1.0, dtype="float32")], [tg.tensor(2.0, dtype="float32")]) \
        .endswith("(up to 1.3e-06 allowed)\n\nThe failure occurred for item [0]")
    assert _message(tg.tensor([1, 2]), tg.tensor([1, 3])).startswith(
        "Tensor-likes are not equal!\n\nMismatched elements: 1 / 2 (50.0%)\n"
        "Greatest absolute difference: 1 at index (1,)\n")
    assert "attribute 'shape' do not match" in _message(tg.zeros(2), tg.zeros(3))
    assert "attribute 'dtype' do not match: float32 != float64" in _message(
        tg.zeros(2, dtype="float32"), tg.zeros(2))
    assert "nan at index (0, 1)" in _message(tg.tensor([[1.0, np.nan]]),
                                             tg.tensor([[1.0, np.nan]]))
    assert _message(tg.zeros(1), tg.ones(1), msg="custom") == "custom"
    with pytest.raises(ValueError, match="Both 'rtol' and 'atol' must be either specified or "
                                         "omitted, but got no atol"):
        tg.testing.assert_close(tg.zeros(1), tg.zeros(1), rtol=0.1)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, 3)) for n in (4, 2, 5)]
    seqs = [tg.tensor(a, requires_grad=True) for a in arrays]
    out = pad_sequence(seqs, batch_first=batch_first, padding_value=-1.0, padding_side=side)
    assert out.shape == ((3, 5, 3) if batch_first else (5, 3, 3))
    by_seq = out.detach().numpy() if batch_first else out.detach().numpy().transpose(1, 0, 2)
    for row, a in zip(by_seq, arrays):
        body = row[: len(a)] if side == "right" else row[5 - len(a):]
        np.testing.assert_array_equal(body, a)
        assert (row == -1.0).sum() == 3 * (5 - len(a))
    (out * 2.0).sum().backward()
    for s in seqs:
        np.testing.assert_array_equal(s.grad.numpy(), 2.0)
    if side == "right":
        back = unpad_sequence(out, [4, 2, 5], batch_first=batch_first)
        for b, a in zip(back, arrays):
            np.testing.assert_array_equal(b.detach().numpy(), a)
    torch = pytest.importorskip("torch")
    theirs = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in arrays],
                                             batch_first=batch_first, padding_value=-1.0,
                                             padding_side=side)
    np.testing.assert_array_equal(out.detach().numpy(), theirs.numpy())
