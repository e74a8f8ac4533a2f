"""A full ``sum()``/``mean()`` of a real CPU tensor appends its records directly (ops/
full_reduce.py): the same records, names and gradients as the general path (the sum's
``result``, then ``s / n``), on the current segment, a fresh one (a leaf imported), an older
one (a foreign import), another thread's, under anomaly mode, with create_graph, float32,
views and inference tensors."""
import threading

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import tape
from tapegrad.autograd.gradcheck import gradcheck
from tapegrad.registry import Op

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(11)
_A = _RNG.standard_normal((4, 5))


def _graph(L, how, reduce_, dtype="float64"):
    x = L.tensor(_A.astype(dtype), requires_grad=True)
    if how == "leaf":
        h = x
    elif how == "view":
        h = (x * 2.0)[1:, ::2]
    else:
        h = L.tanh(x) * 3.0
    if how == "older" and L is tg:  # h on a segment a backward closed: imported
        (x * 1.0).sum().backward()
        x.grad = None
    out = h.mean() if reduce_ == "mean" else h.sum()
    return x, out


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("how", ["leaf", "chain", "view", "older"])
@pytest.mark.parametrize("reduce_", ["mean", "sum"])
def test_values_names_and_gradients_match_pytorch(reduce_, how, dtype):
    x, out = _graph(tg, how, reduce_, dtype)
    tx, tout = _graph(torch, how, reduce_, dtype)
    assert type(out.grad_fn).__name__ == type(tout.grad_fn).__name__
    nexts = [type(f).__name__ for f, _ in out.grad_fn.next_functions]
    assert nexts == [type(f).__name__ for f, _ in tout.grad_fn.next_functions]
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert abs(out.item() - tout.item()) <= tol * max(1.0, abs(tout.item()))
    out.backward()
    tout.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)


def test_mean_records_what_sum_then_divide_records():
    x = tg.tensor(_A, requires_grad=True)
    h = x * 2.0
    m = h.mean()
    seg = m._seg
    recs = seg.records()
    s_row, m_row = recs[m._rec - 1].tolist(), recs[m._rec].tolist()
    assert s_row[:3] == [int(Op.SCATTER_STRIDED), h._rec, -1] and s_row[4:] == [-1, 1]
    assert seg.iaux[s_row[3]:s_row[3] + 4] == [1, _A.size, 0, 0]
    assert m_row[:3] == [int(Op.MULC), m._rec - 1, -1] and m_row[4:] == [-1, 1]
    assert seg.faux[m_row[3]] == 1.0 / _A.size
    assert m.item() == h.sum().item() / _A.size
    ref = h.sum() / _A.size  # the general path's records: the same but for the side tables
    rows = seg.records()[ref._rec - 1: ref._rec + 1]
    assert rows[:, [0, 2, 4, 5]].tolist() == recs[m._rec - 1: m._rec + 1][:, [0, 2, 4, 5]].tolist()
    assert seg.faux[int(rows[1, 3])] == seg.faux[m_row[3]]


def test_gradcheck_and_second_derivative():
    x = tg.tensor(_RNG.standard_normal((3, 4)), requires_grad=True)
    assert gradcheck(lambda t: (t * t).mean() + tg.sin(t).sum(), (x,))
    tx = torch.tensor(x.detach().numpy(), requires_grad=True)
    for L, v in ((tg, x), (torch, tx)):
        g, = L.autograd.grad((v ** 3).mean(), v, create_graph=True)
        gg, = L.autograd.grad(g.sum(), v)
        if L is tg:
            got = gg.numpy()
        else:
            np.testing.assert_allclose(got, gg.numpy(), rtol=1e-12, atol=1e-12)


def test_anomaly_mode_and_segment_checks():
    x = tg.tensor(_A, requires_grad=True)
    with tg.autograd.detect_anomaly():
        m = (x * x).mean()
        m.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * _A / _A.size, rtol=1e-14)
    old = tape._config.SEGMENT_CAP
    tape._config.SEGMENT_CAP = 3  # a segment check at every few records: the general path
    try:
        x.grad = None
        m = ((x * x) * 1.0).mean()
        m.backward()
    finally:
        tape._config.SEGMENT_CAP = old
        tape.close_current()
    assert type(m.grad_fn).__name__ == "MeanBackward0"
    np.testing.assert_allclose(x.grad.numpy(), 2 * _A / _A.size, rtol=1e-14)


def test_other_thread_and_inference_tensors():
    x = tg.tensor(_A, requires_grad=True)
    h = []
    t = threading.Thread(target=lambda: h.append(tg.exp(x)))
    t.start()
    t.join()
    m = h[0].mean()  # another thread's segment: imported here
    m.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(_A) / _A.size, rtol=1e-14)
    with tg.inference_mode():
        i = tg.tensor(_A)
        assert i.mean().grad_fn is None
    with tg.inference_mode():
        assert x.mean().grad_fn is None and x.sum().grad_fn is None
    x.grad = None
    m = x.mean()  # after inference mode was used: the general path, the same result
    m.backward()
    assert type(m.grad_fn).__name__ == "MeanBackward0"
    np.testing.assert_allclose(x.grad.numpy(), np.full(_A.shape, 1 / _A.size), rtol=1e-14)
