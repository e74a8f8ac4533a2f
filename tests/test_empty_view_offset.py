"""Empty views keep PyTorch's storage offset (x[12:12] starts at 12, not 0), so as_strided of
them, and views of them, start where PyTorch's do."""

import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

KEYS = [
    (slice(12, 12),), (slice(5, 3),), (slice(20, None),), (slice(25, None),),
    (slice(2, 2), slice(1, None)), (slice(1, None), slice(3, 3)), (2, slice(4, 4)),
    (Ellipsis, slice(2, 2)), (None, slice(1, 1)), (-1, slice(0, 0)),
]


@pytest.mark.parametrize("key", KEYS, ids=str)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_empty_view_storage_offset_matches_torch(key, requires_grad):
    shape = (20,) if len([k for k in key if k is not None and k is not Ellipsis]) == 1 and \
        Ellipsis not in key else (4, 5)
    t = torch.arange(20.0, dtype=torch.float64).reshape(shape).requires_grad_(requires_grad)
    x = tg.arange(20.0, dtype=tg.float64).reshape(shape).requires_grad_(requires_grad)
    want, got = t[key], x[key]
    assert tuple(got.shape) == tuple(want.shape)
    assert got.storage_offset() == want.storage_offset()
    with torch.no_grad(), tg.no_grad():
        if want.storage_offset() + 2 <= 20:
            assert got.as_strided((2,), (1,)).tolist() == want.as_strided((2,), (1,)).tolist()
        else:  # (past the storage's end: both refuse)
            with pytest.raises(RuntimeError):
                want.as_strided((2,), (1,))
            with pytest.raises(RuntimeError):
                got.as_strided((2,), (1,))
        assert got[0:0].storage_offset() == want[0:0].storage_offset()


def test_non_empty_views_unchanged():
    t, x = torch.arange(20.0).reshape(4, 5), tg.arange(20.0).reshape(4, 5)
    for key in [(1, slice(2, 4)), (slice(1, 3),), (Ellipsis, 3)]:
        assert x[key].storage_offset() == t[key].storage_offset()
        assert x[key].tolist() == t[key].tolist()


@pytest.mark.parametrize("view", [
    lambda x: x.reshape(6, 10).t()[2, 6:6],  # starts at 62: past the storage's end
    lambda x: x.reshape(6, 10)[1:, ::2][5:5],  # 60: at the end, through a strided view
    lambda x: x[::2][30:30],
    lambda x: x.reshape(6, 10)[:, 8:][1:1, 2:2],
    lambda x: x[50:][10:10],
], ids=["t_row_past_end", "strided_rows", "step2_end", "narrow_cols", "tail"])
def test_empty_view_of_strided_view_starts_where_torch_does(view):
    want, got = view(torch.arange(60.0)), view(tg.arange(60.0))
    assert got.storage_offset() == want.storage_offset()
    assert tuple(got.stride()) == tuple(want.stride())
    if want.storage_offset() + 2 > 60:  # PyTorch refuses as_strided reaching past the end
        with pytest.raises(RuntimeError):
            want.as_strided((2,), (1,))
        with pytest.raises(RuntimeError):
            got.as_strided((2,), (1,))
