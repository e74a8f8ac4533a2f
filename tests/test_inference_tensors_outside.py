"""Inference tensors that require grad, used outside inference mode, against PyTorch: an op
whose tensor inputs are all inference tensors records nothing (requires_grad False, no
grad_fn; views stay inference tensors); one that also takes a normal tensor (a Python number
PyTorch wraps for add/sub/mul/div, a list index, where's condition) records."""

import numpy as np
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

NO_GRAD_MSG = "element 0 of tensors does not require grad and does not have a grad_fn"

# name -> f(lib, a, m, s, n, c): a (3,), m (3, 3), s () inference tensors requiring grad;
# n a normal tensor, c a normal bool mask
CASES = {
    # all inputs inference tensors: nothing recorded
    "sin": lambda L, a, m, s, n, c: a.sin(),
    "exp": lambda L, a, m, s, n, c: a.exp(),
    "neg": lambda L, a, m, s, n, c: -a,
    "relu": lambda L, a, m, s, n, c: a.relu(),
    "tanh": lambda L, a, m, s, n, c: a.tanh(),
    "sigmoid": lambda L, a, m, s, n, c: L.sigmoid(a),
    "sqrt": lambda L, a, m, s, n, c: a.sqrt(),
    "square": lambda L, a, m, s, n, c: a.square(),
    "a*a": lambda L, a, m, s, n, c: a * a,
    "a+a": lambda L, a, m, s, n, c: a + a,
    "a**2": lambda L, a, m, s, n, c: a ** 2,
    "a**2.5": lambda L, a, m, s, n, c: a ** 2.5,
    "pow(2)": lambda L, a, m, s, n, c: a.pow(2),
    "2/a": lambda L, a, m, s, n, c: 2 / a,
    "clamp": lambda L, a, m, s, n, c: a.clamp(0.5, 1.5),
    "clamp_min": lambda L, a, m, s, n, c: a.clamp(min=0),
    "maximum": lambda L, a, m, s, n, c: L.maximum(a, a),
    "sum": lambda L, a, m, s, n, c: a.sum(),
    "sum*2": lambda L, a, m, s, n, c: a.sum() * 2,
    "max": lambda L, a, m, s, n, c: a.max(),
    "amax": lambda L, a, m, s, n, c: m.amax(0),
    "prod": lambda L, a, m, s, n, c: a.prod(),
    "norm": lambda L, a, m, s, n, c: a.norm(),
    "cumsum": lambda L, a, m, s, n, c: a.cumsum(0),
    "softmax": lambda L, a, m, s, n, c: a.softmax(0),
    "log_softmax": lambda L, a, m, s, n, c: m.log_softmax(1),
    "mm": lambda L, a, m, s, n, c: m @ m,
    "dot": lambda L, a, m, s, n, c: a @ a,
    "linear": lambda L, a, m, s, n, c: L.nn.functional.linear(m, m),
    "outer": lambda L, a, m, s, n, c: L.outer(a, a),
    "einsum": lambda L, a, m, s, n, c: L.einsum("i,i->", a, a),
    "stack": lambda L, a, m, s, n, c: L.stack([a, a]),
    "cat": lambda L, a, m, s, n, c: L.cat([a, a]),
    "s*s": lambda L, a, m, s, n, c: s * s,
    "s**2": lambda L, a, m, s, n, c: s ** 2,
    "s.sin": lambda L, a, m, s, n, c: s.sin(),
    "2/s": lambda L, a, m, s, n, c: 2 / s,
    "-s": lambda L, a, m, s, n, c: -s,
    # views: stay inference tensors, require no grad
    "select": lambda L, a, m, s, n, c: a[1],
    "slice": lambda L, a, m, s, n, c: a[:2],
    "reshape": lambda L, a, m, s, n, c: a.reshape(3, 1),
    "view": lambda L, a, m, s, n, c: m.view(9),
    "t": lambda L, a, m, s, n, c: m.t(),
    "expand": lambda L, a, m, s, n, c: a.expand(2, 3),
    "unsqueeze": lambda L, a, m, s, n, c: a.unsqueeze(0),
    "narrow": lambda L, a, m, s, n, c: a.narrow(0, 0, 2),
    # a normal tensor among the inputs: recorded
    "a*2": lambda L, a, m, s, n, c: a * 2,
    "2*a": lambda L, a, m, s, n, c: 2 * a,
    "a+1": lambda L, a, m, s, n, c: a + 1,
    "a-1": lambda L, a, m, s, n, c: a - 1,
    "1-a": lambda L, a, m, s, n, c: 1 - a,
    "a/2": lambda L, a, m, s, n, c: a / 2,
    "add(a,1)": lambda L, a, m, s, n, c: L.add(a, 1),
    "mul(a,2)": lambda L, a, m, s, n, c: L.mul(a, 2),
    "m*2": lambda L, a, m, s, n, c: m * 2,
    "s*2": lambda L, a, m, s, n, c: s * 2,
    "s+1": lambda L, a, m, s, n, c: s + 1,
    "a+n": lambda L, a, m, s, n, c: a + n,
    "cat_n": lambda L, a, m, s, n, c: L.cat([a, n]),
    "where_0": lambda L, a, m, s, n, c: L.where(c, a, 0.0),
    "where_aa": lambda L, a, m, s, n, c: L.where(c, a, a),
    "list_index": lambda L, a, m, s, n, c: a[[0, 2]],
    "mask_index": lambda L, a, m, s, n, c: a[c],
    "clone": lambda L, a, m, s, n, c: a.clone(),
    "to_float32": lambda L, a, m, s, n, c: a.to(L.float32),
    "masked_fill": lambda L, a, m, s, n, c: a.masked_fill(c, 0.0),
}


def _inputs(L):
    with L.inference_mode():
        a = L.tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
        m = L.tensor(np.arange(1.0, 10.0).reshape(3, 3) / 4, requires_grad=True)
        s = L.tensor(np.float64(1.5), requires_grad=True)
    n = L.tensor(np.array([3.0, -1.0, 2.0]))
    c = L.tensor(np.array([True, False, True]))
    return a, m, s, n, c


def _outcome(L, name):
    a, m, s, n, c = _inputs(L)
    r = CASES[name](L, a, m, s, n, c)
    out = dict(rg=r.requires_grad, fn=r.grad_fn is not None, inf=r.is_inference(),
               value=r.detach().double().numpy().copy() if L is torch else
               np.asarray(r.detach().double().numpy()).copy())
    try:
        r.sum().backward()
        out["grads"] = [None if t.grad is None else np.asarray(t.grad.numpy()).copy()
                        for t in (a, m, s)]
    except RuntimeError as e:
        out["error"] = str(e)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_against_torch(name):
    want, got = _outcome(torch, name), _outcome(tg, name)
    for k in ("rg", "fn", "inf"):
        assert got[k] == want[k], (k, got[k], want[k])
    np.testing.assert_allclose(got["value"], want["value"], rtol=1e-6)
    if "error" in want:
        assert NO_GRAD_MSG in want["error"]
        assert NO_GRAD_MSG in got.get("error", ""), got
    else:
        assert "error" not in got, got["error"]
        for g, w in zip(got["grads"], want["grads"]):
            assert (g is None) == (w is None)
            if w is not None:
                np.testing.assert_allclose(g, w, rtol=1e-12)


@pytest.mark.parametrize("f", [lambda L, a, w, mw: a * w, lambda L, a, w, mw: w * a,
                               lambda L, a, w, mw: mw @ L.ones(3, 3).to(a.dtype) * 0 + a @ mw,
                               lambda L, a, w, mw: (a + 0).sin() * a * w])
def test_saving_an_inference_tensor_still_raises(f):
    for L in (torch, tg):
        with L.inference_mode():
            a = L.tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
        w = L.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        mw = L.ones(3, 3, dtype=L.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="Inference tensors cannot be saved for backward"):
            f(L, a, w, mw)


def test_inference_view_made_inside_then_used_outside():
    for L in (torch, tg):
        with L.inference_mode():
            a = L.tensor(np.array([0.5, 1.0, 2.0]), requires_grad=True)
            v = a[:2]
            s = a.sin()
        assert not v.requires_grad and v.is_inference() and not s.requires_grad
        r = v.sin() * v
        assert not r.requires_grad and r.grad_fn is None and not r.is_inference()
        with pytest.raises(RuntimeError, match=NO_GRAD_MSG):
            r.sum().backward()
        b = (a * 2).sum()  # mixed with a number: recorded, a gets a gradient
        b.backward()
        assert a.grad.tolist() == [2.0, 2.0, 2.0]


def _flip_outcome(L, inside, inference_input, dims):
    """flip copies in PyTorch (no view): its result is an inference tensor exactly when made
    inside inference mode, whatever its input; under no_grad it requires no grad."""
    if inference_input:
        with L.inference_mode():
            x = L.arange(6.0).reshape(2, 3).requires_grad_()
    else:
        x = L.arange(6.0).reshape(2, 3).requires_grad_()
    if inside:
        with L.inference_mode():
            y = x.flip(dims)
    else:
        y = x.flip(dims)
    with L.no_grad():
        z = x.flip(dims)
    out = [y.is_inference(), y.requires_grad, y.grad_fn is None, y.tolist(),
           z.is_inference(), z.requires_grad, z.is_leaf]
    if not inference_input:
        z.mul_(2.0)  # (a copy made under no_grad: writable with grad on)
        w = L.arange(6.0).reshape(2, 3).requires_grad_()
        (z * w * x.flip(dims)).sum().backward()
        out += [z.requires_grad, z.tolist(), w.grad.tolist(), x.grad.tolist()]
    return out


@pytest.mark.parametrize("dims", [(0,), (1,), (0, 1)])
@pytest.mark.parametrize("inference_input", [True, False])
@pytest.mark.parametrize("inside", [True, False])
def test_flip_is_a_fresh_tensor(inside, inference_input, dims):
    assert _flip_outcome(tg, inside, inference_input, dims) == \
        _flip_outcome(torch, inside, inference_input, dims)


# composites that are one op in PyTorch: with only inference tensors (numbers for alpha, value
# and a number weight) they record nothing; a number other of add/sub is wrapped and records
COMPOSITES = {
    "lerp number": lambda L, a, s, n, w: L.lerp(a, a, 0.3),
    "lerp number high": lambda L, a, s, n, w: L.lerp(a, a, 0.7),
    "lerp tensor weight": lambda L, a, s, n, w: L.lerp(a, a, s),
    "lerp normal end": lambda L, a, s, n, w: L.lerp(a, n, 0.7),
    "lerp grad end": lambda L, a, s, n, w: L.lerp(a, w, 0.5),
    "add alpha": lambda L, a, s, n, w: L.add(a, a, alpha=2),
    "sub alpha": lambda L, a, s, n, w: a.sub(a, alpha=3),
    "add alpha normal": lambda L, a, s, n, w: a.add(n, alpha=2),
    "add alpha number": lambda L, a, s, n, w: a.add(2.0, alpha=2),
    "sub alpha grad": lambda L, a, s, n, w: L.sub(w, a, alpha=0.5),
    "addcmul": lambda L, a, s, n, w: L.addcmul(a, a, a),
    "addcmul value": lambda L, a, s, n, w: L.addcmul(a, a, a, value=2),
    "addcdiv value": lambda L, a, s, n, w: L.addcdiv(a, a, a, value=2),
    "addcmul grad": lambda L, a, s, n, w: L.addcmul(a, w, n, value=2),
}


def _composite_outcome(L, name):
    with L.inference_mode():
        a = L.tensor([1.0, 2.0, 3.0], dtype=L.float64).requires_grad_()
        s = L.tensor(0.25, dtype=L.float64)
    n = L.tensor([0.5, -1.0, 4.0], dtype=L.float64)
    w = L.tensor([2.0, 0.5, -3.0], dtype=L.float64, requires_grad=True)
    y = COMPOSITES[name](L, a, s, n, w)
    out = [y.is_inference(), y.requires_grad, y.grad_fn is None, y.tolist()]
    if y.requires_grad:
        (y * L.tensor([1.0, -2.0, 0.5], dtype=L.float64)).sum().backward()
        out.append(None if w.grad is None else w.grad.tolist())
    return out


@pytest.mark.parametrize("name", list(COMPOSITES))
def test_composites_of_inference_tensors(name):
    got, want = _composite_outcome(tg, name), _composite_outcome(torch, name)
    assert got[:3] == want[:3]
    np.testing.assert_allclose(got[3], want[3], rtol=1e-15)
    if len(want) > 4:
        assert (got[4] is None) == (want[4] is None)
        if want[4] is not None:
            np.testing.assert_allclose(got[4], want[4], rtol=1e-15)


# index ops of an inference tensor a (2, 3) requiring grad with a normal or an inference index:
# a normal index records (index_select), or is refused where the backward saves a (gather, take)
INDEXED = {
    "index_select 0": lambda L, a, i, i2: a.index_select(0, i),
    "index_select 1": lambda L, a, i, i2: L.index_select(a, 1, i),
    "gather": lambda L, a, i, i2: a.gather(0, i2),
    "take": lambda L, a, i, i2: L.take(a, i),
    "take_along_dim": lambda L, a, i, i2: L.take_along_dim(a, i2, 0),
}


def _indexed_outcome(L, name, inference_index, inside):
    with L.inference_mode():
        a = L.arange(6.0, dtype=L.float64).reshape(2, 3).requires_grad_()
        ii, ii2 = L.tensor([1, 0, 1]), L.tensor([[0, 1, 1]])
    i, i2 = (ii, ii2) if inference_index else (L.tensor([1, 0, 1]), L.tensor([[0, 1, 1]]))
    try:
        if inside:
            with L.inference_mode():
                y = INDEXED[name](L, a, i, i2)
        else:
            y = INDEXED[name](L, a, i, i2)
    except RuntimeError as e:
        return str(e)
    out = [y.is_inference(), y.requires_grad, y.grad_fn is None, y.tolist()]
    if y.requires_grad:
        out.append(L.autograd.grad((y * y).sum(), a)[0].tolist())
    return out


@pytest.mark.parametrize("inside", [False, True])
@pytest.mark.parametrize("inference_index", [False, True])
@pytest.mark.parametrize("name", list(INDEXED))
def test_index_ops_of_inference_tensors(name, inference_index, inside):
    assert _indexed_outcome(tg, name, inference_index, inside) == \
        _indexed_outcome(torch, name, inference_index, inside)


def _mean_outcome(L, kwargs, mode):
    with L.inference_mode():
        a = L.arange(6.0, dtype=L.float64).reshape(2, 3).requires_grad_(mode != "plain")
    try:
        if mode == "inside":
            with L.inference_mode():
                y = a.mean(**kwargs)
        elif mode == "no_grad":
            with L.no_grad():
                y = a.mean(**kwargs)
        else:
            y = a.mean(**kwargs)
    except RuntimeError as e:
        return str(e)
    return [y.is_inference(), y.requires_grad, y.grad_fn is None, y.tolist()]


@pytest.mark.parametrize("mode", ["outside", "inside", "no_grad", "plain"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": (0, 1), "keepdim": True},
                                    {"dtype": "float32"}])
def test_mean_of_inference_tensor_requiring_grad(kwargs, mode):
    """PyTorch's mean goes through sum(out=...), which refuses an input requiring grad."""
    tk = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    gk = {k: getattr(tg, v) if k == "dtype" else v for k, v in kwargs.items()}
    assert _mean_outcome(tg, gk, mode) == _mean_outcome(torch, tk, mode)
