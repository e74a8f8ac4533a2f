"""vmap batching rules of the tensor functions (inverse trig, erf, index ops, sort, ...): each
runs batched (no per-example loop: its warning is an error here) and equals the loop over the
examples and torch.func.vmap; gradients through the rules equal the per-example gradients."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

B = 4
rng = np.random.default_rng(0)
X = rng.uniform(0.1, 0.9, (B, 3, 5))  # in the domain of asin, atanh, ...
Y = rng.uniform(1.1, 2.0, (B, 3, 5))
M = rng.uniform(size=(B, 3, 5)) > 0.5
IDX = rng.integers(0, 3, (B, 2, 5))
IDX1 = rng.integers(0, 5, (B, 4))
PERM = np.stack([np.stack([rng.permutation(5) for _ in range(3)]) for _ in range(B)])


def L(lib, a):
    return lib.tensor(a)


def _in_place_operators(lib, x, y):
    c = x * 1.0
    c %= y
    c //= 0.3
    return c + 7.5 // y - 2.5 % x + (+x)


def _in_place_bitwise(lib, i):
    c = i.clone()
    c |= 1
    c ^= i
    c <<= 2
    c >>= 1
    c &= 6
    return c + i // 2 - i % 3


# name -> (function of (lib, *examples), batched inputs, in_dims)
CASES = {
    "atan": (lambda lib, x: lib.atan(x), [X], 0),
    "asin": (lambda lib, x: lib.asin(x), [X], 0),
    "acos": (lambda lib, x: x.acos(), [X], 0),
    "sinh": (lambda lib, x: lib.sinh(x), [X], 0),
    "cosh": (lambda lib, x: lib.cosh(x), [X], 0),
    "asinh": (lambda lib, x: lib.asinh(x), [X], 0),
    "acosh": (lambda lib, y: lib.acosh(y), [Y], 0),
    "atanh": (lambda lib, x: lib.atanh(x), [X], 0),
    "atan2": (lambda lib, x, y: lib.atan2(x, y), [X, Y[0, 0]], (0, None)),
    "square": (lambda lib, x: lib.square(x), [X], 0),
    "rsqrt": (lambda lib, y: lib.rsqrt(y), [Y], 0),
    "erf": (lambda lib, x: lib.erf(x), [X], 0),
    "erfc": (lambda lib, x: lib.erfc(x), [X], 0),
    "xlogy": (lambda lib, x, y: lib.xlogy(x, y), [X, Y], 0),
    "isnan": (lambda lib, x: lib.isnan(x), [X], 0),
    "isfinite": (lambda lib, x: lib.isfinite(x.masked_fill(x > 0.6, float("nan"))), [X], 0),
    "isinf": (lambda lib, x: lib.isinf(x.masked_fill(x > 0.4, float("-inf"))), [X], 0),
    "nan_to_num": (lambda lib, x: lib.nan_to_num(lib.log(x - 0.5), neginf=-7.0), [X], 0),
    "isclose": (lambda lib, x, y: lib.isclose(x, y[0], atol=0.3), [X, Y], 0),
    "logcumsumexp": (lambda lib, x: lib.logcumsumexp(x, dim=-1), [X], 0),
    "logcumsumexp-dim0": (lambda lib, x: x.logcumsumexp(0), [X], 0),
    "sort": (lambda lib, x: lib.sort(x, dim=0, descending=True).values, [X], 0),
    "sort-indices": (lambda lib, x: lib.sort(x).indices, [X], 0),
    "argsort": (lambda lib, x: lib.argsort(x, dim=1), [X], 0),
    "topk": (lambda lib, x: lib.topk(x, 2).values, [X], 0),
    "topk-dim0": (lambda lib, x: x.topk(2, dim=0, largest=False).indices, [X], 0),
    "kthvalue": (lambda lib, x: lib.kthvalue(x, 2, 1).values, [X], 0),
    "median": (lambda lib, x: lib.median(x), [X], 0),
    "median-dim": (lambda lib, x: lib.median(x, dim=-1).values, [X], 0),
    "masked_fill": (lambda lib, x, m: x.masked_fill(m, -1.0), [X, M], 0),
    "masked_fill-mask-row": (lambda lib, x, m: lib.masked_fill(x, m[0], 2.0), [X, M],
                             (None, 0)),
    "masked_fill-shared-mask": (lambda lib, x, m: lib.masked_fill(x, m, 2.0), [X, M[0]],
                                (0, None)),
    "gather": (lambda lib, x, i: lib.gather(x, 0, i), [X, IDX], 0),
    "gather-shared-index": (lambda lib, x, i: x.gather(1, i), [X, PERM[0][:, :4]], (0, None)),
    "gather-shared-input": (lambda lib, x, i: lib.gather(x, -1, i), [X[0], PERM], (None, 0)),
    "take_along_dim": (lambda lib, x, i: lib.take_along_dim(x, i, dim=1), [X, PERM], 0),
    "take_along_dim-flat": (lambda lib, x, i: lib.take_along_dim(x, i), [X, IDX1], 0),
    "index_select": (lambda lib, x, i: lib.index_select(x, 1, i), [X, IDX1[0][:2] % 3],
                     (0, None)),
    "index_select-batched-index": (lambda lib, x, i: lib.index_select(x, -1, i), [X, IDX1], 0),
    "index_select-shared-input": (lambda lib, x, i: lib.index_select(x, 0, i), [X[0], IDX1 % 3],
                                  (None, 0)),
    "scatter": (lambda lib, x, i, s: lib.scatter(x, 1, i, s), [X, PERM[:, :2], Y], 0),
    "scatter-value": (lambda lib, x, i: x.scatter(-1, i, 0.5), [X, PERM[:, :, :2]], 0),
    "scatter_add": (lambda lib, x, i, s: lib.scatter_add(x, 0, i, s), [X, IDX, Y], 0),
    "index_add": (lambda lib, x, s: lib.index_add(x, 0, L(lib, np.array([2, 0])), s,
                                                  alpha=3.0), [X, Y[:, :2]], 0),
    "index_add-batched-index": (lambda lib, x, i, s: lib.index_add(x, 0, i, s, alpha=2.0),
                                [X, IDX1 % 3, Y[:, :2].repeat(2, 1)], 0),
    "index_add-index-only": (lambda lib, x, i, s: x.index_add(-1, i, s),
                             [X[0], IDX1, Y[0, :, :4]], (None, 0, None)),
    "index_add-index-dim1": (lambda lib, x, i, s: lib.index_add(x, 1, i, s, alpha=-1.5),
                             [X, IDX1, Y[:, :, :4]], 0),
    "repeat": (lambda lib, x: x.repeat(2, 1, 3), [X], 0),
    "repeat-new-dims": (lambda lib, x: x.repeat(2, 1, 1, 2), [X], 0),
    "repeat_interleave": (lambda lib, x: lib.repeat_interleave(x, 2, dim=1), [X], 0),
    "repeat_interleave-flat": (lambda lib, x: lib.repeat_interleave(x, 3), [X], 0),
}
# tg.special: the names shared with the top level are those functions, its own batch too
for _n in ("i0 i0e i1 i1e entr ndtri log_ndtr erfcx gammaln psi digamma erfinv expit logit "
           "sinc ndtr erf erfc round").split():
    CASES["special." + _n] = (lambda lib, x, _n=_n: getattr(lib.special, _n)(x), [X], 0)
CASES.update({
    "special.xlog1py": (lambda lib, x, y: lib.special.xlog1py(x, y - 1.5), [X, Y], 0),
    "special.xlogy": (lambda lib, x, y: lib.special.xlogy(x, y), [X, Y[0]], (0, None)),
    "special.logsumexp": (lambda lib, x: lib.special.logsumexp(x, 1), [X], 0),
    "special.softmax": (lambda lib, x: lib.special.softmax(x, dim=-1), [X], 0),
    "special.multigammaln": (lambda lib, y: lib.special.multigammaln(y + 1, 2), [Y], 0),
    "i0": (lambda lib, x: x.i0(), [X], 0),
    "polygamma": (lambda lib, y: lib.polygamma(2, y), [Y], 0),
    "isposinf": (lambda lib, x: lib.isposinf(x.masked_fill(x > 0.6, float("inf"))), [X], 0),
    "isneginf": (lambda lib, x: lib.isneginf(lib.log(x - 0.5)), [X], 0),
    "nextafter": (lambda lib, x, y: lib.nextafter(x, y), [X, Y[0]], (0, None)),
    "frexp": (lambda lib, y: lib.frexp(y * 100).mantissa, [Y], 0),
    "angle": (lambda lib, x: lib.angle(x - 0.5), [X], 0),
    "real": (lambda lib, x, y: lib.real(lib.complex(x, y)), [X, Y], 0),
    "imag": (lambda lib, x, y: lib.imag(lib.polar(x, y)), [X, Y[0]], (0, None)),
    "conj": (lambda lib, x, y: lib.imag(lib.conj_physical(lib.complex(x, y))), [X, Y], 0),
    "isreal": (lambda lib, x: lib.isreal(lib.conj(x)), [X], 0),
    "imag-property": (lambda lib, x, y: lib.polar(x, y).imag * lib.complex(y, x).real, [X, Y], 0),
    "mode": (lambda lib, x: lib.mode(lib.round(x * 3), 1).values, [X], 0),
    "nanmedian": (lambda lib, x: lib.nanmedian(x.masked_fill(x > 0.7, float("nan"))), [X], 0),
    "nanmedian-dim": (lambda lib, x: lib.nanmedian(x.masked_fill(x > 0.7, float("nan")),
                                                   dim=-1).values, [X], 0),
    "ravel": (lambda lib, x: lib.ravel(x), [X], 0),
    # tg.fft: the dims each transform names move one place right
    "fft": (lambda lib, x: lib.fft.fft(x).abs(), [X], 0),
    "fft-dim0-n": (lambda lib, x: lib.fft.fft(x, 4, 0, "ortho").abs(), [X], 0),
    "rfft-kw": (lambda lib, x: lib.fft.rfft(x, dim=0).angle(), [X], 0),
    "irfft": (lambda lib, x: lib.fft.irfft(x, n=6), [X], 0),
    "hfft": (lambda lib, x: lib.fft.hfft(x, dim=-2), [X], 0),
    "ifft2": (lambda lib, x: lib.fft.ifft2(x, s=(2, 4)).real, [X], 0),
    "rfftn": (lambda lib, x: lib.fft.rfftn(x).imag, [X], 0),
    "irfftn-s": (lambda lib, x: lib.fft.irfftn(x, s=(5,)), [X], 0),
    "ihfftn-dim": (lambda lib, x: lib.fft.ihfftn(x, dim=(0,)).real, [X], 0),
    "fftshift": (lambda lib, x: lib.fft.fftshift(x), [X], 0),
    "frobenius_norm-one-dim": (lambda lib, x: lib.frobenius_norm(x, 1, True), [X], 0),
    "frobenius_norm": (lambda lib, x: lib.frobenius_norm(x, (0, 1)), [X], 0),
    "linalg.matmul": (lambda lib, x, y: lib.linalg.matmul(x, y.mT), [X, Y[0]], (0, None)),
    "matrix_norm-1": (lambda lib, x: lib.linalg.matrix_norm(x, 1), [X], 0),
    "matrix_norm--inf": (lambda lib, x: lib.linalg.matrix_norm(x, -float("inf")), [X], 0),
    "norm-inf": (lambda lib, x: lib.linalg.norm(x, float("inf")), [X], 0),
    "one_hot": (lambda lib, i: lib.nn.functional.one_hot(i, 4), [IDX], 0),
    "operators": (lambda lib, x, y: x // y - x % 0.4, [X, Y], 0),
    "in-place-operators": (_in_place_operators, [X, Y], 0),
    "in-place-bitwise": (_in_place_bitwise, [IDX], 0),
    "max_pool2d-indices": (lambda lib, x: lib.nn.functional.max_pool2d(
        x[None], 2, 1, return_indices=True)[1], [X], 0),
    "max_pool1d-values": (lambda lib, x: lib.nn.functional.max_pool1d(
        x, 3, 2, 1, return_indices=True)[0], [X], 0),
    "searchsorted": (lambda lib, s, v: lib.searchsorted(s, v, right=True),
                     [np.sort(X, -1), Y - 1.2], 0),
    "searchsorted-1d-sequence": (lambda lib, s, v: lib.searchsorted(s, v),
                                 [np.sort(X[:, 0], -1), X[:, ::-1].copy()], 0),
    "searchsorted-shared-sequence": (lambda lib, s, v: lib.searchsorted(s, v, side="right"),
                                     [np.sort(X[0, 0]), X], (None, 0)),
    "searchsorted-values-0d": (lambda lib, s, v: lib.searchsorted(s, v),
                               [np.sort(X[:, 0], -1), X[:, 0, 0].copy()], 0),
    "bucketize": (lambda lib, v, b: lib.bucketize(v, b, right=True, out_int32=True),
                  [X, np.sort(X[0, 0])], (0, None)),
    "interpolate-nearest": (lambda lib, x: lib.nn.functional.interpolate(
        x[None, None], scale_factor=1.5)[0, 0], [X], 0),
    "interpolate-bilinear": (lambda lib, x: lib.nn.functional.interpolate(
        x[None, None], size=(4, 7), mode="bilinear", align_corners=True)[0, 0], [X], 0),
    "interpolate-bicubic": (lambda lib, x: lib.nn.functional.interpolate(
        x[None, None], scale_factor=2, mode="bicubic")[0, 0], [X], 0),
    "interpolate-linear": (lambda lib, x: lib.nn.functional.interpolate(
        x[None], scale_factor=0.7, mode="linear")[0], [X], 0),
    "ifftshift-dim": (lambda lib, x: lib.fft.ifftshift(x, -1), [X], 0),
})


def _ins(lib, inputs):
    return [lib.tensor(a) for a in inputs]


def _dims(in_dims, n):
    return in_dims if isinstance(in_dims, tuple) else (in_dims,) * n


def _loop(fn, inputs, in_dims):
    outs = []
    for b in range(B):
        ex = [t[b] if d == 0 else t for t, d in zip(inputs, _dims(in_dims, len(inputs)))]
        outs.append(fn(tg, *ex))
    return tg.stack(outs)


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_rule_equals_loop(name):
    fn, inputs, in_dims = CASES[name]
    ins = _ins(tg, inputs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="There is a performance drop")
        got = tg.vmap(lambda *a: fn(tg, *a), in_dims=in_dims)(*ins)
    want = _loop(fn, ins, in_dims)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_rule_equals_torch_vmap(torch, name):
    fn, inputs, in_dims = CASES[name]
    got = tg.vmap(lambda *a: fn(tg, *a), in_dims=in_dims)(*_ins(tg, inputs))
    want = torch.func.vmap(lambda *a: fn(torch, *a), in_dims=in_dims)(*_ins(torch, inputs))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-14, atol=1e-15)


GRAD_CASES = ["atan", "asin", "acosh", "atan2", "rsqrt", "erf", "xlogy", "logcumsumexp",
              "sort", "topk", "median", "median-dim", "kthvalue", "masked_fill", "gather",
              "take_along_dim", "index_select-batched-index", "scatter", "scatter_add",
              "index_add", "index_add-batched-index", "repeat", "repeat_interleave", "special.i0", "special.i1e",
              "special.entr", "special.ndtri", "special.log_ndtr", "special.erfcx",
              "special.xlog1py", "special.gammaln", "special.logsumexp", "polygamma", "mode",
              "nanmedian", "nanmedian-dim", "ravel", "angle", "fft", "fft-dim0-n", "irfft",
              "hfft", "ifft2", "rfftn", "irfftn-s", "fftshift", "ifftshift-dim", "matrix_norm-1",
              "matrix_norm--inf", "norm-inf", "interpolate-nearest", "interpolate-bilinear",
              "interpolate-bicubic", "interpolate-linear", "in-place-operators",
              "max_pool1d-values"]


@pytest.mark.parametrize("name", GRAD_CASES)
def test_per_example_gradients_through_rules(name):
    """vmap(grad(f)) runs the rules on the forward and the backward: per-example gradients
    equal the gradient of each example alone."""
    fn, inputs, in_dims = CASES[name]
    w = np.linspace(0.5, 1.5, int(np.prod(np.shape(fn(tg, *_ins(tg, [
        a[0] if d == 0 else a for a, d in zip(inputs, _dims(in_dims, len(inputs)))]))))))

    def f(x, *rest):
        out = fn(tg, x, *rest)
        return (out.reshape(-1) * tg.tensor(w)).sum()

    ins = _ins(tg, inputs)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="There is a performance drop")
        got = tg.vmap(tg.func.grad(f), in_dims=in_dims)(*ins)
    dims = _dims(in_dims, len(ins))
    for b in range(B):
        ex = [t[b] if d == 0 else t for t, d in zip(ins, dims)]
        want = tg.func.grad(f)(*ex)
        np.testing.assert_allclose(got[b].numpy(), want.numpy(), rtol=1e-13, atol=1e-15)


def test_gradcheck_through_batched_gather_and_sort():
    x = tg.tensor(X, requires_grad=True)
    idx = tg.tensor(IDX)

    def f(a):
        return tg.vmap(lambda e, i: tg.sort(tg.gather(e, 0, i).atan(), dim=-1).values)(a, idx)

    assert tg.autograd.gradcheck(f, (x,))
    assert tg.autograd.gradgradcheck(f, (x,))


def test_rule_errors_name_the_example_dims():
    with pytest.raises(IndexError, match="Dimension out of range"):
        tg.vmap(lambda e: tg.sort(e, dim=2))(tg.tensor(X))


def test_histogram_with_its_default_bins_runs_per_example(torch):
    """It reads the values (one histogram per example, as torch.func's fallback); 100 bins
    when none are given, as PyTorch's."""
    with pytest.warns(UserWarning, match="performance drop"):
        got = tg.vmap(lambda x: tg.histogram(x).hist)(tg.tensor(X))
    want = torch.func.vmap(lambda x: torch.histogram(x).hist)(torch.tensor(X))
    assert tuple(got.shape) == (B, 100)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


EMB_W, EMB_WS = rng.standard_normal((10, 3)), rng.standard_normal((B, 10, 3))
EMB_IDX = rng.integers(0, 10, (B, 5))
EMB_IDX[1, 2] = 2
# (indices, table, in_dims): a shared table, a table per example (vmap(grad) of a model's
# weights), per-example tables with shared indices
EMB_CASES = {"shared-table": (EMB_IDX, EMB_W, (0, None)), "own-tables": (EMB_IDX, EMB_WS, 0),
             "shared-indices": (EMB_IDX[0], EMB_WS, (None, 0))}


def _emb(lib, pad):
    return lambda i, w: lib.nn.functional.embedding(i, w, padding_idx=pad)


@pytest.mark.parametrize("pad", [None, 2, -8])
@pytest.mark.parametrize("case", list(EMB_CASES))
def test_embedding_batches_and_gives_per_example_gradients(case, pad):
    idx, w, dims = EMB_CASES[case]
    d = (0, 0) if dims == 0 else dims
    f = _emb(tg, pad)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="There is a performance drop")
        out = tg.vmap(f, in_dims=dims)(tg.tensor(idx), tg.tensor(w))
        g = tg.vmap(tg.func.grad(lambda ww, i: (f(i, ww) ** 2).sum()), in_dims=d[::-1])(
            tg.tensor(w), tg.tensor(idx))
    for b in range(B):
        ib, wb = tg.tensor(idx[b] if d[0] == 0 else idx), tg.tensor(w[b] if d[1] == 0 else w)
        np.testing.assert_array_equal(out[b].numpy(), f(ib, wb).numpy())
        gb = tg.func.grad(lambda ww: (f(ib, ww) ** 2).sum())(wb)
        np.testing.assert_allclose(g[b].numpy(), gb.numpy(), rtol=1e-14)


@pytest.mark.parametrize("case", list(EMB_CASES))
def test_embedding_and_its_per_example_gradients_match_torch_func(torch, case):
    idx, w, dims = EMB_CASES[case]
    d = (0, 0) if dims == 0 else dims
    outs = []
    for lib in (tg, torch):
        f = _emb(lib, 2)
        outs.append((lib.func.vmap(f, in_dims=dims)(lib.tensor(idx), lib.tensor(w)),
                     lib.func.vmap(lib.func.grad(lambda ww, i: (f(i, ww) ** 2).sum()),
                                   in_dims=d[::-1])(lib.tensor(w), lib.tensor(idx))))
    for a, b in zip(*outs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-14)


def test_library_functions_that_read_values_run_per_example():
    """A tapegrad function reading a batched value with .numpy() (embedding_bag's indices) runs
    once per example, with the performance warning; the user's own .item() or if-statement
    on a batched value is PyTorch's error."""
    w, idx = EMB_W, EMB_IDX[:, :4].reshape(B, 2, 2)
    with pytest.warns(UserWarning, match="performance drop"):
        got = tg.vmap(lambda i: tg.nn.functional.embedding_bag(i, tg.tensor(w)))(tg.tensor(idx))
    for b in range(B):
        np.testing.assert_array_equal(
            got[b].numpy(), tg.nn.functional.embedding_bag(tg.tensor(idx[b]), tg.tensor(w)).numpy())
    with pytest.raises(RuntimeError, match=r"It looks like you're calling \.item\(\) on a Tensor"):
        tg.vmap(lambda a: a.sum().item())(tg.tensor(X))
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        tg.vmap(lambda a: a if a.sum() > 0 else -a)(tg.tensor(X))

