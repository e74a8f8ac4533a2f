"""Differential fuzzing against PyTorch: one seeded program, run in both libraries.

A program is ``(inputs, fn)``: ``inputs`` a list of ``Arg`` (a NumPy array with its dtype and
whether it requires grad, or a plain Python value), ``fn(lib, F, *args)`` the same code for both
libraries (``lib`` is ``tapegrad`` or ``torch``, ``F`` its ``nn.functional``). ``run_program``
checks, in order: both raise or neither does; the error's class and the first line of its
message; the outputs' shapes, dtypes and values; the first gradients (``autograd.grad`` on a
random cotangent) with ``None`` where PyTorch has ``None``; and when ``order=2`` a double backward
(``create_graph=True``, then the gradient of the first gradients against a second random
cotangent, an absent gradient counting as zeros).
"""

import dataclasses

import numpy as np
import pytest

import tapegrad as tg
import tapegrad.nn.functional as tgF

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
tF = torch.nn.functional


@dataclasses.dataclass
class Arg:
    value: object
    requires_grad: bool = False


def arr(rng, shape, requires_grad=True):
    return Arg(rng.standard_normal(shape), requires_grad)


def index(values, dtype=np.int64):
    return Arg(np.asarray(values, dtype=dtype))


def _make(lib, arg):
    v = arg.value
    if not isinstance(v, np.ndarray):
        return v
    if lib is tg:
        return tg.tensor(v.copy(), requires_grad=arg.requires_grad)
    return torch.tensor(v.copy(), requires_grad=arg.requires_grad)


def _call(lib, F, fn, args):
    inputs = [_make(lib, a) for a in args]
    try:
        out = fn(lib, F, *inputs)
    except Exception as e:  # noqa: BLE001 - the comparison is the test
        return inputs, None, e
    return inputs, out, None


def _same_error(g_err, t_err, msg_chars):
    assert g_err is not None, f"tapegrad computes where PyTorch raises {t_err!r}"
    assert t_err is not None, f"tapegrad raises {g_err!r} where PyTorch computes"
    assert type(g_err).__name__ == type(t_err).__name__, (type(g_err), g_err, t_err)
    want, got = _first_line(t_err), _first_line(g_err)
    if msg_chars is not None:
        want, got = want[:msg_chars], got[:msg_chars]
    assert got == want, f"message {got!r} vs PyTorch {want!r}"


def _first_line(e):
    text = str(e).strip().splitlines()
    return text[0].strip() if text else ""


def outcome(f):
    """What calling ``f`` gives, comparable across libraries: ("ok", its (first) output's values
    rounded to 10 decimals) or (the error's class name, its message's first line)."""
    try:
        out = f()
        out = out[0] if isinstance(out, tuple) else out
        return ("ok", np.round(out.detach().numpy(), 10).tolist())
    except Exception as e:  # noqa: BLE001 - compared with PyTorch's
        return (type(e).__name__, str(e).splitlines()[0])


def _outs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _np(t):
    return None if t is None else np.asarray(t.detach().numpy() if hasattr(t, "detach") else t)


def _dtype(t):
    return str(t.dtype).rsplit(".", 1)[-1]


_close_tol = (1e-7, 1e-9)


def _close(a, b, what):
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs PyTorch {b.shape}"
    rtol, atol = _close_tol
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def run_program(inputs, fn, order=1, msg_chars=None):
    t_in, t_out, t_err = _call(torch, tF, fn, inputs)
    g_in, g_out, g_err = _call(tg, tgF, fn, inputs)
    if t_err is not None or g_err is not None:
        _same_error(g_err, t_err, msg_chars)
        return "raised"
    t_outs, g_outs = _outs(t_out), _outs(g_out)
    assert len(t_outs) == len(g_outs)
    global _close_tol
    single = any(_dtype(o) == "float32" for o in t_outs) or any(
        isinstance(a.value, np.ndarray) and a.value.dtype == np.float32 for a in inputs)
    _close_tol = (2e-6, 1e-6) if single else (1e-7, 1e-9)  # float32 results: its rounding
    for i, (a, b) in enumerate(zip(g_outs, t_outs)):
        assert _dtype(a) == _dtype(b), f"output {i}: dtype {a.dtype} vs PyTorch {b.dtype}"
        _close(_np(a), _np(b), f"output {i}")
    # the mutated inputs too (in-place programs)
    for i, (a, b) in enumerate(zip(g_in, t_in)):
        if isinstance(b, torch.Tensor) and not b.requires_grad:
            _close(_np(a), _np(b), f"input {i} after the program")
    diff_t = [(i, o) for i, o in enumerate(t_outs) if o.requires_grad]
    assert [o.requires_grad for o in g_outs] == [o.requires_grad for o in t_outs]
    wrt = [i for i, a in enumerate(inputs) if a.requires_grad]
    if not diff_t or not wrt:
        return "values"
    rng = np.random.default_rng(len(inputs) * 7919 + sum(o.numel() for o in t_outs))
    cots = [rng.standard_normal(tuple(o.shape)) for _, o in diff_t]
    t_g = _grads(torch, [o for _, o in diff_t], [t_in[i] for i in wrt], cots, order)
    g_g = _grads(tg, [g_outs[i] for i, _ in diff_t], [g_in[i] for i in wrt], cots, order)
    if isinstance(t_g, Exception) or isinstance(g_g, Exception):
        _same_error(g_g if isinstance(g_g, Exception) else None,
                    t_g if isinstance(t_g, Exception) else None, msg_chars)
        return "raised in backward"
    for k, (a, b) in enumerate(zip(g_g, t_g)):
        assert (a is None) == (b is None), f"gradient {k}: {a} vs PyTorch {b}"
        if b is not None:
            _close(_np(a), _np(b), f"gradient of input {wrt[k]}")
    if order < 2:
        return "first"
    v = [rng.standard_normal(tuple(g.shape)) if g is not None else None for g in t_g]
    t_h = _second(torch, t_g, [t_in[i] for i in wrt], v)
    g_h = _second(tg, g_g, [g_in[i] for i in wrt], v)
    for k, (a, b) in enumerate(zip(g_h, t_h)):
        _close(a, b, f"second gradient of input {wrt[k]}")
    return "second"


def _grads(lib, outs, wrt, cots, order):
    gs = [lib.tensor(c) for c in cots]
    try:
        return list(lib.autograd.grad(outs, wrt, gs, allow_unused=True,
                                      create_graph=order >= 2))
    except Exception as e:  # noqa: BLE001 - compared with the other library's
        return e


def _second(lib, firsts, wrt, v):
    terms = [(g * lib.tensor(w)).sum() for g, w in zip(firsts, v)
             if g is not None and g.requires_grad]
    if not terms:
        return [np.zeros(tuple(x.shape)) for x in wrt]
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    hs = lib.autograd.grad(total, wrt, allow_unused=True)
    return [np.zeros(tuple(x.shape)) if h is None else _np(h) for h, x in zip(hs, wrt)]


def seeds(n, xfails=None):
    """``range(n)`` as pytest params, the seeds in ``xfails`` (seed -> reason) strictly xfailed."""
    xfails = xfails or {}
    return [pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=xfails[s]))
            if s in xfails else s for s in range(n)]


def maybe_transposed(seed, inputs, fn, p=0.25):
    """The program with its first input (a float array) given as a transposed view of an array
    of the reversed shape, for about ``p`` of the seeds (drawn apart from the program's own
    numbers, so the program is otherwise the same)."""
    first = inputs[0].value
    if not isinstance(first, np.ndarray) or first.ndim < 2 or first.dtype.kind != "f" or \
            np.random.default_rng(seed + 10**6).random() >= p:
        return inputs, fn
    back = tuple(reversed(range(first.ndim)))
    inputs = [Arg(np.ascontiguousarray(first.transpose(back)), inputs[0].requires_grad)] + \
        list(inputs[1:])

    def transposed(lib, F, x, *rest):
        return fn(lib, F, x.permute(*back), *rest)
    return inputs, transposed
