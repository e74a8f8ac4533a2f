"""Expanded tensors (stride 0) load as views of their storage, as torch.load returns them:
writes through the tensor they were expanded from show in them, and an in-place write to the
expanded tensor itself raises PyTorch's internal-overlap error."""

import io

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")


def _both(save, base, expanded):
    buf = io.BytesIO()
    save([base, expanded], buf)
    return buf


@pytest.mark.parametrize("writer", ["torch", "tapegrad"])
def test_expanded_shares_the_storage(writer):
    if writer == "torch":
        base = torch.arange(4.0)
        buf = _both(torch.save, base, base.expand(3, 4))
    else:
        base = tg.arange(4.0)
        buf = _both(tg.save, base, base.expand(3, 4))
    raw = buf.getvalue()
    want_b, want_e = torch.load(io.BytesIO(raw)) if writer == "torch" else (None, None)
    b, e = tg.load(io.BytesIO(raw))
    if want_e is not None:
        assert e.stride() == want_e.stride()
        assert e.storage_offset() == want_e.storage_offset()
        want_b.add_(10)
    b.add_(10)
    expected = (want_e.tolist() if want_e is not None else
                (torch.arange(4.0) + 10).expand(3, 4).tolist())
    assert e.tolist() == expected
    with pytest.raises(RuntimeError) as want:
        torch.arange(4.0).expand(3, 4).add_(1)
    with pytest.raises(RuntimeError) as got:
        e.add_(1)
    assert str(got.value) == str(want.value)
    assert e.tolist() == expected  # (the refused write changed nothing)


def test_expanded_alone_from_torch():
    buf = io.BytesIO()
    torch.save(torch.tensor([1.0, 2.0]).expand(3, 2), buf)
    want = torch.load(io.BytesIO(buf.getvalue()))
    got = tg.load(io.BytesIO(buf.getvalue()))
    assert got.stride() == want.stride() and got.tolist() == want.tolist()
    assert (got * 2).sum().item() == (want * 2).sum().item()
    assert got.clone().add_(1).tolist() == want.clone().add_(1).tolist()


def test_contiguous_of_a_loaded_expanded_tensor_is_a_writable_copy():
    # torch.load gives a view with no ._base; contiguous() must still copy it (a C-ordered,
    # writable tensor) rather than hand back the read-only stride-0 view
    base = torch.arange(3.0)
    buf = _both(torch.save, base, base.expand(2, 3))
    want = torch.load(io.BytesIO(buf.getvalue()))
    got = tg.load(io.BytesIO(buf.getvalue()))
    cw, cg = want[1].contiguous(), got[1].contiguous()
    assert cg.is_contiguous() and cw.is_contiguous()
    assert cg.stride() == cw.stride()
    cw.add_(1.0)
    cg.add_(1.0)
    assert cg.tolist() == cw.tolist()
    assert got[0].tolist() == want[0].tolist()  # (the copy's write leaves the storage alone)


def test_contiguous_of_a_transposed_numpy_array():
    np = pytest.importorskip("numpy")
    a = np.arange(6.0).reshape(2, 3).T
    want, got = torch.from_numpy(a.copy(order="K")).contiguous(), tg.from_numpy(a).contiguous()
    assert got.is_contiguous() and got.stride() == want.stride()
    got.mul_(2.0)
    assert a.tolist() == np.arange(6.0).reshape(2, 3).T.tolist()  # (a copy: a unchanged)
