"""Movement, indexing, joins and splits: op table through check_op, shape and
gradient examples, errors."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_table_entry, needs_torch

try:
    import torch
except ImportError:  # the table still runs its finite-difference checks
    torch = None


def _idx(L, v):
    return L.tensor(v)


# name, f(lib, *xs), shape cases
OPS = [
    ("reshape", lambda L, x: x.reshape(3, 2), [((2, 3),), ((6,),)]),
    ("reshape_minus1", lambda L, x: L.reshape(x, (-1, 2)), [((2, 3, 2),)]),
    ("view", lambda L, x: x.view(6), [((2, 3),)]),
    ("flatten", lambda L, x: L.flatten(x), [((2, 3, 2),), ((),)]),
    ("flatten_range", lambda L, x: x.flatten(1, 2), [((2, 3, 2),)]),
    ("squeeze", lambda L, x: x.squeeze(), [((2, 1, 3, 1),), ((1,),)]),
    ("squeeze_dim", lambda L, x: L.squeeze(x, 1), [((2, 1, 3),), ((2, 3),)]),
    ("unsqueeze", lambda L, x: x.unsqueeze(-1), [((2, 3),), ((),)]),
    ("transpose", lambda L, x: L.transpose(x, 0, 2), [((2, 3, 2),)]),
    ("t", lambda L, x: x.t(), [((2, 3),), ((3,),)]),
    ("T", lambda L, x: x.T, [((2, 3),)]),
    ("mT", lambda L, x: x.mT, [((2, 2, 3),)]),
    ("permute", lambda L, x: x.permute(2, 0, 1), [((2, 3, 2),)]),
    ("expand", lambda L, x: x.expand(3, -1, 2), [((1, 2, 1),), ((2, 1),)]),
    ("broadcast_to", lambda L, x: L.broadcast_to(x, (2, 3)), [((3,),), ((2, 1),), ((),)]),
    ("flip", lambda L, x: L.flip(x, (0,)), [((3, 2),)]),
    ("flip_many", lambda L, x: x.flip((0, -1)), [((3, 2, 2),)]),
    ("index_int", lambda L, x: x[1], [((3, 2),)]),
    ("index_neg_int", lambda L, x: x[-1, 0], [((3, 2),)]),
    ("slice", lambda L, x: x[1:], [((3,),), ((4, 2),)]),
    ("slice_step", lambda L, x: x[::2, 1:3], [((5, 4),)]),
    ("none_ellipsis", lambda L, x: x[None, ..., None, 0], [((2, 3),)]),
    ("int_array_repeats", lambda L, x: x[_idx(L, [0, 0, 2, 0])], [((3,),), ((3, 2),)]),
    ("int_array_2d", lambda L, x: x[_idx(L, [[0, 1], [1, 1]])], [((2, 3),)]),
    ("int_arrays_pair", lambda L, x: x[_idx(L, [0, 1, 1]), _idx(L, [2, 0, 2])], [((2, 3),)]),
    ("int_array_and_slice", lambda L, x: x[1:, _idx(L, [0, 0])], [((3, 2),)]),
    ("bool_mask", lambda L, x: x[x > 0], [((3, 4),)]),
    ("bool_mask_rows", lambda L, x: x[_idx(L, [True, False, True])], [((3, 2),)]),
    ("cat", lambda L, a, b: L.cat([a, b]), [((2,), (1,)), ((2, 3), (1, 3))]),
    ("cat_dim1", lambda L, a, b, c: L.cat((a, b, c), dim=-1), [((2, 1), (2, 3), (2, 2))]),
    ("concatenate", lambda L, a, b: L.concatenate([a, b], 1), [((1, 2), (1, 1))]),
    ("stack", lambda L, a, b: L.stack([a, b]), [((2, 3), (2, 3)), ((), ())]),
    ("stack_last", lambda L, a, b: L.stack([a, b], dim=-1), [((2,), (2,))]),
    ("split_int", lambda L, x: x.split(2), [((5, 2),), ((2,),)]),
    ("split_sections", lambda L, x: L.split(x, [1, 3], dim=1), [((2, 4),)]),
    ("chunk", lambda L, x: x.chunk(3, 1), [((2, 5),), ((2, 6),)]),
    ("unbind", lambda L, x: L.unbind(x, 1), [((2, 3),)]),
    ("unbind_method", lambda L, x: x.unbind(), [((3,),)]),
    ("split_then_cat", lambda L, x: L.cat(x.split(1)[::-1]), [((3, 2),)]),
]


@pytest.mark.parametrize("name,f,cases", OPS, ids=[o[0] for o in OPS])
def test_op_table(name, f, cases):
    check_table_entry(name, f, cases)


def _grad_of(f, x, w=None):
    x = tg.tensor(x, requires_grad=True)
    y = f(x)
    (y if w is None else y * tg.tensor(w)).sum().backward()
    return x.grad


# ---- shape and gradient examples (broadcast, index, views, cat) -----------------------

def test_broadcast_grads():
    a = tg.ones(2, 3, requires_grad=True)
    b = tg.ones(3, requires_grad=True)
    (a + b).sum().backward()
    assert b.grad.tolist() == [2.0, 2.0, 2.0] and a.grad.shape == (2, 3)
    s = tg.tensor(2.0, requires_grad=True)
    (s * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert s.grad.shape == () and s.grad.item() == 6.0
    a = tg.ones(4, 1, 3, requires_grad=True)
    b = tg.ones(2, 1, requires_grad=True)
    (a + b).sum().backward()
    assert a.grad.shape == (4, 1, 3) and a.grad.numpy().tolist() == np.full((4, 1, 3), 2.0).tolist()
    assert b.grad.tolist() == [[12.0], [12.0]]


def test_keepdim_style():
    b = tg.ones(2, 1, requires_grad=True)
    (b * tg.arange(6.0).reshape(2, 3)).sum().backward()
    assert b.grad.tolist() == [[3.0], [12.0]] and b.grad.shape == (2, 1)


def test_expand_grad():
    e = tg.ones(2, requires_grad=True)
    (e.expand(3, 2) * tg.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert e.grad.tolist() == [6.0, 6.0]


def test_repeated_indices_accumulate():
    x = np.array([1.0, 2.0, 3.0])
    assert _grad_of(lambda t: t[tg.tensor([0, 0, 2, 0])], x).tolist() == [3.0, 0.0, 1.0]
    g = _grad_of(lambda t: t[[0, 0, 2, 0]], x, [1.0, 10.0, 100.0, 1000.0])
    assert g.tolist() == [1011.0, 0.0, 100.0]
    g = _grad_of(lambda t: t[np.array([0, 0, 2, 0])], x, [1.0, 10.0, 100.0, 1000.0])
    assert g.tolist() == [1011.0, 0.0, 100.0]


def test_slices_masks_negatives_none():
    x = np.array([0.0, 2.0, 3.0])
    assert _grad_of(lambda t: t[1:], x).tolist() == [0.0, 1.0, 1.0]
    assert _grad_of(lambda t: t[t > 1], x).tolist() == [0.0, 1.0, 1.0]
    assert _grad_of(lambda t: t[-1], x).tolist() == [0.0, 0.0, 1.0]
    assert _grad_of(lambda t: t[None, :, None], x).tolist() == [1.0, 1.0, 1.0]
    assert tg.tensor(x)[None, :, None].shape == (1, 3, 1)


def test_views_route_back():
    w = tg.arange(6.0).reshape(2, 3)
    m = np.arange(6.0)
    assert _grad_of(lambda t: t.reshape(2, 3) * w, m).tolist() == [0, 1, 2, 3, 4, 5]
    assert _grad_of(lambda t: t.view(3, 2).t() * w, m).tolist() == [0, 3, 1, 4, 2, 5]
    assert _grad_of(lambda t: t.reshape(2, 3).transpose(0, 1) * w.t(), m).tolist() == \
        [0, 1, 2, 3, 4, 5]
    assert _grad_of(lambda t: t.reshape(2, 3).permute(1, 0).contiguous() * w.t(), m).tolist() \
        == [0, 1, 2, 3, 4, 5]


def test_reduction_grad_shapes():
    x = tg.ones(2, 3, requires_grad=True)
    x.sum(dim=1).sum().backward()
    assert x.grad.shape == (2, 3)
    x = tg.ones(2, 3, requires_grad=True)
    x.mean(dim=0).sum().backward()
    assert x.grad.tolist() == [[0.5] * 3] * 2


def test_cat_grad():
    a = tg.ones(2, requires_grad=True)
    b = tg.ones(1, requires_grad=True)
    (tg.cat([a, b]) * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [3.0]


# ---- indexing details -------------------------------------------------------------------

def test_negative_step_and_views(torch):
    a = np.arange(12.0).reshape(3, 4)
    x = tg.tensor(a)
    np.testing.assert_array_equal(x[::-1].numpy(), a[::-1])
    np.testing.assert_array_equal(x[:, ::-2].numpy(), a[:, ::-2])
    np.testing.assert_array_equal(x[..., 1].numpy(), a[..., 1])
    g = _grad_of(lambda t: t[::-1, 1::2], a, np.arange(6.0).reshape(3, 2))
    t = torch.tensor(a, requires_grad=True)
    (t.flip(0)[:, 1::2] * torch.tensor(np.arange(6.0).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(g.numpy(), t.grad.numpy())


def test_basic_index_shares_storage_and_version():
    x = tg.arange(6.0).reshape(2, 3)
    v = x[1]
    assert v._version == x._version
    assert np.shares_memory(v.numpy(), x.numpy())


def test_cat_with_constants_and_mixed_dtypes():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    c = tg.tensor([5.0])  # no grad
    y = tg.cat([c, a, c])
    assert y.requires_grad and y.tolist() == [5.0, 1.0, 2.0, 5.0]
    (y * tg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert a.grad.tolist() == [2.0, 3.0] and c.grad is None
    assert tg.cat([tg.tensor([1, 2]), tg.tensor([0.5])]).dtype == np.float64
    assert not tg.cat([tg.ones(1), tg.ones(1)]).requires_grad
    with tg.no_grad():
        assert not tg.cat([a, a]).requires_grad
    # legacy: empty 1-D tensors are skipped when joining matrices
    z = tg.zeros(0, requires_grad=True)
    m = tg.ones(2, 3, requires_grad=True)
    out = tg.cat([m, z])
    assert out.shape == (2, 3)
    out.sum().backward()
    assert z.grad.shape == (0,) and m.grad.tolist() == [[1.0] * 3] * 2


def test_cat_backward_twice_without_retain():
    # cat saves nothing, so (like torch's CatBackward) a second backward works
    a = tg.ones(2, requires_grad=True)
    y = tg.cat([a, a]).sum()
    y.backward()
    y.backward()
    assert a.grad.tolist() == [4.0, 4.0]


def test_split_chunk_shapes_match_torch(torch):
    x = tg.zeros(5, 4)
    t = torch.zeros(5, 4)
    for f in (lambda L, v: v.split(2), lambda L, v: v.split([1, 3], 1), lambda L, v: v.chunk(2),
              lambda L, v: v.chunk(3, 1), lambda L, v: L.chunk(v, 6), lambda L, v: v.unbind(1),
              lambda L, v: L.split(v[:0], 2), lambda L, v: L.chunk(v[:0], 3)):
        assert [p.shape for p in f(tg, x)] == [tuple(p.shape) for p in f(torch, t)]


def test_split_pieces_are_views():
    x = tg.arange(6.0)
    a, b = x.split(3)
    assert np.shares_memory(a.numpy(), x.numpy()) and b.tolist() == [3.0, 4.0, 5.0]


# ---- errors -----------------------------------------------------------------------------

def test_join_errors():
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0. "
                       "Expected size 3 but got size 2 for tensor number 1 in the list."):
        tg.cat([tg.ones(2, 3), tg.ones(2, 2)])
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1. "
                       "Expected size 2 but got size 3 for tensor number 1 in the list."):
        tg.cat([tg.ones(2, 3), tg.ones(3, 3)], dim=1)
    with pytest.raises(ValueError, match=r"torch.cat\(\): expected a non-empty list of Tensors"):
        tg.cat([])
    with pytest.raises(RuntimeError, match="Tensors must have same number of dimensions: got 2 "
                       "and 1"):
        tg.cat([tg.ones(2, 3), tg.ones(3)])
    with pytest.raises(RuntimeError, match=r"zero-dimensional tensor \(at position 0\) cannot be "
                       "concatenated"):
        tg.cat([tg.tensor(1.0), tg.tensor(2.0)])
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                       r"\[-1, 0\], but got 2\)"):
        tg.cat([tg.ones(2), tg.ones(3)], dim=2)
    with pytest.raises(TypeError, match="must be tuple of Tensors"):
        tg.cat(tg.ones(2))
    with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
        tg.stack([])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got "
                       r"\[3\] at entry 0 and \[2\] at entry 1"):
        tg.stack([tg.ones(3), tg.ones(2)])
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                       r"\[-2, 1\], but got 2\)"):
        tg.stack([tg.ones(3), tg.ones(3)], dim=2)
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly "
                       r"to 3 \(input tensor's size at dimension 0\), but got "
                       r"split_sizes=\[1, 1\]"):
        tg.split(tg.ones(3), [1, 1])
    with pytest.raises(RuntimeError, match="split_size can only be 0 if dimension size is 0"):
        tg.split(tg.ones(3), 0)
    with pytest.raises(RuntimeError, match="split expects split_size be non-negative"):
        tg.split(tg.ones(3), -1)
    with pytest.raises(RuntimeError, match="chunk expects `chunks` to be greater than 0, got: 0"):
        tg.chunk(tg.ones(3), 0)
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        tg.unbind(tg.tensor(1.0))


def test_movement_errors():
    x = tg.ones(2, 3)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of "
                       r"\[-2, 1\], but got 2\)"):
        x.transpose(0, 2)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.unsqueeze(3)
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):
        x.reshape(4, 2)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor"):
        x.expand(2, 4)
    with pytest.raises(IndexError):
        x[2]
    with pytest.raises(IndexError, match="tensors used as indices must be long"):
        x[tg.tensor([0.0])]


@pytest.mark.parametrize("dim", [0, 1, -1, 2])
def test_stack_is_one_record_with_pytorchs_values_and_gradients(dim):
    """``stack`` of CPU arrays records one op (PyTorch's ``StackBackward0``), not an unsqueeze
    per input and a cat; a tensor stacked twice gets both gradients."""
    r = np.random.default_rng(dim + 5)
    a, b = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    x, y = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    s = tg.stack([x, y * 2.0, x], dim)
    assert type(s.grad_fn).__name__ == "StackBackward0"
    w = r.standard_normal(s.shape)
    (s * tg.tensor(w)).sum().backward()
    want = np.stack([a, b * 2.0, a], dim)
    np.testing.assert_array_equal(s.detach().numpy(), want)
    pick = [np.take(w, i, axis=dim % 3) for i in range(3)]
    np.testing.assert_array_equal(x.grad.numpy(), pick[0] + pick[2])
    np.testing.assert_array_equal(y.grad.numpy(), pick[1] * 2.0)
    v = tg.tensor(r.standard_normal(5), requires_grad=True)
    assert tg.autograd.gradgradcheck(lambda t: tg.stack([t * t, t], 1), (v,))
    torch = pytest.importorskip("torch")
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    (torch.stack([xt, yt * 2.0, xt], dim) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_array_equal(y.grad.numpy(), yt.grad.numpy())


def test_flat_positions_of_an_advanced_index_without_an_input_sized_array():
    """``_flat_positions`` reads each dim's coordinate through the key where the input is the
    larger: the same positions as indexing ``arange`` of the input's size."""
    from tapegrad.ops.movement import _flat_positions

    r = np.random.default_rng(0)
    keys = [((10000, 64), r.integers(0, 10000, 300)),
            ((50, 40, 30), (slice(None), r.integers(0, 40, (7, 3)))),
            ((50, 40, 30), (r.integers(0, 50, 5), slice(2, 9), r.integers(0, 30, 5))),
            ((100, 200), r.random((100, 200)) < 0.01),
            ((300, 2), (Ellipsis, 1)),
            ((64, 64, 64), (None, r.integers(-64, 64, 10), Ellipsis)),
            ((1000, 1000), (np.array([3, 5]), np.array([7, -1]))),
            # whole rows by one integer array (an embedding lookup: one broadcast addition):
            # negative rows, a key of several dims, a 0-d key, unsigned and 32-bit keys, none
            ((10000, 8, 4), r.integers(-10000, 10000, (6, 5))),
            ((5000, 3), np.array(-2)),
            ((300, 64), r.integers(0, 255, 40).astype(np.uint8)),
            ((300, 64), r.integers(-300, 300, 40).astype(np.int32)),
            ((300, 64), np.zeros(0, np.int64))]
    for shape, key in keys:
        want = np.arange(np.prod(shape)).reshape(shape)[key]
        got = _flat_positions(shape, key, want.size)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)


def test_rows_of_a_table_gather_and_their_gradients_add_in_order():
    """An embedding lookup ``w[idx]`` with repeated rows: values NumPy's, the table's gradient
    the rows' gradients added in index order (``np.add.at``), a ``.grad`` of its own."""
    r = np.random.default_rng(1)
    w0, idx = r.standard_normal((5000, 32)), r.integers(0, 50, 700)
    g = r.standard_normal((700, 32))
    w = tg.tensor(w0, requires_grad=True)
    y = w[tg.tensor(idx)]
    np.testing.assert_array_equal(y.detach().numpy(), w0[idx])
    y.backward(tg.tensor(g))
    want = np.zeros_like(w0)
    np.add.at(want, idx, g)
    np.testing.assert_array_equal(w.grad.numpy(), want)
    assert w.grad.numpy().flags.writeable and not np.shares_memory(w.grad.numpy(), g)


@pytest.mark.parametrize("src,dst", [(0, 0), (-1, 0), ((0,), (-1,))])
def test_movedim_of_a_zero_d_tensor_is_an_alias(src, dst):
    x = tg.tensor(2.5, dtype=tg.float32, requires_grad=True)
    y = tg.movedim(x, src, dst)
    assert y.shape == () and y.item() == 2.5 and y.grad_fn.name() == "AliasBackward0"
    (g,) = tg.autograd.grad(y * 3, x)
    assert g.item() == 3.0
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        tg.movedim(x, 1, 0)


@needs_torch
def test_movedim_of_a_zero_d_tensor_matches_torch():
    for lib in (tg, torch):
        x = lib.tensor(2.5, requires_grad=True)
        y = lib.movedim(x, -1, 0)
        assert tuple(y.shape) == () and y.grad_fn.name() == "AliasBackward0"
        with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
            lib.movedim(x, 0, 1)


def test_flip_takes_dims_by_keyword_and_a_zero_d_tensor():
    a = np.arange(6.0).reshape(2, 3)
    x = tg.tensor(a, requires_grad=True)
    for y in (tg.flip(x, dims=(0, -1)), x.flip(dims=[0, 1]), tg.flip(x, (0, 1)), x.flip(0, 1)):
        np.testing.assert_array_equal(y.detach().numpy(), a[::-1, ::-1])
    np.testing.assert_array_equal(tg.flip(x, dims=-1).detach().numpy(), a[:, ::-1])
    s = tg.tensor(1.5, dtype=tg.float32, requires_grad=True)
    y = s.flip(0)
    assert y.shape == () and y.item() == 1.5
    (g,) = tg.autograd.grad(tg.flip(s, dims=(-1,)) * 2, s)
    assert g.item() == 2.0
    with pytest.raises(IndexError, match=r"expected to be in range of \[-1, 0\], but got 1"):
        s.flip(1)


@needs_torch
def test_flip_by_keyword_and_of_a_zero_d_tensor_match_torch():
    a = np.arange(6.0).reshape(2, 3)
    for dims in ((0,), (-1,), (0, 1)):
        np.testing.assert_array_equal(tg.flip(tg.tensor(a), dims=dims).numpy(),
                                      torch.flip(torch.tensor(a), dims=dims).numpy())
    for lib in (tg, torch):
        s = lib.tensor(1.5, requires_grad=True)
        y = lib.flip(s, dims=(0,))
        assert tuple(y.shape) == () and y.item() == 1.5
        assert y.grad_fn.name() == "FlipBackward0"


_AMBIGUOUS = "cannot reshape tensor of 0 elements into shape {} because the unspecified " \
             "dimension size -1 can be any value and is ambiguous"


def test_reshape_of_no_elements_with_minus_1_beside_a_0_is_ambiguous():
    x = tg.zeros(3, 0, requires_grad=True)
    for shape in ((0, -1), (-1, 0, 5), (2, -1, 0)):
        with pytest.raises(RuntimeError, match=re.escape(_AMBIGUOUS.format(list(shape)))):
            x.reshape(shape)
        with pytest.raises(RuntimeError, match=re.escape(_AMBIGUOUS.format(list(shape)))):
            x.view(*shape)
    assert x.reshape(-1, 3).shape == (0, 3) and x.reshape(-1).shape == (0,)


def test_unflatten_infers_minus_1_from_the_dim_also_of_no_elements():
    x = tg.zeros(3, 0, requires_grad=True)
    assert x.unflatten(0, (1, -1)).shape == (1, 3, 0)
    assert x.unflatten(1, (1, -1)).shape == (3, 1, 0)
    assert tg.zeros(0).unflatten(0, (2, -1)).shape == (2, 0)
    y = x.unflatten(0, (-1, 3))
    (g,) = tg.autograd.grad(y.sum(), x)
    assert g.shape == (3, 0)
    with pytest.raises(RuntimeError, match=re.escape(_AMBIGUOUS.format([0, -1]))):
        x.unflatten(1, (0, -1))


@needs_torch
def test_reshape_and_unflatten_of_no_elements_match_torch():
    for lib in (tg, torch):
        x = lib.zeros(3, 0)
        assert tuple(x.unflatten(0, (1, -1)).shape) == (1, 3, 0)
        assert tuple(x.unflatten(1, (-1, 1)).shape) == (3, 0, 1)
        with pytest.raises(RuntimeError, match=re.escape(_AMBIGUOUS.format([0, -1]))):
            x.reshape(0, -1)
        with pytest.raises(RuntimeError, match="unflatten got an unexpected error:\n" +
                           re.escape(_AMBIGUOUS.format([0, -1]))):
            x.unflatten(1, (0, -1))
