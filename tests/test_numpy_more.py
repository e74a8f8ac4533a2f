"""More NumPy functions on tensors (numpy_dispatch/ufuncs.py, arrays.py and the forms added to
composites.py): each runs the same NumPy code on arrays and on tensors through ``check_op``
(NumPy's values, finite differences to second order, numeric sweep == re-taped sweep, PyTorch's
values and gradients where torch has the function)."""

import numpy as np
import pytest

import tapegrad as tg
from tests.op_checks import check_op

R = np.random.default_rng(11)
A = R.uniform(-2.0, 2.0, size=(3, 4))
B = R.uniform(0.4, 1.5, size=(3, 4)) * np.where(R.random((3, 4)) < 0.5, -1.0, 1.0)
V = R.uniform(-2.0, 2.0, size=(5,))
X3 = R.uniform(-2.0, 2.0, size=(2, 3, 4))
V3 = R.uniform(-2.0, 2.0, size=(3,))
Z = np.array([0.0, 0.4, -1.3, 2.2])  # sinc at 0


def _pos(x):  # keeps remainder's inputs away from the jumps where x1 / x2 is an integer
    return np.round(x, 0) + 0.37


# name, NumPy code f(*xs), inputs, torch twin f(torch, *ts) or None, order
CASES = [
    ("remainder", lambda x, y: np.remainder(x, y), [_pos(A * 3), B],
     lambda T, x, y: T.remainder(x, y), 2),
    ("mod_operator", lambda x, y: x % y, [_pos(A * 3), B], lambda T, x, y: x % y, 2),
    ("mod_scalar", lambda x: np.mod(x, 0.7), [_pos(A * 3)], lambda T, x: T.remainder(x, 0.7), 2),
    ("rmod_scalar", lambda x: 2.5 % x, [B], lambda T, x: T.remainder(T.tensor(2.5,
                                                                              dtype=x.dtype), x),
     2),
    ("fmod", lambda x, y: np.fmod(x, y), [_pos(A * 3), B], lambda T, x, y: T.fmod(x, y), 2),
    ("degrees", lambda x: np.degrees(x) + np.rad2deg(x), [A],
     lambda T, x: T.rad2deg(x) * 2.0, 2),
    ("radians", lambda x: np.radians(x) + np.deg2rad(x), [A], lambda T, x: T.deg2rad(x) * 2.0,
     2),
    ("sinc", lambda x: np.sinc(x), [A], lambda T, x: T.sinc(x), 2),
    ("sinc_at_zero", lambda x: np.sinc(x), [Z], lambda T, x: T.sinc(x), 1),
    ("fmax", lambda x, y: np.fmax(x, y), [A, B], lambda T, x, y: T.fmax(x, y), 2),
    ("fmin", lambda x, y: np.fmin(x, y), [A, B], lambda T, x, y: T.fmin(x, y), 2),
    ("fmax_tie", lambda x: np.fmax(x, x * 1.0), [A], None, 2),
    ("logaddexp_tie", lambda x: np.logaddexp(x, x * 1.0), [A], None, 2),
    ("logaddexp2_tie", lambda x: np.logaddexp2(x * 1.0, x), [A], None, 2),
    ("logaddexp", lambda x, y: np.logaddexp(x, y), [A, B], lambda T, x, y: T.logaddexp(x, y), 2),
    ("arctan2_scalar", lambda x: np.arctan2(x[0, 0], 0.5) + np.arctan2(0.5, x[1, 1]), [A],
     lambda T, x: T.atan2(x[0, 0], T.tensor(0.5, dtype=x.dtype)) +
     T.atan2(T.tensor(0.5, dtype=x.dtype), x[1, 1]), 2),
    ("real_conj", lambda x: np.real(x) * np.conj(x) + np.conjugate(x), [A],
     lambda T, x: T.real(x) * T.conj(x) + x, 2),
    ("real_if_close", lambda x: np.real_if_close(x) * 2.0, [A], None, 2),
    ("imag_angle", lambda x: np.imag(x) + np.angle(x) + x, [A], lambda T, x: T.angle(x) + x, 2),
    ("flipud", lambda x: np.flipud(x) * B, [A], lambda T, x: T.flipud(x) * T.tensor(B), 2),
    ("fliplr", lambda x: np.fliplr(x) * B, [A], lambda T, x: T.fliplr(x) * T.tensor(B), 2),
    ("rot90", lambda x: np.rot90(x), [A], lambda T, x: T.rot90(x), 2),
    ("rot90_k2", lambda x: np.rot90(x, 2), [A], lambda T, x: T.rot90(x, 2), 2),
    ("rot90_k3_axes", lambda x: np.rot90(x, -1, axes=(2, 0)), [X3],
     lambda T, x: T.rot90(x, -1, (2, 0)), 2),
    ("vsplit", lambda x: np.vsplit(x, [1]), [A], lambda T, x: T.vsplit(x, [1]), 2),
    ("hsplit", lambda x: np.hsplit(x, 2), [A], lambda T, x: T.hsplit(x, 2), 2),
    ("hsplit_1d", lambda x: np.hsplit(x, [2, 3]), [V], lambda T, x: T.hsplit(x, [2, 3]), 2),
    ("dsplit", lambda x: np.dsplit(x, [1, 3]), [X3], lambda T, x: T.dsplit(x, [1, 3]), 2),
    ("rollaxis", lambda x: np.rollaxis(x, 2) * 1.5, [X3], lambda T, x: T.movedim(x, 2, 0) * 1.5,
     2),
    ("rollaxis_start", lambda x: np.rollaxis(x, 0, 3), [X3], lambda T, x: T.movedim(x, 0, 2),
     2),
    ("append_flat", lambda x, y: np.append(x, y), [A, V],
     lambda T, x, y: T.cat([x.reshape(-1), y]), 2),
    ("append_axis", lambda x, y: np.append(x, y, axis=1), [A, B],
     lambda T, x, y: T.cat([x, y], 1), 2),
    ("select", lambda x, y: np.select([A > 0.5, A < -0.5], [x, y * 2.0], default=-1.0), [A, B],
     lambda T, x, y: T.where(T.tensor(A > 0.5), x, T.where(T.tensor(A < -0.5), y * 2.0,
                                                            T.tensor(-1.0, dtype=x.dtype))), 2),
    ("partition", lambda x: np.partition(x, 2, axis=1) ** 2, [A], None, 2),
    ("gradient_1d", lambda x: np.gradient(x), [V], lambda T, x: T.gradient(x)[0], 2),
    ("gradient_2d_spacing", lambda x: np.gradient(x, 0.5), [A],
     lambda T, x: T.gradient(x, spacing=0.5), 2),
    ("gradient_axis_edge2", lambda x: np.gradient(x, 2.0, axis=1, edge_order=2), [A],
     lambda T, x: T.gradient(x, spacing=2.0, dim=1, edge_order=2)[0], 2),
    ("linspace", lambda x: np.linspace(x[0], x[1], 6) ** 2, [V], None, 2),
    ("linspace_arrays", lambda x, y: np.linspace(x, y, 4, endpoint=False, axis=1), [V, V[::-1]],
     None, 2),
    ("einsum_interleaved", lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [0, 2]), [A, B.T],
     lambda T, x, y: T.einsum(x, [0, 1], y, [1, 2], [0, 2]), 2),
    ("einsum_interleaved_implicit", lambda x, y: np.einsum(x, [Ellipsis, 1], y, [1]),
     [X3, V[:4]], lambda T, x, y: T.einsum(x, [Ellipsis, 1], y, [1]), 2),
    ("vstack_tensor", lambda x: np.vstack(x), [A], lambda T, x: T.vstack(list(x)), 2),
    ("hstack_tensor", lambda x: np.hstack(x), [A], lambda T, x: T.hstack(list(x)), 2),
    ("column_stack_tensor", lambda x: np.column_stack(x), [A],
     lambda T, x: T.column_stack(list(x)), 2),
    ("column_stack_1d_tensor", lambda x: np.column_stack(x), [V], None, 2),
    ("column_stack_mixed", lambda x, y: np.column_stack([x, y, x[:3]]), [V[:3], A[:, :2]],
     None, 2),
    ("dstack_tensor", lambda x: np.dstack(x), [X3], lambda T, x: T.dstack(list(x)), 2),
]


AN = A.copy()
AN[0, 1] = AN[2, 3] = np.nan  # the NaN-skipping reductions
X = np.array([-1.0, -0.2, 0.35, 1.1, 2.5])  # interp's knots
I3 = np.array([[1, -2, 0, 3], [2, 0, -1, 1], [0, 4, 2, -3]])  # ldexp's exponents
T6 = R.uniform(-1.0, 1.0, size=(2, 3, 6)) + 4.0 * np.eye(6).reshape(2, 3, 6)


CASES += [
    ("nansum", lambda x: np.nansum(x, axis=1), [AN], lambda T, x: T.nansum(x, 1), 2),
    ("nanmean", lambda x: np.nanmean(x), [AN], lambda T, x: T.nanmean(x), 2),
    ("nanmean_axis_keepdims", lambda x: np.nanmean(x, axis=0, keepdims=True), [AN],
     lambda T, x: T.nanmean(x, 0, keepdim=True), 2),
    ("nanvar_ddof", lambda x: np.nanvar(x, axis=1, ddof=1), [AN], None, 2),
    ("nanstd", lambda x: np.nanstd(x), [AN], None, 2),
    ("nanmax_nanmin", lambda x: np.nanmax(x, axis=1) + np.nanmin(x, axis=0).sum(), [AN],
     None, 2),
    ("nanprod", lambda x: np.nanprod(x, axis=0), [AN], None, 2),
    ("nancumsum_nancumprod", lambda x: np.nancumsum(x, axis=1) + np.nancumprod(x, axis=1),
     [AN], None, 2),
    ("quantile", lambda x: np.quantile(x, 0.3), [A], lambda T, x: T.quantile(x, 0.3), 2),
    ("quantile_axis_many", lambda x: np.quantile(x, [0.1, 0.75], axis=1, keepdims=True), [A],
     lambda T, x: T.quantile(x, T.tensor([0.1, 0.75], dtype=x.dtype), dim=1, keepdim=True), 2),
    ("percentile", lambda x: np.percentile(x, 40.0, axis=0), [A],
     lambda T, x: T.quantile(x, 0.4, dim=0), 2),
    ("cov", lambda x: np.cov(x), [A], lambda T, x: T.cov(x), 2),
    ("cov_cols_ddof0", lambda x, y: np.cov(x, y, rowvar=False, ddof=0), [A, B], None, 2),
    ("corrcoef", lambda x: np.corrcoef(x), [A], lambda T, x: T.corrcoef(x), 2),
    ("trapezoid", lambda x: np.trapezoid(x, dx=0.5), [A], lambda T, x: T.trapezoid(x, dx=0.5),
     2),
    ("trapezoid_x", lambda y, x: np.trapezoid(y, x, axis=0), [A, V[:3]],
     lambda T, y, x: T.trapezoid(y, x, dim=0), 2),
    ("cumulative_sum", lambda x: np.cumulative_sum(x, axis=1, include_initial=True), [A], None,
     2),
    ("float_power", lambda x: np.float_power(np.abs(x) + 0.5, 1.7), [A],
     lambda T, x: T.float_power(x.abs() + 0.5, 1.7), 2),
    ("cbrt", lambda x: np.cbrt(x), [A], None, 2),
    ("copysign", lambda x, y: np.copysign(x, y), [B, A],
     lambda T, x, y: T.copysign(x, y), 2),
    ("ldexp", lambda x: np.ldexp(x, I3), [A], lambda T, x: T.ldexp(x, T.tensor(I3, dtype=x.dtype)), 2),
    ("modf", lambda x: np.modf(x * 3.0), [A], None, 2),
    ("floor_divide_divmod", lambda x, y: np.floor_divide(x, y) + np.divmod(x, y)[1],
     [_pos(A * 3), B], None, 2),
    ("heaviside", lambda x: np.heaviside(x, 0.5) * x, [A], None, 2),
    ("matvec_vecmat_vecdot", lambda x, y: (np.matvec(x, y[0]) + np.vecdot(x, y),
                                           np.vecmat(y[:, 0], x)), [A, B],
     lambda T, x, y: (x @ y[0] + (x * y).sum(-1), y[:, 0] @ x), 2),
    ("logspace", lambda x: np.logspace(x[0], x[1], 4, base=2.0), [V], None, 2),
    ("polyval", lambda p, x: np.polyval(p, x), [V[:3], A], None, 2),
    ("polyval_list", lambda x: np.polyval([0.5, -1.0, 2.0], x), [A], None, 2),
    ("interp", lambda x, xp, fp: np.interp(x, xp, fp),
     [np.array([-1.5, -0.7, 0.1, 0.6, 1.05, 2.0, 3.0]), X, V], None, 2),
    ("interp_left_right", lambda x: np.interp(x, X, [1.0, 2.0, 0.5, -1.0, 3.0], left=-5.0,
                                              right=7.0), [A], None, 2),
    ("meshgrid", lambda x, y: np.meshgrid(x, y), [V, V3], lambda T, x, y: T.meshgrid(
        x, y, indexing="xy"), 2),
    ("meshgrid_ij_sparse", lambda x, y: [g * 2.0 for g in np.meshgrid(x, y, indexing="ij",
                                                                       sparse=True)],
     [V, V3], None, 2),
    ("convolve", lambda x, y: np.convolve(x, y), [V, V3], None, 2),
    ("convolve_same_valid", lambda x, y: (np.convolve(y, x, "same"), np.convolve(x, y, "valid")),
     [V, V3], None, 2),
    ("correlate", lambda x, y: (np.correlate(x, y), np.correlate(y, x, "full")), [V, V3], None,
     2),
    ("delete", lambda x: np.delete(x, [0, 2], axis=1), [A], None, 2),
    ("insert", lambda x, y: np.insert(x, [1, 3], y[:2]), [V, V3], None, 2),
    ("insert_axis", lambda x: np.insert(x, 1, [9.0, 8.0, 7.0], axis=1), [A], None, 2),
    ("linalg_array_api", lambda x, y: (np.linalg.matrix_transpose(x), np.linalg.vecdot(x, y),
                                       np.linalg.matmul(x, y.T), np.linalg.svdvals(x)),
     [A, B], lambda T, x, y: (x.mT, T.linalg.vecdot(x, y), T.linalg.matmul(x, y.T),
                              T.linalg.svdvals(x)), 2),
    ("linalg_norms", lambda x: (np.linalg.vector_norm(x, axis=(0, 2), keepdims=True, ord=3),
                                np.linalg.matrix_norm(x, ord=1)), [X3],
     lambda T, x: (T.linalg.vector_norm(x, 3, dim=(0, 2), keepdim=True),
                   T.linalg.matrix_norm(x, 1)), 2),
    ("linalg_outer_diagonal_trace", lambda x, v: (np.linalg.outer(v, v),
                                                 np.linalg.diagonal(x, offset=1),
                                                 np.linalg.trace(x)), [X3, V],
     lambda T, x, v: (T.outer(v, v), T.linalg.diagonal(x, offset=1),
                      T.diagonal(x, 0, -2, -1).sum(-1)), 2),
    ("linalg_cross_tensordot", lambda x, y: (np.linalg.cross(x, y),
                                             np.linalg.tensordot(x, y, axes=1)),
     [A[:, :3].copy(), B[:, :3].T.copy()],
     lambda T, x, y: (T.linalg.cross(x, y), T.tensordot(x, y, 1)), 2),
    ("tensorsolve", lambda a, b: np.linalg.tensorsolve(a, b), [T6, A[:2, :3].copy()],
     lambda T, a, b: T.linalg.tensorsolve(a, b), 2),
    ("tensorinv", lambda a: np.linalg.tensorinv(a, ind=1), [T6.reshape(6, 2, 3)],
     lambda T, a: T.linalg.tensorinv(a, ind=1), 2),
    ("dot_n_d", lambda x, y, v: (np.dot(x, y), np.dot(v, y), np.dot(x, y[0])),
     [X3, X3.transpose(1, 2, 0).copy(), X3[0, 0].copy()],
     lambda T, x, y, v: (T.tensordot(x, y, ([2], [1])), T.tensordot(v, y, ([0], [1])),
                         x @ y[0]), 2),
    ("astype_copy", lambda x: x.astype(np.float64) * x.astype(float, copy=False) - x.copy(),
     [A], None, 2),
    ("nanquantile", lambda x: (np.nanquantile(np.where(HOLES, np.nan, x), [0.2, 0.75], axis=1),
                               np.nanmedian(np.where(HOLES, np.nan, x)),
                               np.nanpercentile(np.where(HOLES, np.nan, x), 40, axis=0,
                                                keepdims=True)), [X3], None, 2),
    ("diagflat_vander", lambda x, v: (np.diagflat(x, -1), np.vander(v), np.vander(v, 3, True)),
     [A, V], lambda T, x, v: (T.diagflat(x, -1), T.linalg.vander(v).flip(-1),
                              T.linalg.vander(v, N=3)), 2),
    ("block", lambda a, b: (np.block([[a, b], [b, a]]), np.block([a[0], b[1]])), [A, B],
     lambda T, a, b: (T.cat([T.cat([a, b], 1), T.cat([b, a], 1)], 0), T.cat([a[0], b[1]])), 2),
    ("broadcast_ediff1d_geomspace", lambda x, v: (
        *np.broadcast_arrays(x, v[:4]), np.ediff1d(v, to_begin=[1.0], to_end=v[:2]),
        np.geomspace(np.abs(v[0]) + 1.0, np.abs(v[1]) + 2.0, 5)), [A, V], None, 2),
    ("array_api_2", lambda x: (*np.unstack(x, axis=1), np.matrix_transpose(x),
                               np.cumulative_prod(x, axis=0, include_initial=True)), [X3],
     None, 2),
    ("bincount_fix", lambda x: (np.bincount(np.array([2, 0, 2, 5]), weights=x[0], minlength=7),
                                np.fix(x) * x), [A], lambda T, x: (
        T.zeros(7, dtype=x.dtype).index_add(0, T.tensor([2, 0, 2, 5]), x[0]), T.trunc(x) * x), 2),
    ("compress_extract_trim", lambda x, v: (np.compress([True, False, True], x, axis=0),
                                            np.extract(np.asarray(A) > 0, x),
                                            np.trim_zeros(v * np.array([0, 1, 1, 0, 0.0]))),
     [A, V], None, 2),
]

HOLES = np.zeros(X3.shape, bool)
HOLES[0, 1, 2] = HOLES[1, :2, 3] = True  # NaN entries, never a whole slice (tested apart)


@pytest.mark.parametrize("name,f,arrays,tf,order", CASES, ids=[c[0] for c in CASES])
def test_numpy_function(name, f, arrays, tf, order):
    torch_fn = None
    if tf is not None:
        try:
            import torch

            def torch_fn(*ts):
                return tf(torch, *ts)
        except ImportError:
            pass
    check_op(f, arrays, ref=f, torch_fn=torch_fn, order=order)


def test_without_grad_the_values_are_numpys():
    for name, f, arrays, _, _ in CASES:
        r, ref = f(*[tg.tensor(a) for a in arrays]), f(*arrays)
        for g, w in zip(r if isinstance(r, (list, tuple)) else [r],
                        ref if isinstance(ref, (list, tuple)) else [ref]):
            assert not g.requires_grad, name
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-13, atol=1e-15, err_msg=name)


def test_fmax_fmin_skip_nans_and_the_gradient_goes_to_the_number():
    a = tg.tensor([np.nan, 1.0, np.nan], requires_grad=True)
    b = tg.tensor([2.0, np.nan, np.nan], requires_grad=True)
    for f in (np.fmax, np.fmin):
        a.grad = b.grad = None
        r = f(a, b)
        np.testing.assert_array_equal(r.detach().numpy(), f(a.detach().numpy(),
                                                            b.detach().numpy()))
        r[:2].sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), [0.0, 1.0, 0.0])
        np.testing.assert_array_equal(b.grad.numpy(), [1.0, 0.0, 0.0])


def test_remainder_takes_the_sign_of_the_divisor_and_matches_numpy_bits():
    x = tg.tensor([5.3, -5.3, 5.3, -5.3, 1e10], requires_grad=True)
    y = np.array([2.1, 2.1, -2.1, -2.1, 0.3])
    for f in (np.remainder, np.fmod):
        np.testing.assert_array_equal(f(x, y).detach().numpy(), f(x.detach().numpy(), y))


def test_result_dtypes_follow_numpy_weak_python_numbers():
    x = tg.tensor(np.array([5.3, -2.0, 0.7], dtype=np.float32), requires_grad=True)
    xv = x.detach().numpy()
    for f in (lambda a: np.remainder(a, 2.1), lambda a: np.remainder(a, np.float64(2.1)),
              lambda a: np.fmod(np.float64(7.0), a), lambda a: 7 % a,
              lambda a: np.fmax(a, np.float64(0.1)), lambda a: np.fmin(a, 0.1),
              lambda a: np.copysign(a, -1.0), lambda a: np.copysign(a, np.float64(-1.0))):
        r, want = f(x), f(xv)
        assert r.dtype == want.dtype and r.requires_grad
        np.testing.assert_allclose(r.detach().numpy(), want, rtol=1e-6)


def test_integer_remainder_has_no_gradient_and_numpys_values():
    i = tg.tensor(np.array([7, -7, 9]))
    r = i % 4
    assert r.dtype == np.int64 and not r.requires_grad
    np.testing.assert_array_equal(r.numpy(), np.array([7, -7, 9]) % 4)


def test_refusals():
    x = tg.tensor(A, requires_grad=True)
    with pytest.raises(ValueError, match="Input must be >= 2-d"):
        np.fliplr(tg.tensor(V))
    with pytest.raises(ValueError, match="Axes must be different"):
        np.rot90(x, axes=(1, 1))
    with pytest.raises(ValueError, match="vsplit only works on arrays of 2 or more dim"):
        np.vsplit(tg.tensor(V), 2)
    with pytest.raises(TypeError, match=r"numpy.gradient with coordinate arrays"):
        np.gradient(x, np.arange(3.0), np.arange(4.0))
    with pytest.raises(ValueError, match="list of cases must be same length"):
        np.select([A > 0], [x, x])


def test_astype_converts_like_numpy_and_passes_gradients_between_floats():
    x = tg.tensor([1.5, -2.25], requires_grad=True)
    y = x.astype("float32")
    assert y.dtype == np.float32 and x.astype(float, copy=False) is x
    assert x.astype(np.float64) is not x  # copy=True: a new tensor, as NumPy
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    i = x.detach().astype(np.int64)
    assert i.dtype == np.int64 and i.tolist() == [1, -2]


def test_nan_quantiles_match_numpy_on_all_nan_slices():
    a = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])
    x = tg.tensor(a, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="All-NaN slice"):
        got = np.nanmedian(x, axis=1)
    with pytest.warns(RuntimeWarning):
        np.testing.assert_array_equal(got.detach().numpy(), np.nanmedian(a, axis=1))
    got[0].backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


def test_position_and_test_functions_run_on_values_of_grad_tensors():
    x = tg.tensor([0.5, -1.0, 2.0, 0.0, np.inf], requires_grad=True)
    v = x.detach().numpy()
    for f in (lambda t: np.digitize(t, [-0.5, 0.5, 1.5]), lambda t: np.isin(t, [2.0, 0.0]),
              lambda t: np.flatnonzero(t), lambda t: np.argpartition(t, 1),
              lambda t: np.lexsort((t, -t)), lambda t: np.isposinf(t)):
        got, want = f(x), f(v)
        assert not got.requires_grad
        np.testing.assert_array_equal(got.numpy(), want)


ZC = np.array([[1 + 1j, np.nan, 3 + 2j], [2 - 1j, 0.5j, complex(0.0, np.nan)]])


@pytest.mark.parametrize("f", [np.nansum, np.nanmean, np.nanprod, np.nanvar, np.nanstd,
                               np.nancumsum, np.nancumprod],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("axis", [None, 1])
def test_nan_functions_keep_complex_values(f, axis):
    # (these were cut to their real parts: np.nansum of [1+1j, nan, 3+2j] gave 4.0)
    got = f(tg.tensor(ZC), axis=axis)
    np.testing.assert_allclose(got.numpy(), f(ZC, axis=axis), rtol=1e-12)


def test_complex_nansum_gradient_is_sum_gradient():
    z0 = ZC[0, [0, 2]]
    z = tg.tensor(z0, requires_grad=True)
    w = tg.tensor(z0, requires_grad=True)
    (np.abs(np.nansum(z)) ** 2).backward()
    (w.sum().abs() ** 2).backward()
    np.testing.assert_allclose(z.grad.numpy(), w.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(z.grad.numpy(), 2 * z0.sum() * np.ones(2), rtol=1e-12)


@pytest.mark.parametrize("f", [np.nanmax, np.nanmin, np.nanmedian], ids=lambda f: f.__name__)
def test_complex_input_without_a_complex_rule_is_numpys_or_refused(f):
    a = np.array([1 + 1j, 2.0, 3 + 2j, 0.5j])
    np.testing.assert_allclose(np.asarray(f(tg.tensor(a)).numpy()), f(a))  # NumPy's values
    with pytest.raises(TypeError, match="does not implement"):  # never its real part
        f(tg.tensor(a, requires_grad=True))


def test_complex_quantile_is_refused_as_numpy_refuses_it():
    a = np.array([1 + 1j, 2.0, 3 + 2j])
    with pytest.raises(TypeError, match="real numbers"):
        np.quantile(a, 0.3)
    with pytest.raises(TypeError, match="real numbers"):
        np.quantile(tg.tensor(a), 0.3)


@pytest.mark.parametrize("f, df", [(np.sinh, np.cosh), (np.cosh, np.sinh)], ids=["sinh", "cosh"])
def test_hyperbolic_ufuncs_are_numpys_values_at_tiny_and_large_arguments(f, df):
    # (sinh was (exp(x) - exp(-x)) / 2: 0.0 at 1e-300, a relative error of 8e-8 at 1e-10)
    v = np.array([1e-300, -1e-10, 1e-5, 0.3, -5.0, 700.0])
    x = tg.tensor(v, requires_grad=True)
    y = f(x)
    np.testing.assert_array_equal(y.detach().numpy(), f(v))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), df(v))


def test_vecdot_and_vecmat_conjugate_their_first_operand_as_numpys():
    from tests.complex_checks import check_complex

    rng = np.random.default_rng(3)
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    w = rng.standard_normal(4) + 1j * rng.standard_normal(4)
    m = rng.standard_normal((4, 2)) + 1j * rng.standard_normal((4, 2))
    for f, a, b in ((np.vecdot, z, w), (np.linalg.vecdot, z, w), (np.vecmat, w, m),
                    (np.vecdot, z.real.astype(np.float32), np.arange(4))):
        got = f(tg.tensor(a), tg.tensor(b)).numpy()
        assert got.dtype == f(a, b).dtype
        np.testing.assert_allclose(got, f(a, b), rtol=1e-6)
    np.testing.assert_allclose(np.vecdot(tg.tensor(z), tg.tensor(w)).numpy(),
                               [np.vdot(r, w) for r in z], rtol=1e-12)
    # np.linalg.vecdot's axis is each operand's (NumPy's), before broadcasting
    x, y = rng.standard_normal((2, 3)), rng.standard_normal(2)
    np.testing.assert_allclose(np.linalg.vecdot(tg.tensor(x), tg.tensor(y), axis=0).numpy(),
                               y @ x, rtol=1e-12)
    # gradients: finite differences and PyTorch's linalg.vecdot (conj of the first operand)
    check_complex(lambda L, a, b: np.vecdot(a, b) if L is tg else L.linalg.vecdot(a, b),
                  [z, w], ref=lambda a, b: np.vecdot(a, b))
    check_complex(lambda L, a, b: np.vecmat(a, b) if L is tg else (a.conj() @ b),
                  [w, m], ref=lambda a, b: np.vecmat(a, b))


@pytest.mark.parametrize("f", [np.hypot, np.logaddexp, np.logaddexp2, np.copysign,
                               lambda z, w: np.fabs(z)],
                         ids=["hypot", "logaddexp", "logaddexp2", "copysign", "fabs"])
def test_real_only_ufuncs_refuse_complex_input_as_numpy(f):
    z = np.array([1 + 2j, 0.5 - 1j])
    with pytest.raises(TypeError, match="not supported for the input types"):
        f(z, 1.0)
    with pytest.raises(TypeError, match="not supported for the input types"):  # NumPy's error
        f(tg.tensor(z), 1.0)
    with pytest.raises(TypeError, match="with complex input"):  # (a value was made up before)
        f(tg.tensor(z, requires_grad=True), 1.0)
    with pytest.raises(TypeError, match="not supported for the input types"):
        f([1j, 2.0], tg.tensor([1.0, 2.0]))  # (a list of complex numbers: hypot gave 0j)
    x = np.array([-1.5, 2.0, 0.25])
    got = f(tg.tensor(x), 1.0)
    np.testing.assert_allclose(got.numpy(), f(x, 1.0), rtol=1e-15)
    assert got.dtype == f(x, 1.0).dtype


def test_fabs_of_integers_is_float64_as_numpys():
    got = np.fabs(tg.tensor([-3, 2]))
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got.numpy(), [3.0, 2.0])


def test_torch_logaddexp_keeps_complex_input():
    z = np.array([1 + 2j, 0.5 - 1j])
    got = tg.logaddexp(tg.tensor(z), tg.tensor(z[::-1].copy())).numpy()
    np.testing.assert_allclose(got, np.log(np.exp(z) + np.exp(z[::-1])), rtol=1e-12)


def test_nan_to_num_replaces_in_both_parts_of_complex_values():
    z = np.array([complex(np.nan, 1.0), complex(1.0, np.nan), complex(np.inf, -np.inf), 2 - 3j])
    for kw in ({}, dict(nan=5.0, posinf=7.0, neginf=-7.0)):
        for dt in (np.complex64, np.complex128):
            got = np.nan_to_num(tg.tensor(z.astype(dt)), **kw).numpy()
            assert got.dtype == dt
            np.testing.assert_array_equal(got, np.nan_to_num(z.astype(dt), **kw))
    x = tg.tensor(z, requires_grad=True)
    (np.abs(np.nan_to_num(x)) ** 2).sum().backward()  # a replaced part has no gradient
    np.testing.assert_allclose(x.grad.numpy(), [2j, 2.0, 0.0, 4 - 6j], rtol=1e-15, atol=0)


@pytest.mark.parametrize("join", [np.concatenate, np.stack, np.vstack, np.hstack, np.block,
                                  lambda xs: np.append(xs[0], xs[1])],
                         ids=["concatenate", "stack", "vstack", "hstack", "block", "append"])
def test_joining_arrays_promotes_as_numpy(join):
    i, f32 = np.arange(3), np.array([0.5, 1.5, 2.5], np.float32)
    for a, b in ((tg.tensor(i), f32), (i, tg.tensor(f32)), (tg.tensor(f32), tg.tensor(i)),
                 (tg.tensor(f32), i.astype(np.int32)), (tg.tensor(i > 0), tg.tensor(i))):
        want = join([np.asarray(a), np.asarray(b)])  # int64 beside float32: float64 in NumPy
        got = join([a, b])
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)
    x = tg.tensor([0.5, 1.5, 2.5], dtype=tg.float32, requires_grad=True)
    y = join([x, i])
    assert y.dtype == np.float64
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 3.0, 5.0])
    assert x.grad.dtype == np.float32


def test_torch_named_joins_keep_pytorchs_promotion():
    a, b = tg.tensor([1, 2]), tg.tensor([0.5, 1.5], dtype=tg.float32)
    for join in (tg.cat, tg.stack, tg.hstack, tg.vstack, tg.dstack, tg.column_stack):
        assert join([a, b]).dtype == np.float32  # (NumPy's np.hstack: float64)
    assert np.hstack([a, b]).dtype == np.float64
    np.testing.assert_array_equal(np.append(b, [1.0, 2.0]).numpy(), [0.5, 1.5, 1.0, 2.0])
    assert np.append(b, [1.0, 2.0]).dtype == np.float64  # (a list is a float64 array to NumPy)


@pytest.mark.parametrize("f", [np.nansum, np.nanprod, np.nanmax, np.nanmin, np.nancumsum,
                               np.nancumprod], ids=lambda f: f.__name__)
def test_nan_functions_of_integers_and_bools_keep_numpys_dtype(f):
    ints = np.array([[3, -1, 2], [0, 4, -2]])
    for a in (ints, ints.astype(np.int32), ints > 0):
        for axis in (None, 0, 1):
            want = f(a, axis=axis)  # (no NaN in them: the plain function's dtype, not float64)
            got = f(tg.tensor(a), axis=axis)
            assert got.dtype == want.dtype, (a.dtype, axis)
            np.testing.assert_array_equal(got.numpy(), want)


def test_diff_of_bools_is_not_equal_as_numpys_and_pytorchs():
    m = np.array([[True, False, False, True], [False, False, True, True]])
    for kw in ({}, dict(axis=0), dict(n=2), dict(prepend=False), dict(append=True, n=3)):
        got, want = np.diff(tg.tensor(m), **kw), np.diff(m, **kw)  # (was: bool subtraction)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)
    np.testing.assert_array_equal(tg.diff(tg.tensor(m[0])).numpy(), [True, False, True])


def test_integer_matrix_products_stay_integers():
    a = np.array([[1, 2], [3, 4]])
    for dt in (np.int64, np.int32):
        for n in (0, 1, 3):
            for got in (np.linalg.matrix_power(tg.tensor(a.astype(dt)), n),
                        tg.linalg.matrix_power(tg.tensor(a.astype(dt)), n)):  # (PyTorch's too)
                assert got.dtype == dt
                np.testing.assert_array_equal(got.numpy(), np.linalg.matrix_power(a, n))
        got = np.linalg.multi_dot([tg.tensor(a.astype(dt))] * 3)
        assert got.dtype == dt
        np.testing.assert_array_equal(got.numpy(), np.linalg.multi_dot([a] * 3))
        got = np.vecdot(tg.tensor(a.astype(dt)), tg.tensor(a.astype(dt)))
        assert got.dtype == dt
        np.testing.assert_array_equal(got.numpy(), [5, 25])
    np.testing.assert_array_equal(np.linalg.matrix_power(tg.tensor(a), -1).numpy(),
                                  np.linalg.inv(a))  # (a negative power inverts, in float64)
    with pytest.raises(RuntimeError, match="Expected a floating point"):
        tg.linalg.matrix_power(tg.tensor(a), -1)  # PyTorch refuses the integer inverse
    m = np.array([[True, False], [False, False]])
    assert np.vecdot(tg.tensor(m), tg.tensor(m)).dtype == np.bool_


def test_linspace_computes_in_numpys_dtype_of_its_ends():
    f32 = np.array([0.25, 1.0], np.float32)
    for a, b, kw in ((f32[0], f32[1], {}), (f32[0], 2.0, {}), (f32[0], 3, {}),
                     (f32[0], np.array(2.0), {}), (np.array(0.1), np.array(1.0),
                                                   dict(dtype=np.float32)),
                     (np.array(1), np.array(4), {}), (np.array(0.0), 0.1, dict(num=4)),
                     (f32, f32[::-1].copy(), dict(axis=1))):
        want = np.linspace(a, b, **({"num": 5} | kw))  # float32 ends stay float32 in NumPy
        got = np.linspace(tg.tensor(a), b, **({"num": 5} | kw))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)
    x = tg.tensor([0.25, 1.0], dtype=tg.float32, requires_grad=True)
    np.linspace(x[0], x[1], 5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.5, 2.5])


def test_vecdot_of_an_array_and_a_tensor_takes_numpys_result_dtype():
    i, f = np.array([[1, 2], [3, 4]]), np.array([[0.5, 1.5], [2.5, -1.0]], np.float32)
    for a, b in ((i, tg.tensor(f)), (tg.tensor(f), i), (i.astype(np.int32), tg.tensor(f)),
                 (i > 2, tg.tensor(f))):
        want = np.vecdot(np.asarray(a), np.asarray(b))
        got = np.vecdot(a, b)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("f", [lambda a, b: np.where(np.array([True, False]), a, b),
                               lambda a, b: np.clip(a, b, 10), lambda a, b: np.clip(b, None, a),
                               np.kron, np.vdot],
                         ids=["where", "clip_lo", "clip_hi", "kron", "vdot"])
def test_multi_operand_functions_promote_as_numpy(f):
    i, f32 = np.array([1, 2]), np.array([0.5, 1.5], np.float32)
    for a, b in ((tg.tensor(i), f32), (i, tg.tensor(f32)), (tg.tensor(f32), tg.tensor(i)),
                 (tg.tensor(f32), i.astype(np.int32)), (tg.tensor(f32), np.array([1.0, 2.0]))):
        want = f(np.asarray(a), np.asarray(b))  # int64 beside float32: float64 in NumPy
        got = f(a, b)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)
    for weak in (0.25, np.float64(0.25), 3):  # numbers (NumPy's scalars too) stay weak
        assert f(tg.tensor(f32), weak).dtype == np.float32


def test_torch_named_kron_keeps_pytorchs_promotion():
    a, b = tg.tensor([1, 2]), tg.tensor([0.5, 1.5], dtype=tg.float32)
    assert tg.kron(a, b).dtype == np.float32 and np.kron(a, b).dtype == np.float64


@pytest.mark.parametrize("f", [np.remainder, np.fmod], ids=lambda f: f.__name__)
def test_remainder_by_bools_and_small_ints_keeps_float32_as_numpy(f):
    x = tg.tensor([0.5, 1.5], dtype=tg.float32, requires_grad=True)
    for d in (np.array([True, True]), np.array([2, 3], np.int8)):
        got = f(x, d)
        assert got.dtype == f(np.array([0.5, 1.5], np.float32), d).dtype == np.float32
    got.sum().backward()
    assert x.grad.dtype == np.float32


def test_vdot_of_complex_tensors_conjugates_the_first():
    from tests.complex_checks import check_complex

    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    b = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    np.testing.assert_allclose(np.vdot(tg.tensor(a), b).numpy(), np.vdot(a, b), rtol=1e-12)
    np.testing.assert_allclose(np.vdot(tg.tensor(a.real), b).numpy(), np.vdot(a.real, b),
                               rtol=1e-12)  # (was refused: "with complex input")
    check_complex(lambda L, x, y: np.vdot(x, y) if L is tg else L.vdot(x.ravel(), y.ravel()),
                  [a, b], ref=np.vdot)
    check_complex(lambda L, x, y: L.vdot(x, y), [a[0], b[0]])  # (tg.vdot: the same handler)


_UNDER_VMAP = {
    "add.reduce": lambda sp, x: np.add.reduce(x, axis=0, keepdims=True),
    "multiply.accumulate": lambda sp, x: np.multiply.accumulate(x),
    "logaddexp.reduce": lambda sp, x: np.logaddexp.reduce(x),
    "subtract.outer": lambda sp, x: np.subtract.outer(x, x),
    "gammaln": lambda sp, x: sp.gammaln(x ** 2 + 1),
    "xlogy": lambda sp, x: sp.xlogy(x, x ** 2 + 1),
}


@pytest.mark.parametrize("name", list(_UNDER_VMAP))
def test_ufunc_methods_and_scipy_ufuncs_under_vmap(name):
    sp = pytest.importorskip("scipy.special")

    def f(r):
        return _UNDER_VMAP[name](sp, r)

    x = np.random.default_rng(5).standard_normal((4, 3))
    # (they raised "operand type(s) all returned NotImplemented" on batched tensors)
    got = tg.func.vmap(f)(tg.tensor(x)).numpy()
    np.testing.assert_allclose(got, np.stack([f(r) for r in x]), rtol=1e-12)

    def loss(r):
        return np.sum(f(r) ** 2)

    per_example = tg.func.vmap(tg.func.grad(loss))(tg.tensor(x)).numpy()
    for r, g in zip(x, per_example):
        t = tg.tensor(r, requires_grad=True)
        np.testing.assert_allclose(g, tg.autograd.grad(loss(t), t)[0].numpy(), rtol=1e-12)


def test_cov_and_average_result_dtypes_are_numpys():
    rng = np.random.default_rng(6)
    f32 = rng.standard_normal((3, 4)).astype(np.float32)
    for f in (lambda a: np.cov(a), lambda a: np.corrcoef(a), lambda a: np.cov(a, a[::-1] * 2),
              lambda a: np.cov(a, dtype=np.float32), lambda a: np.average(a, 1, [1, 2, 3, 4]),
              lambda a: np.average(a, 1, np.ones(4, np.float32))):
        want = f(f32)  # cov: float64 at least; average: float32 beside int64 weights is float64
        got = f(tg.tensor(f32))
        assert got.dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5)
    x = tg.tensor(f32, requires_grad=True)
    np.cov(x).sum().backward()
    assert x.grad.dtype == np.float32


def test_torch_named_cov_keeps_float32():
    x = tg.tensor(np.random.default_rng(6).standard_normal((3, 4)), dtype=tg.float32)
    assert tg.cov(x).dtype == tg.corrcoef(x).dtype == np.float32  # (PyTorch's; np.cov: f8)


@pytest.mark.parametrize("f,a,b", [(np.matvec, (3,), (3,)), (np.vecmat, (3,), (3,)),
                                   (np.matvec, (2, 3), (4,)), (np.vecdot, (3,), (4,)),
                                   (np.vecmat, (3,), (4, 2)), (np.vecdot, (), (3,))],
                         ids=["matvec_1d", "vecmat_1d", "matvec_size", "vecdot_size",
                              "vecmat_size", "vecdot_0d"])
def test_gufunc_core_dimensions_are_checked_as_numpy(f, a, b):
    with pytest.raises(ValueError) as want:
        f(np.ones(a), np.ones(b))
    for rg in (False, True):  # (matvec of two vectors gave a number)
        with pytest.raises(ValueError) as got:
            f(tg.tensor(np.ones(a), requires_grad=rg), tg.tensor(np.ones(b)))
        assert str(got.value) == str(want.value)


def test_quantile_levels_that_require_grad_get_their_gradient():
    x0 = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0])
    for f in (lambda x, q: np.quantile(x, q), lambda x, q: np.percentile(x, q * 100),
              lambda x, q: np.nanquantile(x, q), lambda x, q: tg.quantile(x, q),
              lambda x, q: np.quantile(x.reshape(7, 1), q, axis=0, keepdims=True)):
        for q0 in (np.array(0.37), np.array([0.2, 0.9])):  # (q's gradient was dropped)
            check_op(f, [x0, q0], order=1)
    torch = pytest.importorskip("torch")
    X = np.array([[3.0, np.nan, 4.0], [1.0, 2.0, 3.0]])
    for f, tf in ((tg.quantile, torch.quantile), (tg.nanquantile, torch.nanquantile)):
        q, qt = tg.tensor([0.37, 0.8], requires_grad=True), torch.tensor([0.37, 0.8],
                                                                          dtype=torch.float64,
                                                                          requires_grad=True)
        f(tg.tensor(X), q, dim=1).sum().backward()
        tf(torch.tensor(X), qt, dim=1).sum().backward()
        np.testing.assert_allclose(q.grad.numpy(), qt.grad.numpy(), rtol=1e-12)
    q, x = tg.tensor(0.37, requires_grad=True), tg.tensor(x0, requires_grad=True)
    tg.quantile(x, q, interpolation="lower").backward()
    assert q.grad is None  # (PyTorch's: no gradient for the piecewise-constant methods)


@pytest.mark.parametrize("obj,values,axis", [
    (2, [5.0, 6.0], None), ([1, 3], [5.0, 6.0], None), ([1, 1], [5.0, 6.0], None),
    (1, [5.0, 6.0, 7.0], 0), (1, 5.0, 1), ([1], [[5.0], [6.0]], 1), (1, [[5.0], [6.0]], 1),
    (slice(0, 2), 9.0, 1), (-1, [1.0, 2.0], 1), ([0, 6], [8.0, 9.0], None)],
    ids=lambda v: repr(v))
def test_insert_places_values_as_numpy(obj, values, axis):
    x0 = np.arange(6.0).reshape(2, 3)
    v0 = np.asarray(values, dtype=np.float64)
    # (np.insert(t, 2, [5.0, 6.0]) raised "The expanded size of the tensor (1) must match")
    check_op(lambda x, v: np.insert(x, obj, v, axis=axis), [x0, v0],
             ref=lambda x, v: np.insert(x, obj, v, axis=axis), order=1)


def test_heaviside_values_get_their_gradient_where_the_input_is_zero():
    x0 = np.array([[0.0, 1.0, -1.0], [0.0, 0.0, -2.0]])
    x = tg.tensor(x0)
    for h0 in (np.array(0.3), np.array([0.3, 0.5, 0.7])):
        # (it was zero: the value at 0 is h itself)
        check_op(lambda h: np.heaviside(x, h), [h0], ref=lambda h: np.heaviside(x0, h))
    x = tg.tensor([[0.0, 1.0, -1.0], [0.0, 0.0, np.nan]])
    np.testing.assert_array_equal(np.heaviside(x, tg.tensor(0.3, requires_grad=True))
                                  .detach().numpy(), np.heaviside(x.numpy(), 0.3))
    h = tg.tensor([0.3, 0.5, 0.7], requires_grad=True)
    np.heaviside(x, h).sum().backward()  # (tg.heaviside's backward raises, as PyTorch's)
    np.testing.assert_array_equal(h.grad.numpy(), [2.0, 1.0, 0.0])


def test_gradient_by_a_spacing_that_requires_grad():
    y0 = np.random.default_rng(8).standard_normal(6)
    # (float() of the spacing dropped its gradient, with PyTorch's conversion warning only)
    check_op(lambda y, h: np.gradient(y, h), [y0, np.array(0.3)], ref=np.gradient, order=1)
    check_op(lambda y, h: np.gradient(y, h, edge_order=2), [y0, np.array(0.3)],
             ref=lambda y, h: np.gradient(y, h, edge_order=2), order=1)
    check_op(lambda y, h, k: np.gradient(y.reshape(2, 3), h, k)[1], [y0, np.array(0.3),
                                                                     np.array(0.7)], order=1)
