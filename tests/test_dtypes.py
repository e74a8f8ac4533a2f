"""Dtypes: names equal NumPy's, float32 end to end, NumPy 2 / NEP 50 promotion, integer and bool
tensors cannot require grad (PyTorch's texts), mixed-dtype gradients."""

import numpy as np
import pytest

import tapegrad as tg

F32_RTOL = 1e-5


def test_dtype_names_compare_equal_to_numpy():
    assert tg.float32 == np.float32 and tg.float32 == np.dtype("float32")
    assert tg.float64 == np.float64 and tg.double == np.float64
    assert tg.int64 == np.int64 and tg.long == np.int64
    assert tg.bool == np.bool_
    assert tg.tensor([1.0]).dtype == tg.float64  # Python floats: float64 (NumPy's default)
    assert tg.tensor(2.0).dtype == tg.float64
    assert tg.tensor([1, 2]).dtype == tg.int64
    assert tg.tensor([True]).dtype == tg.bool
    assert tg.tensor(np.ones(2, np.float32)).dtype == tg.float32
    assert tg.zeros(2, dtype=tg.float32).dtype == tg.float32


def _chain(x, w):
    """A mix of every elementwise family, broadcasting, reductions and a matmul."""
    h = tg.tanh(x @ w) * 2.5 + tg.sigmoid(x).sum(1, keepdim=True)
    h = tg.where(h > 0, h, h * 0.1) ** 2 / 3.0 - tg.exp(-x.abs()).mean()
    h = tg.maximum(h, x[:, :2] * 0.5) + tg.clamp(x[:, :2], -0.5, 0.5)
    h = h + tg.sqrt(x * x + 1)[:, :2] + tg.log1p(x * x)[:, 1:] - 1.5 / (2.0 + x[:, :2])
    return (tg.relu(h) * h + tg.sin(h) - tg.cos(x[:, 1:]) + 2 ** x[:, :2] - h.clamp(min=0)).sum()


def _torch_chain(torch, x, w):
    h = torch.tanh(x @ w) * 2.5 + torch.sigmoid(x).sum(1, keepdim=True)
    h = torch.where(h > 0, h, h * 0.1) ** 2 / 3.0 - torch.exp(-x.abs()).mean()
    h = torch.maximum(h, x[:, :2] * 0.5) + torch.clamp(x[:, :2], -0.5, 0.5)
    h = h + torch.sqrt(x * x + 1)[:, :2] + torch.log1p(x * x)[:, 1:] - 1.5 / (2.0 + x[:, :2])
    return (torch.relu(h) * h + torch.sin(h) - torch.cos(x[:, 1:]) + 2 ** x[:, :2]
            - h.clamp(min=0)).sum()


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (4, 3)).astype(np.float32), rng.uniform(-1, 1, (3, 2)).astype(
        np.float32)


def test_float32_end_to_end(torch):
    xa, wa = _data()
    x = tg.tensor(xa, requires_grad=True)
    w = tg.tensor(wa, requires_grad=True)
    y = _chain(x, w)
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    tx = torch.tensor(xa, requires_grad=True)
    tw = torch.tensor(wa, requires_grad=True)
    ty = _torch_chain(torch, tx, tw)
    assert ty.dtype == torch.float32
    ty.backward()
    np.testing.assert_allclose(y.item(), ty.item(), rtol=F32_RTOL)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=F32_RTOL, atol=1e-5)
    np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=F32_RTOL, atol=1e-5)


def test_float32_gradient_close_to_float64():
    xa, wa = _data(1)
    x32, w32 = tg.tensor(xa, requires_grad=True), tg.tensor(wa, requires_grad=True)
    x64 = tg.tensor(xa.astype(np.float64), requires_grad=True)
    w64 = tg.tensor(wa.astype(np.float64), requires_grad=True)
    _chain(x32, w32).backward()
    _chain(x64, w64).backward()
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_float32_create_graph_keeps_float32(torch):
    xa = np.array([0.5, 1.5, -0.7], np.float32)
    fs = [lambda x: x ** 3, lambda x: tg.maximum(x, x * 0.5), tg.relu, lambda x: x ** 0.5,
          lambda x: 2 ** x, tg.abs, lambda x: tg.clamp(x, 0, 1), tg.tanh,
          lambda x: tg.where(x > 0, x * x, 0.0)]
    for f in fs:
        x = tg.tensor(np.abs(xa) if f is fs[3] else xa, requires_grad=True)
        (g,) = tg.autograd.grad(f(x).sum(), [x], create_graph=True)
        assert g.dtype == np.float32
        if g.requires_grad:  # clamp's gradient is a mask: no history, like torch's
            (h,) = tg.autograd.grad(g.sum(), [x], allow_unused=True)
            assert h is None or h.dtype == np.float32
    x = tg.tensor(xa, requires_grad=True)
    (g,) = tg.autograd.grad((x ** 3).sum(), [x], create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), [x])
    tx = torch.tensor(xa, requires_grad=True)
    (tg_,) = torch.autograd.grad((tx ** 3).sum(), [tx], create_graph=True)
    (th,) = torch.autograd.grad(tg_.sum(), [tx])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=F32_RTOL)


def test_float32_scalar_constants_stay_float32():
    f = tg.tensor([1.0, 2.0], dtype=tg.float32, requires_grad=True)
    for out in (f + 1.5, 1.5 + f, f - 2, 2 - f, f * 3.0, f / 3, 3 / f, f ** 2, 2 ** f,
                f ** 0.5, tg.clamp(f, 0.0, 1.5), tg.maximum(f, 1.0), tg.where(f > 1, f, 0.0)):
        assert out.dtype == np.float32
    f0 = tg.tensor(1.0, dtype=tg.float32, requires_grad=True)
    assert (f0 * 2.5).dtype == np.float32 and (tg.exp(f0) + 1).dtype == np.float32
    (f0 * 2.5).backward()
    assert f0.grad.dtype == np.float32 and f0.grad.shape == ()


# PyTorch's promotion: an integer meeting a float takes the float's dtype unwidened (NumPy
# widens int64 + float32 to float64), and a 0-d tensor changes a dimensioned one's dtype only
# from a higher category. (a, b, result when a is 0-d, result when both are 1-d)
PROMOTION = [
    (np.float32, np.float64, np.float64, np.float64),
    (np.float64, np.float32, np.float32, np.float64),
    (np.int64, np.float32, np.float32, np.float32),
    (np.bool_, np.float32, np.float32, np.float32),
    (np.int64, np.float64, np.float64, np.float64),
    (np.int32, np.float32, np.float32, np.float32),
    (np.float16, np.float32, np.float32, np.float32),
    (np.int8, np.float16, np.float16, np.float16),
    (np.int64, np.int32, np.int32, np.int64),
    (np.uint8, np.int8, np.int8, np.int16),
    (np.float32, np.int64, np.float32, np.float32),
]


@pytest.mark.parametrize("a,b,zero_dim,both_dim", PROMOTION)
@pytest.mark.parametrize("shape_a", [(), (2,)], ids=["0d", "1d"])
def test_tensor_tensor_promotion_is_pytorchs(a, b, zero_dim, both_dim, shape_a):
    x = tg.tensor(np.ones(shape_a, a))
    y = tg.tensor(np.ones(2, b))
    expect = np.dtype(zero_dim if shape_a == () else both_dim)
    assert tg.result_type(x, y) == expect
    subtract = (x - y,) if np.dtype(a).kind != "b" else ()  # (PyTorch refuses bool - float)
    for out in (x + y, y * x, tg.maximum(x, y)) + subtract:
        assert out.dtype == expect
    div = expect if expect.kind == "f" else np.dtype(np.float64)  # (the default dtype)
    assert (x / y).dtype == div


@pytest.mark.parametrize("a,b,zero_dim,both_dim", PROMOTION)
@pytest.mark.parametrize("shape_a", [(), (2,)], ids=["0d", "1d"])
def test_tensor_tensor_promotion_matches_torch(a, b, zero_dim, both_dim, shape_a):
    torch = pytest.importorskip("torch")

    want = torch.result_type(torch.from_numpy(np.ones(shape_a, a)),
                             torch.from_numpy(np.ones(2, b)))
    assert str(want).replace("torch.", "") == np.dtype(zero_dim if shape_a == () else
                                                       both_dim).name


def test_integers_meeting_floats_take_the_default_dtype():
    i, b = tg.tensor([1, 2]), tg.tensor([True, False])
    try:
        tg.set_default_dtype(tg.float32)
        for out in (i * 2.5, 2.5 * i, i / 2, 3 / i, i / i, i + 0.5, b * 1.5, tg.exp(i),
                    tg.sqrt(b), i ** 0.5, tg.sigmoid(i), tg.atan(i), tg.erf(i), tg.atan2(i, i),
                    tg.where(b, 1.0, 2.0), tg.where(b, 1, 2.5)):
            assert out.dtype == np.float32
        assert (i + 1).dtype == np.int64 and (b + 1).dtype == np.int64
        assert tg.where(b, 1, 2).dtype == np.int64
    finally:
        tg.set_default_dtype(tg.float64)
    for out in (i * 2.5, i / 2, tg.exp(i)):
        assert out.dtype == np.float64


def test_promoted_float32_gradients_stay_float32():
    w = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float32, requires_grad=True)
    idx = tg.arange(3)
    y = (w * idx + w * tg.tensor(2.0)).sum()  # int64 and 0-d float64 operands: float32
    assert y.dtype == np.float32
    y.backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), np.array([2.0, 3.0, 4.0], np.float32))


def test_python_numbers_and_numpy_scalars_are_weak():
    f = tg.tensor([1.0], dtype=tg.float32)
    assert (f + 1.5).dtype == np.float32 and (f * 2).dtype == np.float32
    assert (f + np.float64(1.5)).dtype == np.float32  # NumPy scalar: weak, as in PyTorch
    assert (np.float64(1.5) * f).dtype == np.float32
    assert (f + np.float32(1.5)).dtype == np.float32
    assert (f + tg.tensor(1.5)).dtype == np.float32  # a 0-d tensor of its category gives way
    i = tg.tensor([1, 2])
    assert (i + 1).dtype == np.int64 and (i * 2.5).dtype == np.float64  # (the default dtype)
    assert (i / 2).dtype == np.float64  # true division of integers: the default dtype


def test_operators_without_grad_are_numpys_operators_bit_for_bit():
    # the no-grad array path calls the ufunc itself: values, dtypes and errors stay the
    # operator's, for Python numbers (weak) and same-shape tensors alike
    import operator

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(5), rng.standard_normal(5).astype(np.float32),
              rng.integers(-3, 4, 5), np.array([True, False, True, True, False])]
    for a in arrays:
        for b in (2, -0.7, 3.0, True, rng.standard_normal(5), a[::-1].copy()):
            tb = tg.tensor(b) if type(b) is np.ndarray else b
            for op in (operator.add, operator.sub, operator.mul, operator.truediv):
                if op is operator.sub and (a.dtype == bool or np.asarray(b).dtype == bool):
                    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator"):
                        op(tg.tensor(a), tb)  # PyTorch refuses any bool operand of -
                    continue
                with np.errstate(all="ignore"):
                    want = op(a, b)
                    with tg.no_grad():
                        got = op(tg.tensor(a), tb).numpy()
                assert got.dtype == want.dtype
                assert np.array_equal(got.view(np.uint8), want.view(np.uint8))


def test_mixed_precision_gradients_keep_each_leaf_dtype():
    # f32 * f64 -> float64 result; f.grad float32, d.grad float64
    for shape in ((2,), ()):
        f = tg.tensor(np.full(shape, 2.0, np.float32), requires_grad=True)
        d = tg.tensor(np.full(shape, 3.0), requires_grad=True)
        z = f * d
        assert z.dtype == np.float64
        z.sum().backward()
        assert f.grad.dtype == np.float32 and d.grad.dtype == np.float64
        np.testing.assert_array_equal(f.grad.numpy(), np.full(shape, 3.0, np.float32))
        np.testing.assert_array_equal(d.grad.numpy(), np.full(shape, 2.0))


def test_mixed_precision_matches_torch(torch):
    fa = np.array([0.3, -1.2, 2.0], np.float32)
    da = np.array([1.1, 0.4, -0.6])
    f, d = tg.tensor(fa, requires_grad=True), tg.tensor(da, requires_grad=True)
    tf, td = torch.tensor(fa, requires_grad=True), torch.tensor(da, requires_grad=True)
    (tg.sin(f) * d + f / d).sum().backward()
    (torch.sin(tf) * td + tf / td).sum().backward()
    assert str(f.grad.dtype) == "float32" and tf.grad.dtype == torch.float32
    np.testing.assert_allclose(f.grad.numpy(), tf.grad.numpy(), rtol=F32_RTOL)
    np.testing.assert_allclose(d.grad.numpy(), td.grad.numpy(), rtol=F32_RTOL)


def test_integer_tensor_times_float_tensor_that_requires_grad(torch):
    i = tg.tensor([1, 2, 3])
    x = tg.tensor([0.5, -1.0, 2.0], requires_grad=True)
    same = [lambda a, b: a * b, lambda a, b: b / a, lambda a, b: b ** a, lambda a, b: a + b]
    for f, tf in [(g, g) for g in same] + [(tg.maximum, torch.maximum)]:
        x.grad = None
        out = f(i, x)
        assert out.dtype == np.float64 and out.requires_grad
        out.sum().backward()
        tx = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
        tf(torch.tensor([1, 2, 3]), tx).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-14)
    b = tg.tensor([True, False, True])
    x.grad = None
    (b * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 0.0, 1.0])


RG_CREATE_MSG = "Only Tensors of floating point and complex dtype can require gradients"
RG_METHOD_MSG = "only Tensors of floating point dtype can require gradients"
RG_SETTER_MSG = "only Tensors of floating point and complex dtype can require gradients"


def test_integer_and_bool_tensors_cannot_require_grad():
    for data in (1, [1, 2], [True]):
        with pytest.raises(RuntimeError, match=f"^{RG_CREATE_MSG}$"):
            tg.tensor(data, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^{RG_CREATE_MSG}$"):
        tg.zeros(2, dtype=tg.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^{RG_METHOD_MSG}$"):
        tg.tensor([1, 2]).requires_grad_()
    t = tg.tensor([True, False])
    with pytest.raises(RuntimeError, match=f"^{RG_SETTER_MSG}$"):
        t.requires_grad = True
    assert tg.tensor([1, 2]).requires_grad_(False).requires_grad is False
    assert tg.tensor([1.0], dtype=tg.float16, requires_grad=True).requires_grad


def test_torch_agrees_on_requires_grad_texts(torch):
    with pytest.raises(RuntimeError, match=f"^{RG_CREATE_MSG}$"):
        torch.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match=f"^{RG_METHOD_MSG}$"):
        torch.tensor([1, 2]).requires_grad_()
    t = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match=f"^{RG_SETTER_MSG}$"):
        t.requires_grad = True


def test_non_differentiable_results_never_require_grad():
    # comparisons are bool without grad; integer conversions and argmax are int64 without
    x = tg.tensor([0.5, 2.0, 1.0], requires_grad=True)
    for out in (x > 1, x == x, x <= 1.0, tg.lt(x, x * 2)):
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    assert x.long().dtype == np.int64 and not x.long().requires_grad
    assert not tg.argmax(x * 2).requires_grad
    d = x.double()
    assert d.requires_grad  # float -> float stays differentiable
    y = x.float()
    assert y.dtype == np.float32 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])


def test_shape_mismatch_uses_pytorch_text():
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of "
                       r"tensor b \(2\) at non-singleton dimension 1$"):
        tg.ones(2, 3) + tg.ones(2)
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(2\) must match the size of "
                       r"tensor b \(3\) at non-singleton dimension 1$"):
        tg.ones(2) * tg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied "
                       r"\(2x3 and 2x3\)$"):
        tg.ones(2, 3) @ tg.ones(2, 3)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        tg.where(tg.ones(2) > 0, tg.ones(3), 0.0)


def test_torch_agrees_on_shape_text(torch):
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of "
                       r"tensor b \(2\) at non-singleton dimension 1$"):
        torch.ones(2, 3) + torch.ones(2)


def test_where_cat_and_stack_promote_as_pytorch():
    f, i = tg.ones(3, dtype=tg.float32), tg.arange(3)
    c = i > 0
    for out in (tg.where(c, f, i), tg.where(c, i, f), tg.where(c, f, 0.0),
                tg.where(c, f, tg.tensor(2.0)), tg.cat([f, i]), tg.cat([i, f]),
                tg.stack([f, i])):
        assert out.dtype == np.float32  # (NumPy: float64 for all but where(c, f, 0.0))
    assert tg.where(c, i, 2).dtype == np.int64 and tg.where(c, i, 0.5).dtype == np.float64
    x = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float32, requires_grad=True)
    y = tg.where(c, x, i) + tg.cat([x, i])[:3]
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 2.0])


def test_numpy_functions_on_tensors_keep_numpys_promotion():
    f, i = tg.ones(3, dtype=tg.float32, requires_grad=True), tg.arange(3)
    assert (f + i).dtype == np.float32 and tg.maximum(f, i).dtype == np.float32  # PyTorch's
    for out in (np.add(f, i), np.maximum(f, i), np.fmax(f, i), np.fmax(f, np.float64(0.1)),
                np.hypot(f, i)):
        assert out.dtype == np.float64  # NumPy's, as np.add(f32 array, int64 array)
    assert (np.float64(1.5) * f).dtype == np.float32  # (the operator: a NumPy scalar is weak)
    np.add(f, i).sum().backward()
    assert f.grad.dtype == np.float32


_BINARY_FUNCTIONS = ("atan2", "hypot", "copysign", "fmax", "fmin", "fmod", "remainder",
                     "floor_divide", "xlogy", "logaddexp", "logaddexp2", "nextafter", "ldexp")


@pytest.mark.parametrize("name", _BINARY_FUNCTIONS)
def test_torch_named_binary_functions_promote_as_pytorch(name):
    """The torch-named functions built on the NumPy-dispatch ones (and ``%``, ``//``) compute
    in PyTorch's dtype: a float32 tensor beside an int64 tensor or a 0-d float64 one stays
    float32, an int32 one beside a 0-d int64 stays int32; the NumPy functions keep NumPy's."""
    f = getattr(tg, name)
    f32, i64 = tg.tensor([0.5, 2.0, 3.5], dtype=tg.float32), tg.tensor([1, 2, 3])
    for a, b in ((f32, i64), (i64, f32), (f32, tg.tensor(2.0)), (tg.tensor(3), f32)):
        assert f(a, b).dtype == np.float32, (name, a.dtype, b.dtype)
    if name in ("fmax", "fmin", "fmod", "remainder", "floor_divide"):
        assert f(i64.to(tg.int32), tg.tensor(2)).dtype == np.int32
    if name in ("atan2", "hypot", "copysign", "fmax", "fmin", "fmod", "remainder",
                "logaddexp", "logaddexp2", "nextafter"):
        ufunc = getattr(np, {"atan2": "arctan2"}.get(name, name))
        assert ufunc(f32, i64).dtype == np.float64  # NumPy's own promotion
    x = tg.tensor([0.5, 2.0, 3.5], dtype=tg.float32, requires_grad=True)
    out = f(x, i64)
    if out.requires_grad:
        out.sum().backward()
        assert x.grad.dtype == np.float32


def test_remainder_and_floor_division_operators_promote_as_pytorch():
    f32, i64 = tg.tensor([7.0, -7.0], dtype=tg.float32), tg.tensor([2, 2])
    for out in (f32 % i64, f32 // i64, i64 // f32, i64 % f32, tg.special.xlog1py(f32, i64)):
        assert out.dtype == np.float32
    np.testing.assert_array_equal((f32 // i64).numpy(), [3.0, -4.0])
    np.testing.assert_array_equal((f32 % i64).numpy(), [1.0, 1.0])


@pytest.mark.parametrize("dt,expect", [("bool", "complex128"), ("int8", "complex128"),
                                       ("int64", "complex128"), ("float32", "complex64"),
                                       ("float64", "complex128"), ("complex64", "complex64")])
@pytest.mark.parametrize("number", [1j, 2 + 0j, np.complex128(1j)], ids=["1j", "2+0j", "np"])
def test_result_type_with_a_complex_number_is_complex(dt, expect, number):
    for shape in [(3,), ()]:
        x = tg.ones(shape, dtype=getattr(tg, dt))
        assert tg.result_type(x, number) == np.dtype(expect)
        assert tg.result_type(number, x) == np.dtype(expect)
        assert (x * number).dtype == np.dtype(expect)
