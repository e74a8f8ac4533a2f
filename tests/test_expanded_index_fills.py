"""masked_fill_ / index_fill_ / index_put_ on a view repeating elements (b.expand(2, 3)): as
PyTorch's, written through with its deprecation warning, gradients to the written values as
PyTorch's. Where the view requires grad PyTorch writes and its backward then raises the
overlap error; tapegrad raises that error at the write."""

import warnings

import pytest

import tapegrad as tg


def _cases(lib):
    f64 = lib.float64
    return [
        lambda e, v: e.masked_fill_(lib.tensor([True, False, False]), 5.0),
        lambda e, v: e.masked_fill_(lib.tensor([[True, False, True], [False] * 3]), v * 1),
        lambda e, v: e.index_fill_(0, lib.tensor([0]), 5.0),
        lambda e, v: e.index_fill_(1, lib.tensor([2]), v),
        lambda e, v: e.index_put_((lib.tensor([0]), lib.tensor([1])), v * 2),
        lambda e, v: e.index_put_((lib.tensor([0, 1]), lib.tensor([1, 1])),
                                  lib.stack([v, v * 2]), accumulate=True),
        lambda e, v: e.index_put_((lib.tensor([1]),), lib.tensor([7.0, 8.0, 9.0], dtype=f64)),
    ]


def _run(lib, case):
    f64 = lib.float64
    v = lib.tensor(4.0, dtype=f64, requires_grad=True)
    b = lib.tensor([1.0, 2.0, 3.0], dtype=f64)
    e = b.expand(2, 3)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = case(e, v)
    assert r is e
    if b.requires_grad:
        (b * b * lib.tensor([1.0, 10.0, 100.0], dtype=f64)).sum().backward()
    words = [str(m.message).split(" (Triggered")[0] for m in w]
    return b.tolist(), e.tolist(), None if v.grad is None else v.grad.item(), words


def test_writes_through_with_pytorchs_warning():
    torch = pytest.importorskip("torch")
    for ours, theirs in zip(_cases(tg), _cases(torch)):
        assert _run(tg, ours) == _run(torch, theirs)


def test_warning_words():
    e = tg.tensor([1.0, 2.0, 3.0]).expand(2, 3)
    with pytest.warns(UserWarning, match=r"Use of masked_fill_ on expanded tensors is deprecated"
                      r"\. Please clone\(\) the tensor before performing this operation\. "
                      r"This also applies to advanced indexing e\.g\. tensor\[mask\] = scalar"):
        e.masked_fill_(tg.tensor([True, False, False]), 5.0)


def test_a_view_requiring_grad_writes_and_its_backward_raises_the_overlap_error():
    # as PyTorch's: written (with the warning), the overlap error when a backward reaches it
    a = tg.ones(3, requires_grad=True)
    e = (a * 1).expand(2, 3)
    with pytest.warns(UserWarning, match="Use of masked_fill_ on expanded tensors"):
        e.masked_fill_(tg.tensor([True, False, False]), 5.0)
    with pytest.warns(UserWarning, match="Use of index_put_ on expanded tensors"):
        e.index_put_((tg.tensor([0]), tg.tensor([1])), tg.tensor(4.0))
    assert e.tolist() == [[5.0, 4.0, 1.0]] * 2
    with pytest.raises(RuntimeError, match="more than one element of the written-to"):
        e.sum().backward()
