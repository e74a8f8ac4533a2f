"""F.ctc_loss of a sample no alignment reaches (its input too short for its target): the loss
is infinite and PyTorch's gradient is nan over that sample's input steps (zero past them, and
zero everywhere with zero_infinity), where tapegrad's was silently zero. Target and length
checks in PyTorch 2.13's words (ctc_loss_allocate_outputs; concatenated targets of another
total size than the lengths'). Against PyTorch, and by finite differences."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

rng = np.random.default_rng(13)
LP = np.log(rng.dirichlet(np.ones(5), (12, 3)))
TARGETS = rng.integers(1, 5, (3, 4))


def _run(L, reduction, zero_infinity, dtype, input_lengths=(12, 3, 8)):
    lp = L.tensor(LP.astype(dtype), requires_grad=True)
    loss = L.nn.functional.ctc_loss(lp, L.tensor(TARGETS), L.tensor(list(input_lengths)),
                                    L.tensor([4, 4, 4]), reduction=reduction,
                                    zero_infinity=zero_infinity)
    loss.sum().backward()
    return loss.detach().numpy(), lp.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_impossible_sample_as_torch(reduction, zero_infinity, dtype):
    got, want = _run(tg, reduction, zero_infinity, dtype), _run(torch, reduction,
                                                                 zero_infinity, dtype)
    tol = 1e-10 if dtype == np.float64 else 1e-4
    for a, b in zip(got, want):
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
    assert not zero_infinity or not np.isnan(got[1]).any()
    assert zero_infinity or np.isnan(got[1][:3, 1]).all() and (got[1][3:, 1] == 0).all()


CALLS = {
    "concatenated too short": ([1, 2, 3], [12, 10, 8], [2, 2, 2]),
    "concatenated too long": ([1, 2, 3, 4, 1, 2, 3], [12, 10, 8], [2, 2, 2]),
    "padded too short": ([[1, 2], [1, 2], [1, 2]], [12, 10, 8], [2, 3, 2]),
    "input length too long": ([[1, 2], [1, 2], [1, 2]], [12, 13, 8], [2, 2, 2]),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_argument_errors_as_torch(call):
    targets, input_lengths, target_lengths = CALLS[call]
    words = []
    for L in (tg, torch):
        with pytest.raises(RuntimeError) as e:
            L.nn.functional.ctc_loss(L.tensor(LP), L.tensor(targets), L.tensor(input_lengths),
                                     L.tensor(target_lengths))
        words.append(str(e.value))
    assert words[0] == words[1]


def test_possible_samples_gradcheck():
    lp = tg.tensor(LP[:6, :2], requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: tg.nn.functional.ctc_loss(
        t.log_softmax(2), tg.tensor(TARGETS[:2, :2]), tg.tensor([6, 2]), tg.tensor([2, 2]),
        reduction="sum", zero_infinity=True), (lp,))
