"""Integer and bool tensors as PyTorch users write with them: bitwise and shift operators,
``//`` and ``%``, ``div(rounding_mode=)``, integer powers, clamp with float bounds, float
functions of integers and the errors PyTorch raises."""

import numpy as np
import pytest

import tapegrad as tg


def _result(lib, f):
    """``f(lib)`` as (dtype name, values), or (exception type name, message)."""
    try:
        r = f(lib)
    except Exception as e:  # noqa: BLE001 (the error is the result compared)
        return type(e).__name__, str(e)
    return str(r.dtype).replace("torch.", ""), r.tolist()


BITWISE = {
    "invert int": lambda T: ~T.tensor([1, -2, 0]),
    "invert bool": lambda T: ~T.tensor([True, False]),
    "invert float": lambda T: ~T.tensor([1.5], dtype=T.float32),
    "xor bool number": lambda T: T.tensor([True, False]) ^ True,
    "xor int": lambda T: T.tensor([5, 3]) ^ T.tensor([1, 1]),
    "rxor": lambda T: 3 ^ T.tensor([1, 2]),
    "and int number": lambda T: T.tensor([5, 3]) & 1,
    "or bool": lambda T: T.tensor([True, False]) | T.tensor([False, False]),
    "lshift": lambda T: T.tensor([1, 2]) << 2,
    "rshift negative": lambda T: T.tensor([5, -5]) >> 1,
    "rlshift": lambda T: 1 << T.tensor([3, 4]),
    "bool lshift": lambda T: T.tensor([True]) << 1,
    "bitwise_not": lambda T: T.bitwise_not(T.tensor([0, 7])),
    "bitwise_xor method": lambda T: T.tensor([6]).bitwise_xor(T.tensor([3])),
    "bitwise_left_shift": lambda T: T.bitwise_left_shift(T.tensor([3]), 2),
    "xor float": lambda T: T.tensor([1.5], dtype=T.float32) ^ 1,
    "and float": lambda T: T.tensor([1.5], dtype=T.float32) & T.tensor([1.5], dtype=T.float32),
    "rshift double": lambda T: T.tensor([1.5], dtype=T.float64) >> 1,
    "bitwise_not float": lambda T: T.bitwise_not(T.tensor([1.5], dtype=T.float32)),
    "logical_and method": lambda T: T.tensor([1, 0]).logical_and(T.tensor([2, 2])),
    "logical_not method": lambda T: T.tensor([1.5, 0.0]).logical_not(),
}

DIVISION = {
    "floordiv int": lambda T: T.tensor([-7, 7, 3]) // T.tensor([2, -2, 2]),
    "floordiv float": lambda T: T.tensor([-7.5, 7.5, 3.0], dtype=T.float64) // 2,
    "rfloordiv int": lambda T: 5 // T.tensor([2, -3, 4]),
    "rfloordiv float": lambda T: 5.0 // T.tensor([2.0, -3.0, 4.0], dtype=T.float64),
    "floordiv int by zero": lambda T: T.tensor([1, 2]) // 0,
    "floordiv int by zero tensor": lambda T: T.tensor([1, 2]) // T.tensor([1, 0]),
    "floordiv float by zero": lambda T: T.tensor([1.0, -2.0], dtype=T.float64) // 0,
    "floordiv bools": lambda T: T.tensor([True]) // T.tensor([True]),
    "mod int": lambda T: T.tensor([-7, 7, 3]) % T.tensor([2, -2, 2]),
    "rmod": lambda T: 5 % T.tensor([2, -3, 4]),
    "mod int by zero": lambda T: T.tensor([1, 2]) % 0,
    "rmod int by zero": lambda T: 5 % T.tensor([0]),
    "remainder int by zero": lambda T: T.remainder(T.tensor([3]), 0),
    "fmod int by zero": lambda T: T.fmod(T.tensor([3]), 0),
    "div floor": lambda T: T.div(T.tensor([-7.0, 7.0], dtype=T.float64), 2,
                                 rounding_mode="floor"),
    "div trunc int": lambda T: T.div(T.tensor([-7, 7]), 2, rounding_mode="trunc"),
    "div method trunc": lambda T: T.tensor([-7, 7]).div(T.tensor([2, 2]), rounding_mode="trunc"),
    "div method": lambda T: T.tensor([1.0, 2.0], dtype=T.float64).div(4),
    "div bad mode": lambda T: T.div(T.tensor([1.0], dtype=T.float64), 2,
                                    rounding_mode="round"),
}

POWERS_AND_BOOLS = {
    "int pow negative number": lambda T: T.tensor([1, 2]) ** -1,
    "pow function negative number": lambda T: T.pow(T.tensor([2, 3]), -2),
    "int pow negative int tensor": lambda T: T.tensor([2, 3, 1, -1, -1, 0]) **
    T.tensor([-1, 2, -5, -3, -2, -1]),
    "number pow negative int tensor": lambda T: 2 ** T.tensor([-1, 3]),
    "bool sub": lambda T: T.tensor([True, True]) - T.tensor([True, False]),
    "bool neg": lambda T: -T.tensor([True, False]),
    "bool sub number-free method": lambda T: T.tensor([True]).sub(T.tensor([False])),
    "clamp int int": lambda T: T.tensor([1, 5]).clamp(2, 3),
    "square bool": lambda T: T.square(T.tensor([True, False])),
}


@pytest.mark.parametrize("name", sorted(BITWISE))
def test_bitwise_operators_match_torch(torch, name):
    assert _result(tg, BITWISE[name]) == _result(torch, BITWISE[name])


@pytest.mark.parametrize("name", sorted(DIVISION))
def test_integer_division_matches_torch(torch, name):
    assert _result(tg, DIVISION[name]) == _result(torch, DIVISION[name])


@pytest.mark.parametrize("name", sorted(POWERS_AND_BOOLS))
def test_integer_powers_and_bool_arithmetic_match_torch(torch, name):
    assert _result(tg, POWERS_AND_BOOLS[name]) == _result(torch, POWERS_AND_BOOLS[name])


def test_bitwise_and_division_values_without_torch():
    assert (~tg.tensor([1, -2, 0])).tolist() == [-2, 1, -1]
    assert (~tg.tensor([True, False])).tolist() == [False, True]
    assert (tg.tensor([True, False]) ^ True).tolist() == [False, True]
    assert (tg.tensor([5, -5]) >> 1).tolist() == [2, -3]
    assert (1 << tg.tensor([3, 4])).tolist() == [8, 16]
    assert (tg.tensor([-7, 7, 3]) // tg.tensor([2, -2, 2])).tolist() == [-4, -4, 1]
    assert (5 % tg.tensor([2, -3, 4])).tolist() == [1, -1, 1]
    assert tg.div(tg.tensor([-7, 7]), 2, rounding_mode="trunc").tolist() == [-3, 3]
    assert (tg.tensor([2, 3, 1, -1, -1, 0]) ** tg.tensor([-1, 2, -5, -3, -2, -1])).tolist() \
        == [0, 9, 1, -1, 1, 0]
    with pytest.raises(TypeError, match="only implemented on integer and Boolean"):
        ~tg.tensor([1.5])
    with pytest.raises(NotImplementedError, match='"bitwise_xor_cpu" not implemented'):
        tg.tensor([1.5]) ^ 1
    for bad in (lambda: tg.tensor([1, 2]) // 0, lambda: tg.tensor([1]) % tg.tensor([0])):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            bad()
    with pytest.raises(RuntimeError, match="Integers to negative integer powers"):
        tg.tensor([1, 2]) ** -1
    with pytest.raises(RuntimeError, match="Subtraction, the `-` operator, with two bool"):
        tg.tensor([True]) - tg.tensor([False])
    with pytest.raises(RuntimeError, match="Negation, the `-` operator, on a bool tensor"):
        -tg.tensor([True])


def test_inplace_floordiv_and_mod_write_through_views():
    x = tg.tensor([[7.0, 8.0], [9.0, 10.0]], dtype=tg.float64)
    row = x[0]
    row //= 2
    x[1] %= 4
    assert x.tolist() == [[3.0, 4.0], [1.0, 2.0]]
    y = tg.tensor([6, 7])
    y.div_(2, rounding_mode="floor")
    assert y.tolist() == [3, 3]


def test_floor_division_has_a_zero_gradient():
    x = tg.tensor([1.5, -2.5], dtype=tg.float64, requires_grad=True)
    ((x // 1) * x).sum().backward()
    assert x.grad.tolist() == [1.0, -3.0]  # d/dx (floor(x) * x) = floor(x)


def test_clamp_of_integers_with_float_bounds_is_floating():
    assert tg.tensor([1, 5]).clamp(min=2.5).tolist() == [2.5, 5.0]
    assert tg.tensor([1, 5]).clamp(max=2.5).dtype == tg.float64
    assert tg.clamp(tg.tensor([True, False]), 0.5).tolist() == [1.0, 0.5]
    assert tg.tensor([1, 5]).clamp(2, 3).tolist() == [2, 3]
    assert tg.tensor([1, 5]).clamp(2, 3).dtype == tg.int64


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "int64"])
@pytest.mark.parametrize("name", ["exp", "sqrt", "sin", "sigmoid", "erf", "asin", "atan",
                                  "cosh", "rsqrt", "log1p"])
def test_float_functions_of_integers_are_float64_and_exact(name, dtype):
    x = tg.tensor([1, 0], dtype=getattr(tg, dtype))
    y = getattr(tg, name)(x)
    assert y.dtype == tg.float64
    expect = getattr(tg, name)(tg.tensor([1.0, 0.0], dtype=tg.float64))
    np.testing.assert_array_equal(y.numpy(), expect.numpy())


def test_sigmoid_of_large_unsigned_integers():
    assert tg.sigmoid(tg.tensor([200], dtype=tg.uint8)).tolist() == [1.0]
    assert tg.sigmoid(tg.tensor([-200], dtype=tg.int16)).item() < 1e-80


def test_torch_dtype_names_and_conversions(torch):
    for name in ("uint8", "int8", "int16", "short", "half", "int"):
        assert str(getattr(tg, name)) == str(getattr(torch, name)).replace("torch.", "")
    x = tg.tensor([300, -1])
    for method in ("byte", "char", "short"):
        assert getattr(x, method)().tolist() == getattr(torch.tensor([300, -1]), method)().tolist()
    assert (tg.tensor([200], dtype=tg.uint8) + tg.tensor([1], dtype=tg.int8)).dtype == tg.int16


def test_inplace_bitwise_operators_write_through_views(torch):
    def run(T):
        x = T.tensor([[12, 10], [3, 5]])
        row = x[0]
        row ^= 6
        row |= 1
        x[1] &= 1
        x[1] <<= 2
        x.bitwise_right_shift_(1)
        y = T.tensor([True, False])
        y.logical_not_()
        z = T.tensor([1, 0])
        z.bitwise_not_()
        return x.tolist(), y.tolist(), z.tolist()

    assert run(tg) == run(torch)
    assert run(tg) == ([[5, 6], [2, 2]], [False, True], [-2, -1])


def test_bitwise_operators_under_vmap_use_the_elementwise_rule():
    import warnings

    x = tg.tensor([[1, 2], [3, 4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no per-example loop
        assert tg.vmap(lambda r: ~r)(x).tolist() == [[-2, -3], [-4, -5]]
        assert tg.vmap(lambda r: 1 ^ r)(x).tolist() == [[0, 3], [2, 5]]
        assert tg.vmap(lambda r: r << 1)(x).tolist() == [[2, 4], [6, 8]]


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "int32", "int64"])
def test_sums_of_integers_and_bools_are_long(torch, dtype):
    """PyTorch sums every integer and bool tensor as int64 (NumPy's sum of uint8 is uint64)."""
    cases = [lambda L: L.tensor([[200, 100], [1, 0]]).to(getattr(L, dtype)).sum(),
             lambda L: L.tensor([[200, 100], [1, 0]]).to(getattr(L, dtype)).sum(0),
             lambda L: L.tensor([[200, 100], [1, 0]]).to(getattr(L, dtype)).sum((0, 1), True),
             lambda L: L.tensor([[200, 100], [1, 0]]).to(getattr(L, dtype)).nansum(1),
             lambda L: L.tensor([[200, 100], [1, 0]]).to(getattr(L, dtype)).cumsum(1),
             lambda L: L.tensor([[2, 1], [1, 3]]).to(getattr(L, dtype)).prod(1)]
    for f in cases:
        assert _result(tg, f) == _result(torch, f)
