"""PyTorch's everyday tensor functions under their torch names (tapegrad/torch_names/).

Each differentiable entry runs ``check_op``: first-order finite differences, the compiled sweep
against re-taping, second order (gradgradcheck) and, when torch is importable, values and
gradients against torch. ``f(lib, *xs)`` is written once and called with ``lib`` = tapegrad or
torch. Index-valued functions are compared with torch on values and must carry no history.
"""

import warnings
import zlib

import numpy as np
import pytest

import tapegrad as tg
from op_checks import check_op, lib_fns

R = np.random.default_rng(0)


def _n(*shape):
    return R.standard_normal(shape)


def _pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def _unit(*shape):
    return R.uniform(0.1, 0.9, shape)


def _off_int(*shape):
    """Away from integers and half-integers (rounding functions have a jump there)."""
    return np.floor(R.uniform(-4, 4, shape)) + R.uniform(0.1, 0.4, shape)


def _spd(n):
    a = R.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


# name, f(lib, *xs), inputs (NumPy arrays get requires_grad), derivative order to check
DIFF = [
    # elementwise: rounding (zero gradient), powers and logs, clamps
    ("floor", lambda M, x: M.floor(x), [_off_int(2, 3)], 2),
    ("ceil", lambda M, x: x.ceil(), [_off_int(3)], 2),
    ("trunc", lambda M, x: M.trunc(x), [_off_int(4)], 2),
    ("round", lambda M, x: M.round(x), [_off_int(2, 2)], 2),
    ("round_decimals", lambda M, x: M.round(x * 10, decimals=1), [_off_int(3)], 2),
    ("frac", lambda M, x: x.frac() * x, [_off_int(2, 3)], 2),
    ("sgn", lambda M, x: M.sgn(x) * x, [_n(3)], 2),
    ("reciprocal", lambda M, x: M.reciprocal(x), [_pos(2, 3)], 2),
    ("log2", lambda M, x: M.log2(x), [_pos(3)], 2),
    ("log10", lambda M, x: x.log10(), [_pos(2, 2)], 2),
    ("exp2", lambda M, x: M.exp2(x), [_n(3)], 2),
    ("deg2rad", lambda M, x: M.deg2rad(x), [_n(3)], 2),
    ("rad2deg", lambda M, x: x.rad2deg(), [_n(2)], 2),
    ("sinc", lambda M, x: M.sinc(x), [_n(4)], 2),
    ("logit", lambda M, x: M.logit(x), [_unit(3)], 2),
    ("logit_eps", lambda M, x: M.logit(x, eps=0.2), [np.array([0.1, 0.5, 0.7, 0.95])], 2),
    ("float_power", lambda M, x, y: M.float_power(x, y), [_pos(3), _n(3)], 2),
    ("clip", lambda M, x: M.clip(x, -0.5, 0.5), [_n(2, 3)], 2),
    ("clip_min", lambda M, x: x.clip(min=0.1), [_n(4)], 2),
    ("clamp_min", lambda M, x: M.clamp_min(x, 0.2), [_n(4)], 2),
    ("clamp_max", lambda M, x: x.clamp_max(-0.1), [_n(4)], 2),
    ("hypot", lambda M, x, y: M.hypot(x, y), [_pos(2, 3), _pos(3)], 2),
    ("logaddexp", lambda M, x, y: M.logaddexp(x, y), [_n(2, 3), _n(2, 1)], 2),
    ("logaddexp2", lambda M, x, y: x.logaddexp2(y), [_n(3), _n(3)], 2),
    ("copysign", lambda M, x, y: M.copysign(x, y), [_pos(3), _n(3)], 2),
    ("fmax", lambda M, x, y: M.fmax(x, y), [_n(3), _n(3)], 2),
    ("fmin", lambda M, x, y: M.fmin(x, y), [_n(2, 3), _n(3)], 2),
    ("fmod", lambda M, x, y: M.fmod(x, y), [_n(4) * 3, _pos(4)], 2),
    ("remainder", lambda M, x, y: x.remainder(y), [_n(4) * 3, -_pos(4)], 2),
    ("remainder_scalar", lambda M, x: M.remainder(x, 0.7), [_n(5)], 2),
    ("multiply", lambda M, x, y: M.multiply(x, y), [_n(2, 3), _n(3)], 2),
    ("divide", lambda M, x, y: M.divide(x, y), [_n(3), _pos(3)], 2),
    ("true_divide", lambda M, x, y: x.true_divide(y), [_n(3), _pos(3)], 2),
    ("subtract_alpha", lambda M, x, y: M.subtract(x, y, alpha=2.5), [_n(3), _n(2, 3)], 2),
    ("absolute", lambda M, x: M.absolute(x), [_pos(3)], 2),
    ("negative", lambda M, x: x.negative(), [_n(3)], 2),
    ("arccos", lambda M, x: M.arccos(x), [_unit(3)], 2),
    ("arcsinh", lambda M, x: x.arcsinh(), [_n(3)], 2),
    ("arctan2", lambda M, x, y: M.arctan2(x, y), [_n(3), _pos(3)], 2),
    ("lerp", lambda M, x, y: M.lerp(x, y, 0.3), [_n(3), _n(2, 3)], 2),
    ("lerp_tensor_weight", lambda M, x, y, w: x.lerp(y, w), [_n(3), _n(3), _unit(3)], 2),
    ("addcmul", lambda M, x, a, b: M.addcmul(x, a, b, value=0.5), [_n(3), _n(3), _n(2, 3)], 2),
    ("addcdiv", lambda M, x, a, b: x.addcdiv(a, b, value=2), [_n(3), _n(3), _pos(3)], 2),
    ("lgamma", lambda M, x: M.lgamma(x), [_pos(4) * 2], 2),
    ("digamma", lambda M, x: M.digamma(x), [_pos(4)], 2),
    ("polygamma", lambda M, x: M.polygamma(1, x), [_pos(3)], 2),
    ("erfinv", lambda M, x: M.erfinv(x), [_unit(4) - 0.5], 2),
    # reductions and scans
    ("nansum", lambda M, x: M.nansum(x, 1, keepdim=True), [_n(2, 3)], 2),
    ("nansum_all", lambda M, x: x.nansum(), [_n(2, 3)], 2),
    ("nanmean", lambda M, x: M.nanmean(x, dim=0), [_n(3, 2)], 2),
    ("var_mean", lambda M, x: M.var_mean(x, 1), [_n(2, 4)], 2),
    ("std_mean", lambda M, x: M.std_mean(x, dim=0, keepdim=True, correction=0), [_n(3, 2)], 2),
    ("aminmax", lambda M, x: M.aminmax(x, dim=-1), [_n(2, 3)], 2),
    ("aminmax_all", lambda M, x: x.aminmax(), [_n(2, 3)], 2),
    ("cumprod", lambda M, x: M.cumprod(x, 1), [_n(2, 4)], 2),
    ("cumprod_0d", lambda M, x: M.cumprod(x, 0), [np.array(1.5)], 2),
    ("cummax", lambda M, x: M.cummax(x, 0)[0], [_n(5, 2)], 2),
    ("cummin", lambda M, x: x.cummin(-1).values, [_n(2, 5)], 2),
    ("msort", lambda M, x: M.msort(x), [_n(4, 2)], 2),
    ("nanmedian", lambda M, x: M.nanmedian(x), [_n(2, 3)], 2),
    ("nanmedian_dim", lambda M, x: M.nanmedian(x, 1)[0], [_n(3, 4)], 2),
    ("quantile", lambda M, x: M.quantile(x, 0.3), [_n(7)], 2),
    ("quantile_dim", lambda M, x: M.quantile(x, M.tensor([0.25, 0.5, 0.9], dtype=M.float64),
                                             dim=1, keepdim=True), [_n(2, 5)], 2),
    ("nanquantile", lambda M, x: M.nanquantile(x, 0.6, dim=0), [_n(5, 2)], 2),
    # shapes
    ("atleast_2d", lambda M, x, y: M.atleast_2d(x, y)[0] * M.atleast_2d(x, y)[1].sum(),
     [np.array(0.7), _n(3)], 2),
    ("atleast_3d", lambda M, x: M.atleast_3d(x), [_n(2, 3)], 2),
    ("broadcast_tensors", lambda M, x, y: M.broadcast_tensors(x, y), [_n(3, 1), _n(4)], 2),
    ("movedim", lambda M, x: M.movedim(x, (0, 1), (2, 0)), [_n(2, 3, 4)], 2),
    ("moveaxis", lambda M, x: x.moveaxis(0, -1), [_n(2, 3, 4)], 2),
    ("swapaxes", lambda M, x: M.swapaxes(x, 0, 2), [_n(2, 3, 4)], 2),
    ("narrow", lambda M, x: M.narrow(x, 1, 1, 2), [_n(2, 4)], 2),
    ("narrow_negative_start", lambda M, x: x.narrow(0, -3, 2), [_n(4, 2)], 2),
    ("select", lambda M, x: M.select(x, 1, -1), [_n(2, 3)], 2),
    ("unflatten", lambda M, x: M.unflatten(x, 1, (2, -1)), [_n(3, 6)], 2),
    ("ravel", lambda M, x: M.ravel(x), [_n(2, 3)], 2),
    ("t", lambda M, x: M.t(x), [_n(2, 3)], 2),
    ("clone", lambda M, x: M.clone(x), [_n(2)], 2),
    ("hstack", lambda M, x, y: M.hstack([x, y]), [_n(2, 3), _n(2, 1)], 2),
    ("vstack", lambda M, x, y: M.vstack((x, y)), [_n(3), _n(2, 3)], 2),
    ("dstack", lambda M, x, y: M.dstack([x, y]), [_n(2, 3), _n(2, 3)], 2),
    ("column_stack", lambda M, x, y: M.column_stack([x, y]), [_n(3), _n(3, 2)], 2),
    ("tensor_split", lambda M, x: M.tensor_split(x, 3, dim=1), [_n(2, 7)], 2),
    ("tensor_split_idx", lambda M, x: x.tensor_split([1, 4]), [_n(6)], 2),
    ("hsplit", lambda M, x: M.hsplit(x, 2), [_n(3, 4)], 2),
    ("vsplit", lambda M, x: x.vsplit([1]), [_n(3, 4)], 2),
    ("dsplit", lambda M, x: M.dsplit(x, 2), [_n(2, 2, 4)], 2),
    ("flipud", lambda M, x: M.flipud(x), [_n(3, 2)], 2),
    ("fliplr", lambda M, x: x.fliplr(), [_n(3, 2)], 2),
    ("rot90", lambda M, x: M.rot90(x, 1, [0, 1]), [_n(2, 3)], 2),
    ("rot90_k3", lambda M, x: x.rot90(3, [1, 2]), [_n(2, 3, 4)], 2),
    ("roll", lambda M, x: M.roll(x, 1, 0), [_n(3, 2)], 2),
    ("roll_dims", lambda M, x: M.roll(x, (2, -1), (1, 0)), [_n(3, 4)], 2),
    ("roll_flat", lambda M, x: x.roll(2), [_n(2, 3)], 2),
    ("tile", lambda M, x: M.tile(x, (2, 1, 2)), [_n(2, 3)], 2),
    ("tile_method", lambda M, x: x.tile(2, 2), [_n(3)], 2),
    ("take", lambda M, x: M.take(x, M.tensor([[0, 5], [3, -1]])), [_n(2, 3)], 2),
    ("masked_select", lambda M, x: M.masked_select(x, M.tensor([True, False, True])),
     [_n(2, 3)], 2),
    ("index_fill", lambda M, x: M.index_fill(x, 1, M.tensor([0, 2]), -1.5), [_n(2, 3)], 2),
    ("index_fill_tensor", lambda M, x, v: x.index_fill(0, M.tensor([1]), v),
     [_n(3, 2), np.array(0.3)], 2),
    ("index_copy", lambda M, x, s: M.index_copy(x, 0, M.tensor([2, 0]), s),
     [_n(3, 2), _n(2, 2)], 2),
    ("meshgrid", lambda M, x, y: M.meshgrid(x, y, indexing="ij"), [_n(3), _n(2)], 2),
    ("meshgrid_xy", lambda M, x, y: M.meshgrid(x, y, indexing="xy"), [_n(3), _n(2)], 2),
    ("cartesian_prod", lambda M, x, y: M.cartesian_prod(x, y), [_n(3), _n(2)], 2),
    ("combinations", lambda M, x: M.combinations(x, 2), [_n(4)], 2),
    ("combinations_repl", lambda M, x: M.combinations(x, 2, with_replacement=True),
     [_n(3)], 2),
    ("view_as_real", lambda M, x, y: M.view_as_real(M.complex(x, y)), [_n(3), _n(3)], 2),
    ("view_as_complex", lambda M, x: M.view_as_complex(x).abs(), [_n(3, 2)], 2),
    ("polar", lambda M, a, th: M.view_as_real(M.polar(a, th)), [_pos(3), _n(3)], 2),
    # products, triangles, diagonals, linear algebra
    ("tensordot", lambda M, a, b: M.tensordot(a, b, dims=1), [_n(2, 3), _n(3, 2)], 2),
    ("tensordot_lists", lambda M, a, b: M.tensordot(a, b, dims=([1, 0], [0, 2])),
     [_n(2, 3, 2), _n(3, 2, 2)], 2),
    ("tensordot_0", lambda M, a, b: M.tensordot(a, b, 0), [_n(2), _n(3)], 2),
    ("inner", lambda M, a, b: M.inner(a, b), [_n(2, 3), _n(4, 3)], 2),
    ("inner_0d", lambda M, a, b: M.inner(a, b), [np.array(1.3), _n(3)], 2),
    ("vdot", lambda M, a, b: M.vdot(a, b), [_n(4), _n(4)], 2),
    ("kron", lambda M, a, b: M.kron(a, b), [_n(2, 3), _n(2, 2)], 2),
    ("kron_ranks", lambda M, a, b: a.kron(b), [_n(2), _n(2, 3)], 2),
    ("cross", lambda M, a, b: M.cross(a, b, dim=1), [_n(2, 3), _n(2, 3)], 2),
    ("cross_broadcast", lambda M, a, b: M.cross(a, b, dim=-1), [_n(2, 3), _n(1, 3)], 2),
    ("addmm", lambda M, c, a, b: M.addmm(c, a, b, beta=0.5, alpha=2.0),
     [_n(2, 2), _n(2, 3), _n(3, 2)], 2),
    ("addmv", lambda M, c, a, b: M.addmv(c, a, b), [_n(2), _n(2, 3), _n(3)], 2),
    ("addr", lambda M, c, a, b: M.addr(c, a, b, alpha=3), [_n(2, 3), _n(2), _n(3)], 2),
    ("baddbmm", lambda M, c, a, b: M.baddbmm(c, a, b, beta=2), [_n(2, 2, 2), _n(2, 2, 3),
                                                                 _n(2, 3, 2)], 2),
    ("addbmm", lambda M, c, a, b: c.addbmm(a, b), [_n(2, 2), _n(3, 2, 3), _n(3, 3, 2)], 2),
    ("chain_matmul", lambda M, a, b, c: M.chain_matmul(a, b, c), [_n(2, 3), _n(3, 4),
                                                                  _n(4, 2)], 2),
    ("dist", lambda M, a, b: M.dist(a, b), [_n(2, 3), _n(3)], 2),
    ("dist_p1", lambda M, a, b: M.dist(a, b, p=3), [_n(4), _n(4)], 2),
    ("cdist", lambda M, a, b: M.cdist(a, b), [_n(3, 2), _n(4, 2)], 2),
    ("cdist_p1_batched", lambda M, a, b: M.cdist(a, b, p=1.0), [_n(2, 3, 2), _n(2, 2, 2)], 2),
    ("tril", lambda M, x: M.tril(x), [_n(3, 3)], 2),
    ("triu_diag", lambda M, x: x.triu(1), [_n(2, 3, 4)], 2),
    ("tril_neg", lambda M, x: M.tril(x, diagonal=-1), [_n(4, 3)], 2),
    ("diag_vec", lambda M, x: M.diag(x, 1), [_n(3)], 2),
    ("diag_mat", lambda M, x: M.diag(x, -1), [_n(3, 4)], 2),
    ("diagflat", lambda M, x: M.diagflat(x, -1), [_n(2, 2)], 2),
    ("diag_embed", lambda M, x: M.diag_embed(x), [_n(2, 3)], 2),
    ("diag_embed_offset_dims", lambda M, x: M.diag_embed(x, 1, 0, 2), [_n(2, 3)], 2),
    # torch's vander has no backward (an in-place cumprod inside): compare its values only
    ("vander", lambda M, x: M.vander(x if M is tg else x.detach(), 4), [_n(3)], 2),
    ("vander_increasing", lambda M, x: M.vander(x if M is tg else x.detach(), increasing=True),
     [_n(3)], 2),
    ("renorm", lambda M, x: M.renorm(x, 2, 0, 1.0), [_n(3, 4)], 2),
    ("det", lambda M, a: M.det(a), [_n(3, 3)], 2),
    ("det_batched", lambda M, a: a.det(), [_n(2, 2, 2)], 2),
    ("inverse", lambda M, a: M.inverse(a), [_spd(3)], 2),
    ("slogdet", lambda M, a: M.slogdet(a)[1], [_n(3, 3)], 2),
    ("logdet", lambda M, a: M.logdet(a), [_spd(3)], 2),
    ("svd", lambda M, a: [M.abs(o) for o in M.svd(a)], [_n(3, 2)], 2),
    ("svd_values", lambda M, a: M.svd(a, compute_uv=False)[1], [_n(2, 3)], 2),
    ("pinverse", lambda M, a: M.pinverse(a), [_n(3, 2)], 2),
    ("matrix_power", lambda M, a: M.matrix_power(a, 3), [_n(2, 2)], 2),
    # symmetrised: cholesky reads one triangle, finite differences perturb both
    ("cholesky", lambda M, a: M.cholesky(a + a.mT), [_spd(3)], 2),
    ("cholesky_upper", lambda M, a: (a + a.mT).cholesky(upper=True), [_spd(2)], 2),
    ("matrix_exp", lambda M, a: M.matrix_exp(a), [_n(3, 3)], 2),
    ("matrix_exp_big", lambda M, a: a.matrix_exp(), [_n(2, 2, 2) * 3], 2),
    # differences, integrals, statistics
    ("diff", lambda M, x: M.diff(x), [_n(2, 5)], 2),
    ("diff_n2_dim0", lambda M, x, p: M.diff(x, 2, 0, prepend=p), [_n(4, 2), _n(1, 2)], 2),
    ("gradient", lambda M, x: M.gradient(x), [_n(4, 3)], 2),
    ("gradient_spacing", lambda M, x: M.gradient(x, spacing=[0.5], dim=1, edge_order=2),
     [_n(2, 5)], 2),
    ("trapezoid", lambda M, y: M.trapezoid(y), [_n(2, 5)], 2),
    ("trapezoid_x", lambda M, y, x: M.trapezoid(y, x, dim=0), [_n(4, 2), _n(4)], 2),
    ("trapz_dx", lambda M, y: M.trapz(y, dx=0.5), [_n(5)], 2),
    ("cumulative_trapezoid", lambda M, y: M.cumulative_trapezoid(y, dim=0), [_n(4, 2)], 2),
    ("cumulative_trapezoid_x", lambda M, y, x: M.cumulative_trapezoid(y, x), [_n(2, 4), _n(4)],
     2),
    ("cov", lambda M, x: M.cov(x), [_n(3, 5)], 2),
    ("cov_1d_correction0", lambda M, x: M.cov(x, correction=0), [_n(5)], 2),
    ("corrcoef", lambda M, x: M.corrcoef(x), [_n(2, 6)], 2),
]


@pytest.mark.filterwarnings("ignore:torch.(chain_matmul|cholesky) is deprecated")
@pytest.mark.parametrize("name,f,arrays,order", DIFF, ids=[c[0] for c in DIFF])
def test_differentiable(name, f, arrays, order):
    fn, torch_fn = lib_fns(f)
    check_op(fn, [np.array(a) for a in arrays], torch_fn=torch_fn, order=order,
             seed=zlib.crc32(name.encode()))


def test_zero_d_and_integer_inputs():
    """0-d inputs keep their shape; integers take the default float dtype where torch makes a
    float, and keep their dtype for rounding."""
    x = tg.tensor(2.5, requires_grad=True)
    for f in (tg.floor, tg.frac, tg.log2, tg.sinc, tg.reciprocal, tg.deg2rad):
        assert f(x).shape == ()
    i = tg.tensor([1, 8])
    assert tg.log2(i).dtype == tg.get_default_dtype() and tg.log2(i).tolist() == [0.0, 3.0]
    assert tg.floor(i).dtype == np.int64 and tg.round(i).tolist() == [1, 8]
    assert tg.reciprocal(i).tolist() == [1.0, 0.125]
    assert tg.log10(tg.tensor(1000.0)).item() == 3.0  # correctly rounded, not 2.9999999999999996
    assert np.log10(tg.tensor([1000.0])).item() == 3.0 and np.log2(tg.tensor(8)).item() == 3.0
    y = tg.floor(x)
    y.backward()
    assert x.grad.item() == 0.0  # piecewise constant: a zero gradient, as torch


# ---- functions without a gradient: values against torch, and no history ----------------------

def _ints(*shape):
    return R.integers(0, 5, shape)


NONDIFF = [
    ("signbit", lambda M, x: M.signbit(x), [np.array([-0.0, 0.0, -1.5, 2.0])]),
    ("logical_xor", lambda M, x, y: M.logical_xor(x, y), [_n(3) > 0, _n(2, 3) > 0]),
    ("all", lambda M, x: M.all(x), [_n(2, 3) > -1]),
    ("all_dim", lambda M, x: M.all(x, 1, keepdim=True), [_n(2, 3) > -0.5]),
    ("any_dim", lambda M, x: x.any(dim=0), [_n(2, 3) > 0.5]),
    ("count_nonzero", lambda M, x: M.count_nonzero(x, dim=1), [_ints(3, 4)]),
    ("count_nonzero_all", lambda M, x: M.count_nonzero(x), [_ints(3, 4)]),
    ("nonzero", lambda M, x: M.nonzero(x), [_ints(3, 4)]),
    ("nonzero_tuple", lambda M, x: M.nonzero(x, as_tuple=True), [_ints(3, 4)]),
    ("argwhere", lambda M, x: M.argwhere(x), [_ints(2, 3)]),
    ("unique", lambda M, x: M.unique(x, return_inverse=True, return_counts=True),
     [_ints(3, 4)]),
    ("unique_dim", lambda M, x: M.unique(x, dim=0, return_inverse=True),
     [np.array([[1, 2], [0, 1], [1, 2]])]),
    ("unique_consecutive", lambda M, x: M.unique_consecutive(x, return_inverse=True,
                                                             return_counts=True),
     [np.array([1, 1, 2, 2, 3, 1, 1, 2])]),
    ("unique_consecutive_dim", lambda M, x: M.unique_consecutive(x, dim=0),
     [np.array([[1, 2], [1, 2], [0, 2]])]),
    ("bincount", lambda M, x: M.bincount(x, minlength=7), [_ints(9)]),
    ("bincount_weights", lambda M, x, w: M.bincount(x, w), [_ints(6), _n(6)]),
    ("bucketize", lambda M, x, b: M.bucketize(x, b), [np.array([0.5, 1.0, 2.5, 9.0]),
                                                      np.array([1.0, 2.0, 3.0])]),
    ("bucketize_right", lambda M, x, b: M.bucketize(x, b, right=True),
     [np.array([1.0, 2.0, 2.5]), np.array([1.0, 2.0, 3.0])]),
    ("searchsorted", lambda M, s, v: M.searchsorted(s, v), [np.sort(_n(2, 5), -1), _n(2, 3)]),
    ("searchsorted_side", lambda M, s, v: M.searchsorted(s, v, side="right"),
     [np.array([1.0, 2.0, 2.0, 3.0]), np.array([2.0, 0.0])]),
    ("isin", lambda M, x, y: M.isin(x, y), [_ints(3, 3), np.array([1, 3])]),
    ("isin_invert", lambda M, x, y: M.isin(x, y, invert=True), [_ints(4), np.array([0])]),
    ("floor_divide", lambda M, x, y: M.floor_divide(x, y), [_n(4) * 5, np.array(1.5)]),
    ("divide_trunc", lambda M, x, y: M.divide(x, y, rounding_mode="trunc"),
     [np.array([-7, 7, 5]), np.array([2, -2, 5])]),
    ("divide_floor", lambda M, x, y: M.divide(x, y, rounding_mode="floor"),
     [np.array([-7.0, 7.0]), np.array([2.0, -2.0])]),
    ("heaviside", lambda M, x, v: M.heaviside(x, v), [np.array([-1.0, 0.0, 2.0]),
                                                      np.array([0.5])]),
    ("unravel_index", lambda M, i: M.unravel_index(i, (3, 4)), [np.array([0, 5, 11])]),
    ("tril_indices", lambda M: M.tril_indices(3, 4, 1), []),
    ("triu_indices", lambda M: M.triu_indices(4, 3, -1), []),
    ("logspace", lambda M: M.logspace(-1, 2, 5, dtype=M.float64), []),
    ("logspace_base2", lambda M: M.logspace(0, 3, 4, base=2.0, dtype=M.float64), []),
    ("cummax_indices", lambda M, x: M.cummax(x, 0).indices, [np.array([1.0, 3.0, 2.0, 3.0])]),
    ("cummin_indices", lambda M, x: M.cummin(x, 0)[1], [np.array([2.0, 1.0, 1.0, 5.0])]),
    ("nanmedian_nan", lambda M, x: M.nanmedian(x, 0), [np.array([[1.0, np.nan], [np.nan,
                                                                                np.nan],
                                                                 [3.0, 2.0]])]),
    ("nanquantile_nan", lambda M, x: M.nanquantile(x, 0.5, dim=1),
     [np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]])]),
    ("quantile_nan", lambda M, x: M.quantile(x, 0.5, dim=1),
     [np.array([[1.0, np.nan, 3.0], [0.0, 1.0, 4.0]])]),
    ("nansum_nan", lambda M, x: M.nansum(x, 0), [np.array([[1.0, np.nan], [2.0, 3.0]])]),
    ("nanmean_nan", lambda M, x: M.nanmean(x, 1), [np.array([[1.0, np.nan], [2.0, 3.0]])]),
    ("logdet_negative", lambda M, a: M.logdet(a), [np.array([[0.0, 1.0], [1.0, 0.0]])]),
    ("corrcoef_clip", lambda M, x: M.corrcoef(x), [np.array([[1.0, 2.0, 3.0],
                                                             [2.0, 4.0, 6.0]])]),
    ("cumprod_int32", lambda M, x: M.cumprod(x, 0), [np.array([1, 2, 3], np.int32)]),
    ("heaviside_int", lambda M, x, v: M.heaviside(x, v), [np.array([-1, 0, 2]), np.array([5])]),
    ("svd_no_uv", lambda M, a: M.svd(a, compute_uv=False), [_n(3, 2)]),
    ("int_to_float", lambda M, x: [M.log2(x), M.exp2(x), M.deg2rad(x), M.reciprocal(x),
                                   M.sinc(x), M.float_power(x, 2), M.trapezoid(x)],
     [np.array([1, 2, 4])]),
    ("int_kept", lambda M, x: [M.floor(x), M.round(x), M.remainder(x, 3), M.fmod(x, 3),
                               M.kron(x, x), M.vander(x), M.tile(x, (2,)), M.nansum(x)],
     [np.array([-7, 2, 4])]),
    ("zero_d", lambda M, x: [M.aminmax(x), M.roll(x, 1), M.msort(x[None]), M.take(x, M.tensor(0)),
                             M.nanmedian(x), M.quantile(x, 1), M.cumprod(x, 0)],
     [np.array(2.5)]),
]


def _leaves(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _leaves(x)]
    return [out]


@pytest.mark.parametrize("name,f,arrays", NONDIFF, ids=[c[0] for c in NONDIFF])
def test_values(name, f, arrays):
    xs = [tg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = _leaves(f(tg, *xs))
    if name not in ("floor_divide", "divide_floor", "heaviside", "svd_no_uv", "int_to_float",
                    "zero_d", "nansum_nan", "nanmean_nan",
                    "logdet_negative", "corrcoef_clip", "nanmedian_nan", "nanquantile_nan",
                    "quantile_nan") and not name.startswith("cum"):
        assert not any(o.requires_grad for o in out), name  # index-valued: no history
    torch = pytest.importorskip("torch")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # tapegrad's default float dtype
    try:
        t_out = _leaves(f(torch, *[torch.tensor(a) for a in arrays]))
    finally:
        torch.set_default_dtype(default)
    assert len(out) == len(t_out)
    for o, t in zip(out, t_out):
        t = t.detach().numpy()
        assert o.shape == t.shape, name
        assert o.dtype == t.dtype, name
        np.testing.assert_allclose(o.detach().numpy(), t, rtol=1e-12, atol=1e-12)


def test_randperm_is_a_seeded_permutation():
    tg.manual_seed(3)
    p = tg.randperm(10)
    tg.manual_seed(3)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(10))
    assert tg.randperm(10).tolist() == p.tolist()
    assert not p.requires_grad and tg.equal(p, p) and not tg.equal(p, p[:3])


# ---- PyTorch's error messages for bad arguments ------------------------------------------------

ERRORS = [
    (lambda M, x: M.roll(x, (1, 2), 0), (3, 2)),
    (lambda M, x: M.narrow(x, 0, 2, 3), (4,)),
    (lambda M, x: M.select(x, 0, 5), (3,)),
    (lambda M, x: M.tril(x), (3,)),
    (lambda M, x: M.diag(x), (2, 2, 2)),
    (lambda M, x: M.unflatten(x, 0, (4, 2)), (6,)),
    (lambda M, x: M.hsplit(x, 3), (2, 4)),
    (lambda M, x: M.movedim(x, (0, 1), (0,)), (2, 3)),
    (lambda M, x: M.rot90(x, 1, (0, 0)), (2, 2)),
    (lambda M, x: M.quantile(x, 1.5), (3,)),
    (lambda M, x: M.cross(x, x[:, :2], dim=1), (2, 3)),
    (lambda M, x: M.cdist(x, x[:, :1]), (2, 3)),
    (lambda M, x: M.diff(x), ()),
    (lambda M, x: M.vdot(x, x), (2, 2)),
    (lambda M, x: M.meshgrid(x, indexing="yx"), (3,)),
    (lambda M, x: M.frac(x.long()), (3,)),
    (lambda M, x: M.nanmean(x.long()), (3,)),
    (lambda M, x: M.tensor_split(x, 0), (3,)),
    (lambda M, x: M.take(x, M.tensor([7])), (2, 3)),
    (lambda M, x: M.index_fill(x, 0, M.tensor([0]), M.ones(2)), (2,)),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_bad_arguments_raise_torchs_error(k):
    f, shape = ERRORS[k]
    with pytest.raises((RuntimeError, IndexError, ValueError, NotImplementedError)) as ours:
        f(tg, tg.tensor(R.standard_normal(shape)))
    torch = pytest.importorskip("torch")
    with pytest.raises(type(ours.value)) as theirs:
        f(torch, torch.tensor(R.standard_normal(shape)))
    first = str(theirs.value).splitlines()[0]
    assert str(ours.value).splitlines()[0] == first


# ---- Tensor methods -------------------------------------------------------------------------------

def test_every_method_name_is_a_torch_tensor_method():
    from tapegrad.torch_names import methods

    torch = pytest.importorskip("torch")
    names = tuple(methods.METHOD_NAMES) + tuple(n + "_" for n in methods.INPLACE_NAMES) + (
        "tile", "new_zeros", "new_ones", "new_full", "new_empty", "new_tensor", "expand_as",
        "type_as", "view_as", "reshape_as", "where", "ndimension", "is_floating_point", "H",
        "mH", "adjoint", "itemsize", "nbytes", "greater", "less_equal", "not_equal")
    assert [n for n in names if not hasattr(torch.Tensor, n)] == []
    assert [n for n in names if not hasattr(tg.Tensor, n)] == []


def test_tensor_only_methods_match_torch(torch):
    a = R.standard_normal((2, 3))
    x, t = tg.tensor(a), torch.tensor(a)
    for f in (lambda x: x.new_zeros(2, 2), lambda x: x.new_ones((3,)),
              lambda x: x.new_full((2,), 7.0), lambda x: x.new_tensor([1, 2]),
              lambda x: x.expand_as(x[None].repeat(2, 1, 1)), lambda x: x.view_as(x.T),
              lambda x: x.reshape_as(x.T), lambda x: x.type_as(x.long()), lambda x: x.H,
              lambda x: x.mH, lambda x: x.where(x > 0, -1.0), lambda x: x.floor_(),
              lambda x: x.clamp_min_(0.2), lambda x: x.lerp_(x * 2, 0.5)):
        ours, theirs = f(x.clone()), f(t.clone())
        assert ours.dtype == theirs.numpy().dtype
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-15)
    assert (x.ndimension(), x.itemsize, x.nbytes, x.is_floating_point()) == \
        (t.ndimension(), t.itemsize, t.nbytes, t.is_floating_point())


def test_narrow_and_select_are_views():
    x = tg.arange(6.0).reshape(2, 3)
    n, s = tg.narrow(x, 1, 1, 2), x.select(0, 1)
    x.mul_(10.0)
    assert n.tolist() == [[10.0, 20.0], [40.0, 50.0]] and s.tolist() == [30.0, 40.0, 50.0]


def test_inplace_methods_record_the_gradient():
    x = tg.tensor([0.3, 1.7, 2.2], requires_grad=True)
    y = x * 1.0
    y.clamp_max_(2.0).mul_(3.0)
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 0.0]


# ---- vmap ------------------------------------------------------------------------------------

def test_vmap_runs_the_new_functions():
    x = tg.tensor(R.standard_normal((4, 3)), requires_grad=True)
    a = x.detach().numpy()

    def check(f, expect):
        np.testing.assert_allclose(tg.vmap(f)(x).detach().numpy(), expect, rtol=1e-12)

    check(tg.floor, np.floor(a))
    check(lambda v: tg.hypot(v, 2.0), np.hypot(a, 2.0))
    check(lambda v: tg.nansum(v, 0), a.sum(1))
    check(lambda v: v.cumprod(0), np.cumprod(a, 1))
    check(lambda v: v.logaddexp(v * 2), np.logaddexp(a, 2 * a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # roll has a batching rule: no per-example loop
        check(lambda v: tg.roll(v, 1, 0), np.roll(a, 1, 1))
    g = tg.vmap(tg.grad(lambda v: tg.log2(v * v + 1.0).sum()))(x)
    np.testing.assert_allclose(g.detach().numpy(), 2 * a / ((a * a + 1) * np.log(2)), rtol=1e-12)


def test_numpy_quantiles_share_the_implementation():
    """np.quantile / np.nanquantile on tensors run the same order-statistics code as
    tg.quantile / tg.nanquantile: NumPy's values (NaN slices too) and a finite-difference
    gradient."""
    a = R.standard_normal((3, 4, 5))
    a[0, 1, :] = np.nan
    a[1, 2, 3] = np.nan
    x = tg.tensor(a)
    expect = np.nanquantile(a, [0.1, 0.9], axis=(0, 2), keepdims=True)
    np.testing.assert_allclose(np.nanquantile(x, [0.1, 0.9], axis=(0, 2), keepdims=True).numpy(),
                               expect, rtol=1e-13)
    np.testing.assert_allclose(np.quantile(x, 0.3, axis=2).numpy(), np.quantile(a, 0.3, axis=2),
                               rtol=1e-13)
    b = tg.tensor(np.where(np.isnan(a), 0.5, a)[1], requires_grad=True)
    assert tg.autograd.gradcheck(lambda t: np.nanquantile(t, [0.2, 0.7], axis=1), (b,))


def test_compile_traces_through_the_compositions():
    """tg.compile records the ops a torch-named composition makes (no eager fallback)."""
    import warnings

    def f(x, w):
        y = tg.roll(x, 1, 0) + tg.hypot(x, w) + tg.lerp(x, w, 0.3) + x.roll(2) * w
        return (tg.tensordot(y, w, 1) + tg.kron(x, w).sum() + tg.cumprod(y, 0).sum()
                + tg.nansum(x * w, 0) + tg.take(x, tg.tensor([0, 2])).sum())
    # (nansum and take sit behind the CUDA host round trip's wrapper, whose code many ops
    # share: the tracer follows the call into them)

    step = tg.compile(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an eager fallback warns
        for seed in range(3):
            rng = np.random.default_rng(seed)
            x = tg.tensor(rng.standard_normal(4), requires_grad=True)
            w = tg.tensor(rng.standard_normal(4))
            out = step(x, w)
            out.backward()
            g = x.grad.numpy().copy()
            x.grad = None
            f(x, w).backward()
            np.testing.assert_allclose(out.item(), f(x, w).item(), rtol=1e-13)
            np.testing.assert_allclose(g, x.grad.numpy(), rtol=1e-13)


@pytest.mark.parametrize("name,args", [
    ("masked_fill_", lambda T, h: (h < 0, 0.5)), ("square_", lambda T, h: ()),
    ("scatter_add_", lambda T, h: (0, T.tensor([0, 0, 3]), T.tensor([1.0, 2.0, 3.0]))),
    ("atan_", lambda T, h: ()), ("erf_", lambda T, h: ()), ("sinh_", lambda T, h: ()),
    ("nan_to_num_", lambda T, h: ()), ("xlogy_", lambda T, h: (T.tensor(2.0),))])
def test_inplace_forms_of_library_ops(name, args):
    """``h.name_(...)`` writes the op's result into h; the gradient is the op's."""
    w0 = np.array([0.3, -0.7, 1.1, 0.25, -0.05])

    def run(T):
        w = T.tensor(w0, requires_grad=True)
        h = w * 0.5 if name != "xlogy_" else w.abs() + 0.1
        out = getattr(h, name)(*args(T, h))
        assert out is h
        (h * h).sum().backward()
        return h.detach().numpy(), w.grad.numpy()

    got = run(tg)
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    try:
        want = run(torch)
    finally:
        torch.set_default_dtype(torch.float32)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-13, atol=1e-15)


def test_random_fills_in_place():
    """``uniform_``/``normal_``/``bernoulli_``/``exponential_`` initialise parameters under
    no_grad, give what they overwrite a zero gradient, and refuse a leaf that requires grad."""
    tg.manual_seed(0)
    p = tg.empty(2000)
    with tg.no_grad():
        assert p.uniform_(-0.5, 0.5) is p
        assert -0.5 <= p.min().item() and p.max().item() < 0.5
        assert abs(p.normal_(1.0, 0.1).mean().item() - 1.0) < 0.01
        assert set(np.unique(p.bernoulli_(0.3).numpy())) <= {0.0, 1.0}
        assert p.exponential_(2.0).min().item() >= 0.0
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    h.uniform_()
    (h * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), h.detach().numpy())  # none through h's past
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        tg.zeros(2, requires_grad=True).normal_()
