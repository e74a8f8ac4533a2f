"""as_strided and storage_offset of CUDA tensors and their views against PyTorch's CPU: a CUDA
view holds a copy of its elements, so the storage they address is its base's; on numba-cuda's
simulator (see conftest.py)."""

import numpy as np
import pytest

from conftest import HAS_NUMBA_CUDA

if not HAS_NUMBA_CUDA:
    pytest.skip("numba-cuda is not installed (pip install 'tapegrad[cuda]'); CUDA tensors "
                "are optional", allow_module_level=True)

import tapegrad as tg

CASES = {
    "tensor": lambda x: x.as_strided((2, 2), (1, 4)),
    "row_view": lambda x: x[1].as_strided((3,), (2,)),
    "transposed_view": lambda x: x.transpose(1, 2).as_strided((2,), (5,)),
    "offset_given": lambda x: x[:, 1:].as_strided((2, 2), (1, 1), 3),
    "overlapping": lambda x: x.reshape(-1)[2:].as_strided((3, 3), (1, 1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_as_strided_values_and_gradients(name, torch):
    data = np.random.default_rng(0).standard_normal((2, 3, 4))
    tb = torch.tensor(data, requires_grad=True)
    expected = CASES[name](tb * 1)
    w = np.arange(expected.numel(), dtype=np.float64).reshape(tuple(expected.shape))
    (expected * torch.tensor(w)).sum().backward()
    b = tg.tensor(data, device="cuda", requires_grad=True)
    got = CASES[name](b * 1)
    assert got.device == "cuda"
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy())
    (got * tg.tensor(w, device="cuda")).sum().backward()
    assert b.grad.device == "cuda"
    np.testing.assert_allclose(b.grad.cpu().numpy(), tb.grad.numpy())


def test_storage_offset_of_views_and_writes_through_as_strided(torch):
    t = torch.arange(24.0).reshape(2, 3, 4)
    x = tg.arange(24.0, device="cuda").reshape(2, 3, 4)
    for view in (lambda a: a, lambda a: a[1, 2], lambda a: a[:, 1], lambda a: a[1][1:]):
        assert view(x).storage_offset() == view(t).storage_offset()
    t.as_strided((2,), (5,), 1).mul_(-1)
    x.as_strided((2,), (5,), 1).mul_(-1)  # writes its base, as a view does
    np.testing.assert_array_equal(x.cpu().numpy(), t.numpy())


def test_as_strided_second_order(torch):
    data = np.random.default_rng(1).uniform(0.5, 1.5, (3, 4))
    tb = torch.tensor(data, requires_grad=True)
    g, = torch.autograd.grad((tb.as_strided((3, 3), (4, 1), 1) ** 3).sum(), tb,
                             create_graph=True)
    expected, = torch.autograd.grad((g * g).sum(), tb)
    b = tg.tensor(data, device="cuda", requires_grad=True)
    g, = tg.autograd.grad((b.as_strided((3, 3), (4, 1), 1) ** 3).sum(), b, create_graph=True)
    got, = tg.autograd.grad((g * g).sum(), b)
    np.testing.assert_allclose(got.cpu().numpy(), expected.numpy())


def test_data_ptr_of_views_is_their_storage_offset_from_the_base(torch):
    t = torch.arange(24.0, dtype=torch.float64).reshape(2, 3, 4)
    x = tg.arange(24.0, device="cuda").reshape(2, 3, 4)
    views = (lambda a: a[1], lambda a: a[1, 2], lambda a: a.transpose(1, 2),
             lambda a: a[:, 1:], lambda a: a.reshape(6, 4), lambda a: a[1][1:],
             lambda a: a.permute(2, 1, 0)[1])
    for view in views:
        assert x.data_ptr() > 0
        assert view(x).data_ptr() - x.data_ptr() == view(t).data_ptr() - t.data_ptr()
    assert x.clone().data_ptr() != x.data_ptr()


@pytest.mark.parametrize("key", [(slice(12, 12),), (slice(5, 3),), (slice(20, None),),
                                 (slice(2, 2), slice(1, None)), (slice(1, None), slice(3, 3)),
                                 (2, slice(4, 4)), (None, slice(1, 1))], ids=str)
def test_empty_view_starts_where_torchs_does(key):
    torch = pytest.importorskip("torch")
    shape = (20,) if len([k for k in key if k is not None]) == 1 else (4, 5)
    want = torch.arange(20.0).reshape(shape)[key]
    x = tg.arange(20.0).reshape(shape)
    got, cpu = x.cuda()[key], x[key]
    assert got.storage_offset() == cpu.storage_offset() == want.storage_offset()
    if want.storage_offset() + 2 <= 20:
        assert got.as_strided((2,), (1,)).cpu().tolist() == \
            want.as_strided((2,), (1,)).tolist()
    assert got[0:0].storage_offset() == want[0:0].storage_offset()


@pytest.mark.parametrize("view", [
    lambda x: x[::2][30:30], lambda x: x.reshape(6, 10)[1:, ::2][5:5],
    lambda x: x.reshape(6, 10).t()[10:10], lambda x: x.reshape(6, 10).t()[2, 6:6],
    lambda x: x.reshape(6, 10)[:, 8:][:, 2:2], lambda x: x.reshape(6, 10)[:, 8:][1:1, 2:2],
    lambda x: x.reshape(6, 10)[3:3][0:0], lambda x: (x * 1).reshape(60)[::3][20:20],
], ids=["step2_end", "strided_rows", "t_end", "t_row_past_end", "narrow_cols", "narrow_both",
        "empty_of_empty", "step3_end"])
def test_empty_view_of_a_strided_view_starts_where_torchs_does(view):
    # the start of an empty view of a strided view follows the parent's steps in the storage,
    # also past the end of a dimension (no element there to look up)
    torch = pytest.importorskip("torch")
    want = view(torch.arange(60.0))
    assert view(tg.arange(60.0).cuda()).storage_offset() == want.storage_offset()
