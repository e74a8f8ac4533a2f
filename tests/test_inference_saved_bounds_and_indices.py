"""Tensors made under ``inference_mode`` used outside it where PyTorch's backward would save
them: ``clamp`` with tensor bounds (ClampBackward1 keeps the input and both bounds),
``index_put_``/``index_put``/``x[idx] = v`` with an inference index (IndexPutBackward0 keeps
the indices), and where/masked_fill/masked_select/masked_scatter with an inference mask (their
backwards save it) raise "Inference tensors cannot be saved for backward", as PyTorch's,
whichever operand requires grad; rrelu, diag_embed, sort, diag results (and the rest below) match
PyTorch already and are held to it here. Where nothing records, the values are computed."""
import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _setup(L):
    dt = L.float64
    w = L.tensor([1.0, -2.0, 3.0, 0.5], dtype=dt, requires_grad=True)
    with L.inference_mode():
        a = L.tensor([0.3, -0.7, 1.2, -2.0], dtype=dt)
        made = {"rrelu": L.nn.functional.rrelu(a, training=True), "rrelu_eval":
                L.nn.functional.rrelu(a), "clamp": L.clamp(a, min=L.zeros(4, dtype=dt)),
                "diag_embed": L.diag_embed(a), "sort": L.sort(a),
                "diag": L.diag(L.stack([a, a, a, a])), "idx": L.tensor([0, 2]),
                "zeros": L.zeros(4, dtype=dt), "mask": a > 0}
    return L, dt, w, a, made


_CASES = {
    "rrelu * w": lambda L, dt, w, a, m: m["rrelu"] * w,
    "rrelu eval * w": lambda L, dt, w, a, m: m["rrelu_eval"] * w,
    "clamp(w, min=inference)": lambda L, dt, w, a, m: L.clamp(w, min=m["clamp"]),
    "clamp(inference, min=w)": lambda L, dt, w, a, m: L.clamp(a, min=w),
    "clamp(inference, max=w)": lambda L, dt, w, a, m: L.clamp(a, max=w),
    "w.clamp(inference, inference)": lambda L, dt, w, a, m: w.clamp(a, a + 1),
    "clamp_min(w, inference)": lambda L, dt, w, a, m: L.clamp_min(w, a),
    "clamp_max(inference, w)": lambda L, dt, w, a, m: L.clamp_max(a, w),
    "diag_embed * w": lambda L, dt, w, a, m: m["diag_embed"] * w,
    "diag_embed(w)": lambda L, dt, w, a, m: L.diag_embed(w),
    "sort values * w": lambda L, dt, w, a, m: m["sort"].values * w,
    "w[sort indices]": lambda L, dt, w, a, m: w[m["sort"].indices],
    "diag * w": lambda L, dt, w, a, m: m["diag"] * w,
    "index_put_ into w.clone()": lambda L, dt, w, a, m: w.clone().index_put_(
        (m["idx"],), L.tensor([5.0, 6.0], dtype=dt)),
    "index_put_ of values w": lambda L, dt, w, a, m: L.zeros(4, dtype=dt).index_put_(
        (m["idx"],), w[:2]),
    "index_put_ into an inference tensor": lambda L, dt, w, a, m: m["zeros"].index_put_(
        (m["idx"],), w[:2]),
    "index_put_ normal index into an inference tensor": lambda L, dt, w, a, m:
        m["zeros"].index_put_((L.tensor([0, 2]),), w[:2]),
    "index_put accumulate": lambda L, dt, w, a, m: w.index_put(
        (m["idx"],), L.tensor([5.0, 6.0], dtype=dt), accumulate=True),
    "index_put of values w": lambda L, dt, w, a, m: L.zeros(4, dtype=dt).index_put(
        (m["idx"],), w[:2]),
    "w.clone()[idx] = 2": lambda L, dt, w, a, m: w.clone().__setitem__(m["idx"], 2.0),
    "w.clone()[mask] = 0": lambda L, dt, w, a, m: w.clone().__setitem__(m["mask"], 0.0),
    "w.clone()[idx[0]] = 0 (a 0-d index)": lambda L, dt, w, a, m: w.clone().__setitem__(
        m["idx"][0], 0.0),
    "x[idx] = w": lambda L, dt, w, a, m: m["zeros"].__setitem__(m["idx"], w[:2]),
    "where(inference mask, w, a)": lambda L, dt, w, a, m: L.where(m["mask"], w, a),
    "where(inference mask, w, 0.)": lambda L, dt, w, a, m: L.where(m["mask"], w, 0.0),
    "where(mask, w, inference)": lambda L, dt, w, a, m: L.where(
        L.tensor([True, False, True, False]), w, a),
    "where(inference mask, inference, inference)": lambda L, dt, w, a, m: L.where(
        m["mask"], a, a * 2),
    "masked_fill(inference mask)": lambda L, dt, w, a, m: w.masked_fill(m["mask"], 0.0),
    "masked_fill_(inference mask)": lambda L, dt, w, a, m: w.clone().masked_fill_(
        m["mask"], 0.0),
    "masked_fill(mask, inference value)": lambda L, dt, w, a, m: w.masked_fill(
        L.tensor([True, False, True, False]), a[0]),
    "masked_select(w, inference mask)": lambda L, dt, w, a, m: L.masked_select(w, m["mask"]),
    "w[inference mask]": lambda L, dt, w, a, m: w[m["mask"]],
    "masked_scatter(inference mask)": lambda L, dt, w, a, m: w.masked_scatter(
        m["mask"], L.ones(4, dtype=dt)),
}


def _outcome(L, name):
    L, dt, w, a, made = _setup(L)
    try:
        out = _CASES[name](L, dt, w, a, made)
        if out is not None and out.requires_grad:
            out.sum().backward()
        return "ok", None if w.grad is None else w.grad.tolist()
    except RuntimeError as e:
        return "RuntimeError", str(e)


@pytest.mark.parametrize("name", list(_CASES))
def test_inference_operands_outside_as_torch(name):
    assert _outcome(tg, name) == _outcome(torch, name)


def test_without_a_record_clamp_and_index_put_compute():
    _, dt, w, a, made = _setup(tg)
    with tg.no_grad():
        np.testing.assert_array_equal(tg.clamp(w, min=a).numpy(), np.maximum(w.numpy(),
                                                                             a.numpy()))
        out = w.detach().clone().index_put_((made["idx"],), tg.tensor([5.0, 6.0], dtype=dt))
    assert out.tolist() == [5.0, -2.0, 6.0, 0.5]
    x = tg.tensor([0.3, -1.1, 2.0], dtype=tg.float64, requires_grad=True)
    lo = tg.tensor([0.0, 0.0, 0.0], dtype=tg.float64)
    assert tg.autograd.gradcheck(lambda x: tg.clamp(x, min=lo, max=lo + 1.5), (x,))
