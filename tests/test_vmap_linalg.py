"""vmap of the linear-algebra functions: batching rules (no per-example loop, no warning) that
give each example's result, with gradients through them."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

rng = np.random.default_rng(7)
A = rng.standard_normal((4, 3, 3)) + 3 * np.eye(3)
SPD = A @ np.swapaxes(A, -1, -2)
B = rng.standard_normal((4, 3, 2))
b = rng.standard_normal((4, 3))


def _per_example(f, xs, in_dims):
    outs = [f(*[x if d is None else x[i] for x, d in zip(xs, in_dims)]) for i in range(4)]
    outs = [o if isinstance(o, tuple) else (o,) for o in outs]
    return [np.stack([o[k].numpy() for o in outs]) for k in range(len(outs[0]))]


CASES = [
    ("inv", tg.linalg.inv, (A,)), ("det", tg.linalg.det, (A,)),
    ("slogdet", lambda a: tuple(tg.linalg.slogdet(a)), (A,)),
    ("eigh", lambda a: tg.linalg.eigh(a)[0], (SPD,)), ("eigvalsh", tg.linalg.eigvalsh, (SPD,)),
    ("svdvals", tg.linalg.svdvals, (A,)), ("qr_r_abs", lambda a: tg.linalg.qr(a)[1].abs(), (A,)),
    ("cholesky", tg.linalg.cholesky, (SPD,)), ("pinv", tg.linalg.pinv, (A,)),
    ("matrix_power", lambda a: tg.linalg.matrix_power(a, 3), (A,)),
    ("matrix_exp", lambda a: tg.linalg.matrix_exp(a * 0.3), (A,)),
    ("cond", tg.linalg.cond, (A,)), ("torch_det", tg.det, (A,)), ("logdet", tg.logdet, (SPD,)),
    ("inverse_method", lambda a: a.inverse(), (A,)),
    ("solve", tg.linalg.solve, (A, B)), ("solve_vector", tg.linalg.solve, (A, b)),
    ("solve_right", lambda a, c: tg.linalg.solve(a, c, left=False),
     (A, np.swapaxes(B, -1, -2).copy())),
    ("solve_triangular", lambda a, c: tg.linalg.solve_triangular(a, c, upper=True), (A, B)),
    ("solve_triangular_right", lambda a, c: tg.linalg.solve_triangular(
        a, c, upper=False, left=False, unitriangular=True), (A, np.swapaxes(B, -1, -2).copy())),
    ("lu", lambda a: tuple(tg.linalg.lu(a)), (A,)),
    ("lu_factor", lambda a: tuple(tg.linalg.lu_factor(a)), (A,)),
    ("lu_factor_ex", lambda a: tuple(tg.linalg.lu_factor_ex(a)), (A,)),
    ("torch_lu", lambda a: tuple(tg.lu(a)), (A,)),
    ("matmul", tg.linalg.matmul, (A, B)),
]


@pytest.mark.parametrize("name,f,arrays", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_each_example_without_a_loop(name, f, arrays):
    xs = [tg.tensor(a) for a in arrays]
    dims_cases = [(0,) * len(xs)]
    if len(xs) == 2:  # one operand shared by every example
        dims_cases += [(0, None), (None, 0)]
    for dims in dims_cases:
        args = [x if d == 0 else x[0] for x, d in zip(xs, dims)]
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the per-example fallback warns
            out = tg.vmap(f, in_dims=dims)(*args)
        out = out if isinstance(out, tuple) else (out,)
        for got, want in zip(out, _per_example(f, args, dims)):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_vector_right_hand_side_broadcast_against_a_batch_of_matrices():
    """Per example A is (2, 3, 3) and b a vector (3,): PyTorch's vector rule, per example."""
    As = tg.tensor(np.stack([A[:2] + k for k in range(4)]))
    out = tg.vmap(tg.linalg.solve)(As, tg.tensor(b))
    for i in range(4):
        np.testing.assert_allclose(out[i].numpy(), np.linalg.solve(As[i].numpy(), b[i]),
                                   rtol=1e-12)


def test_gradients_through_vmapped_linalg():
    x = tg.tensor(A, requires_grad=True)
    g, = tg.autograd.grad(tg.vmap(tg.linalg.det)(x).sum(), x)
    want = np.linalg.det(A)[:, None, None] * np.swapaxes(np.linalg.inv(A), -1, -2)
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-10)
    per = tg.vmap(tg.func.grad(lambda a, c: tg.linalg.solve(a, c).sum()))(tg.tensor(A),
                                                                          tg.tensor(B))
    np.testing.assert_allclose(per.numpy(), [
        tg.func.grad(lambda a: tg.linalg.solve(a, tg.tensor(B[i])).sum())(tg.tensor(A[i]))
        .numpy() for i in range(4)], rtol=1e-10)
    per = tg.vmap(tg.func.grad(lambda a: tg.linalg.lu(a)[2].sum()))(tg.tensor(A))
    np.testing.assert_allclose(per.numpy(), [
        tg.func.grad(lambda a: tg.linalg.lu(a)[2].sum())(tg.tensor(A[i])).numpy()
        for i in range(4)], rtol=1e-10)


def test_nested_vmap_and_per_example_errors():
    nested = tg.vmap(tg.vmap(tg.linalg.det))(tg.tensor(np.stack([A, A * 2], 1)))
    np.testing.assert_allclose(nested.numpy(), np.linalg.det(np.stack([A, A * 2], 1)),
                               rtol=1e-12)
    with pytest.warns(UserWarning, match="batching rule for linalg.inv"), \
            pytest.raises(RuntimeError, match="at least 2 dimensions"):
        tg.vmap(tg.linalg.inv)(tg.tensor(b))  # a vector per example: the function's error


def test_lu_solve_and_lu_unpack_batch_without_a_loop():
    LU, piv = tg.linalg.lu_factor(tg.tensor(A))
    Bs = tg.tensor(B)
    LU3, piv3 = tg.linalg.lu_factor(tg.tensor(np.stack([A[:2] + k for k in range(4)])))
    B3 = tg.tensor(rng.standard_normal((4, 2, 3, 2)))
    cases = [
        (tg.linalg.lu_solve, (LU, piv, Bs), (0, 0, 0)),
        (tg.linalg.lu_solve, (LU, piv, Bs[0]), (0, 0, None)),
        (tg.linalg.lu_solve, (LU[0], piv[0], Bs), (None, None, 0)),
        (tg.linalg.lu_solve, (LU3, piv3, Bs), (0, 0, 0)),  # a batch of factors per example
        (tg.linalg.lu_solve, (LU, piv, B3), (0, 0, 0)),  # a batch of right sides per example
        (lambda L, p, c: tg.linalg.lu_solve(L, p, c.mT, left=False, adjoint=True),
         (LU, piv, Bs), (0, 0, 0)),
        (lambda L, p, c: tg.lu_solve(c, L, p), (LU, piv, Bs), (0, 0, 0)),
        (lambda L, p: tuple(tg.lu_unpack(L, p)), (LU3, piv3), (0, 0)),
    ]
    for f, args, dims in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the per-example fallback warns
            out = tg.vmap(f, in_dims=dims)(*args)
        out = out if isinstance(out, tuple) else (out,)
        for got, want in zip(out, _per_example(f, args, dims)):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    # per-example gradients through the batched solve
    per = tg.vmap(tg.func.grad(lambda c, L, p: tg.linalg.lu_solve(L, p, c).pow(2).sum()))(
        Bs, LU, piv)
    for i in range(4):
        want = tg.func.grad(lambda c: tg.linalg.lu_solve(LU[i], piv[i], c).pow(2).sum())(Bs[i])
        np.testing.assert_allclose(per[i].numpy(), want.numpy(), rtol=1e-10)
