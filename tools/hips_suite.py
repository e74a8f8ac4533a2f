"""Run HIPS autograd's NumPy test files against tapegrad and report the pass rate.

The tests are autograd's own, unchanged; only how they call the engine is adapted. A stand-in
``autograd`` package is put in ``sys.modules`` before pytest imports them:

* ``autograd.numpy`` is NumPy itself (tensors reach tapegrad through NumPy's protocols), plus
  the two helpers autograd's linalg tests borrow from it (``np.linalg._dot``, ``np.linalg.T``);
* ``autograd.test_util.check_grads(f, argnum, modes, order)`` runs ``tapegrad.autograd.
  gradcheck`` on the arguments made float64 tensors that require grad, and ``gradgradcheck``
  when ``order >= 2`` (reverse mode only: ``modes`` is read but forward mode is not checked);
* ``autograd.grad``, ``value_and_grad`` and ``autograd.tuple`` map to tapegrad's gradient.

A test "reaches tapegrad" when it calls one of these. Every failure is classified by its cause
(first line of the error, NumPy function names kept), so the report lists what to fix.

Usage (the tests come from a checkout of github.com/HIPS/autograd):
    git -C AUTOGRAD_REPO archive HEAD tests | tar -x -C /tmp/hips
    PYTHONPATH=. python tools/hips_suite.py /tmp/hips/tests [test_numpy.py ...] [--json out]
"""

import argparse
import builtins
import collections
import json
import os
import re
import signal
import sys
import types

import numpy as np

import tapegrad as tg
from tapegrad.autograd.gradcheck import GradcheckError

DEFAULT_FILES = ["test_numpy.py", "test_linalg.py", "test_systematic.py", "test_scalar_ops.py",
                 "test_binary_ops.py", "test_truediv.py", "test_fft.py"]
TEST_SECONDS = 120


class GradientDropped(TypeError):
    """A differentiated function returned something that is not a tensor."""


_reached = [False]


# ---- arguments and results ----------------------------------------------------------------------

def _to_leaves(x, leaves):
    """``x`` with each float (array) replaced by a float64 tensor that requires grad."""
    if isinstance(x, tg.Tensor):
        leaves.append(x)
        return x
    if isinstance(x, (builtins.tuple, builtins.list)):
        return type(x)(_to_leaves(v, leaves) for v in x)
    if isinstance(x, builtins.dict):
        return {k: _to_leaves(v, leaves) for k, v in x.items()}
    a = np.asarray(x)
    if a.dtype.kind not in "fiuc":
        return x
    t = tg.tensor(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64),
                  requires_grad=True)
    leaves.append(t)
    return t


def _rebuild(template, it):
    if isinstance(template, tg.Tensor):
        return next(it)
    if isinstance(template, (builtins.tuple, builtins.list)):
        return type(template)(_rebuild(v, it) for v in template)
    if isinstance(template, builtins.dict):
        return {k: _rebuild(v, it) for k, v in template.items()}
    return template


def _flat_outputs(out, acc):
    if isinstance(out, tg.Tensor):
        acc.append(out)
    elif isinstance(out, (builtins.tuple, builtins.list)):
        for v in out:
            _flat_outputs(v, acc)
    elif isinstance(out, builtins.dict):
        for v in out.values():
            _flat_outputs(v, acc)
    else:
        raise GradientDropped(f"the function returned {type(out).__name__}, not a tensor: "
                              "the gradient was dropped on the way")
    return acc


def _numpy(x):
    if isinstance(x, tg.Tensor):
        return x.detach().numpy()
    if isinstance(x, (builtins.tuple, builtins.list)):
        return type(x)(_numpy(v) for v in x)
    return x


# ---- the stand-in autograd API -------------------------------------------------------------------

def check_grads(f, argnum=0, modes=None, order=2):
    """autograd's ``check_grads``: gradcheck (and gradgradcheck) w.r.t. ``args[argnum]``."""

    def checker(*args, **kwargs):
        _reached[0] = True
        argnums = (argnum,) if isinstance(argnum, int) else builtins.tuple(argnum)
        args = builtins.list(args)
        leaves, templates = [], {}
        for i in argnums:
            templates[i] = _to_leaves(args[i], leaves)

        def g(*ts):
            it = iter(ts)
            a = builtins.list(args)
            for i in argnums:
                a[i] = _rebuild(templates[i], it)
            return builtins.tuple(_flat_outputs(f(*a, **kwargs), []))

        try:
            outs = g(*leaves)
        except GradientDropped:
            outs = None
        if outs is None or not any(o.requires_grad for o in outs):
            _check_constant(f, args, argnums, kwargs)
            return
        tg.autograd.gradcheck(g, builtins.tuple(leaves))
        if order >= 2:
            tg.autograd.gradgradcheck(g, builtins.tuple(leaves))

    return checker


def _check_constant(f, args, argnums, kwargs, eps=1e-6):
    """A result without gradient is right only if it does not depend on the arguments
    (autograd's zero gradient); a finite-difference step along a random direction in each
    argument must not move it."""

    def values(shift):
        a = builtins.list(args)
        rng = np.random.default_rng(0)  # the same direction for +eps and -eps
        for i in argnums:
            a[i] = _shifted(a[i], shift, rng)
        out = f(*a, **kwargs)
        return [_real_coords(_numpy(v)) for v in
                (out if isinstance(out, (builtins.tuple, builtins.list)) else [out])]

    for p, m in zip(values(eps), values(-eps)):
        if not np.allclose(p, m, rtol=0, atol=1e-9, equal_nan=True):
            raise GradientDropped("a result that depends on the arguments came back without "
                                  "gradient: it was dropped")


def _real_coords(v):
    a = np.asarray(v)
    return np.concatenate([a.real.ravel(), a.imag.ravel()]).astype(float) if \
        a.dtype.kind == "c" else a.astype(float)


def _shifted(x, shift, rng):
    if isinstance(x, (builtins.tuple, builtins.list)):
        return type(x)(_shifted(v, shift, rng) for v in x)
    a = np.asarray(x)
    return x if a.dtype.kind not in "fc" else a + shift * rng.standard_normal(a.shape)


def _grad_value(fun, argnum, args, kwargs):
    _reached[0] = True
    args = builtins.list(args)
    outer = isinstance(args[argnum], tg.Tensor)  # grad of grad: keep the graph
    if outer:
        x = args[argnum]
    else:
        a = np.asarray(args[argnum])
        x = tg.tensor(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64),
                      requires_grad=True)
    args[argnum] = x
    y = fun(*args, **kwargs)
    if not isinstance(y, tg.Tensor):
        raise GradientDropped(f"the function returned {type(y).__name__}, not a tensor")
    if not y.requires_grad:  # a constant result (a comparison, say): autograd gives zeros
        return (y, tg.zeros_like(x)) if outer else (_numpy(y), np.zeros(np.shape(x._data)))
    (gx,) = tg.autograd.grad(y, x, create_graph=outer, allow_unused=True)
    gx = tg.zeros_like(x) if gx is None else gx
    return (y, gx) if outer else (_numpy(y), _numpy(gx))


def grad(fun, argnum=0):
    return lambda *args, **kwargs: _grad_value(fun, argnum, args, kwargs)[1]


def value_and_grad(fun, argnum=0):
    return lambda *args, **kwargs: _grad_value(fun, argnum, args, kwargs)


def combo_check(fun, *args, **kwargs):
    import itertools

    def _combo_check(*arg_lists, **kwarg_lists):
        pairs = [[(k, x) for x in xs] for k, xs in kwarg_lists.items()]
        for a in itertools.product(*arg_lists):
            for kw in itertools.product(*pairs):
                check_grads(fun, *args, **kwargs)(*a, **builtins.dict(kw))

    return _combo_check


def install_autograd_shim():
    """Put the stand-in ``autograd`` modules into ``sys.modules``."""
    ag = types.ModuleType("autograd")
    ag.grad, ag.value_and_grad = grad, value_and_grad
    ag.tuple, ag.list, ag.dict = builtins.tuple, builtins.list, builtins.dict

    class NumpyProxy(types.ModuleType):
        def __getattr__(self, name):
            return getattr(np, name)

    anp = NumpyProxy("autograd.numpy")
    alin = types.ModuleType("autograd.numpy.linalg")
    for k in dir(np.linalg):
        setattr(alin, k, getattr(np.linalg, k))
    alin._dot = np.matmul
    alin.T = lambda A: np.swapaxes(A, -1, -2)
    anp.linalg, anp.random, anp.fft = alin, np.random, np.fft
    tu = types.ModuleType("autograd.test_util")
    tu.check_grads, tu.combo_check = check_grads, combo_check
    ag.numpy, ag.test_util = anp, tu
    sys.modules.update({"autograd": ag, "autograd.numpy": anp, "autograd.numpy.linalg": alin,
                        "autograd.numpy.random": np.random, "autograd.numpy.fft": np.fft,
                        "autograd.test_util": tu})


# ---- running and classifying ---------------------------------------------------------------------

def cause(excinfo):
    """A short, groupable description of why a test failed."""
    e = excinfo.value
    msg = str(e).strip().splitlines()[0] if str(e).strip() else ""
    if "complex" in msg.lower():
        return "complex: " + re.sub(r"\d+(\.\d+)?", "N", msg)[:80]
    m = re.search(r"does not implement (numpy\.[\w.]+)( with [^;]+)?", msg)
    if m:
        return f"not implemented: {m.group(1)}{m.group(2) or ''}"
    if isinstance(e, GradcheckError):
        return "wrong gradient: " + msg[:70]
    if isinstance(e, GradientDropped):
        return "gradient dropped: " + msg[:70]
    msg = re.sub(r"\d+(\.\d+)?", "N", msg)
    return f"{type(e).__name__}: {msg[:90]}"


class Recorder:
    """pytest plugin: outcome, reached flag and cause of each test."""

    def __init__(self):
        self.results = {}

    def _timeout(self, signum, frame):
        raise TimeoutError(f"test ran over {TEST_SECONDS} s")

    def pytest_runtest_setup(self, item):
        _reached[0] = False
        signal.signal(signal.SIGALRM, self._timeout)
        signal.alarm(TEST_SECONDS)

    def pytest_runtest_teardown(self, item):
        signal.alarm(0)

    def pytest_runtest_makereport(self, item, call):
        if call.when != "call":
            return
        r = {"reached": _reached[0], "passed": call.excinfo is None}
        if call.excinfo is not None:
            r["cause"] = cause(call.excinfo)
            r["reached"] = r["reached"] or "tapegrad" in str(call.excinfo.value)
        self.results[item.nodeid] = r


def main():
    import pytest

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("tests_dir")
    p.add_argument("files", nargs="*")
    p.add_argument("--json", help="write the per-test results here")
    p.add_argument("--tb", default="no", help="pytest's traceback style (short, long, no)")
    p.add_argument("-k", default=None, help="pytest's -k expression")
    a = p.parse_args()
    install_autograd_shim()
    files = a.files or DEFAULT_FILES
    rec = Recorder()
    os.chdir(a.tests_dir)
    ini = os.path.join(a.tests_dir, "_hips_pytest.ini")
    with open(ini, "w") as fh:
        fh.write("[pytest]\nfilterwarnings = ignore\n")
    pytest.main(["-q", "-p", "no:cacheprovider", "-c", ini, "--rootdir", a.tests_dir,
                 "-o", "console_output_style=classic", f"--tb={a.tb}", *(["-k", a.k] if a.k else []),
                 *files], plugins=[rec])
    report(rec.results, files)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rec.results, fh, indent=1, sort_keys=True)


def report(results, files):
    print("\n== HIPS autograd tests on tapegrad ==")
    tot_r = tot_p = 0
    for f in files:
        rs = [r for k, r in results.items() if k.split("::")[0] == f]
        reached = [r for r in rs if r["reached"]]
        passed = sum(r["passed"] for r in reached)
        tot_r += len(reached)
        tot_p += passed
        print(f"{f:22s} tests {len(rs):4d}  reach tapegrad {len(reached):4d}  "
              f"pass {passed:4d}")
    print(f"{'all':22s} reach tapegrad {tot_r}  pass {tot_p}  "
          f"({100.0 * tot_p / max(tot_r, 1):.0f}%)")
    nc = [r for r in results.values() if r["reached"] and
          r.get("cause", "").startswith("complex")]
    real = tot_r - len(nc)
    print(f"without the tests that stop at complex numbers: {tot_p} of {real} "
          f"({100.0 * tot_p / max(real, 1):.0f}%)")
    causes = collections.Counter(r["cause"] for r in results.values()
                                 if r["reached"] and not r["passed"])
    print("\nfailure causes (tests):")
    for c, n in causes.most_common():
        print(f"  {n:4d}  {c}")
    unreached = [k for k, r in results.items() if not r["reached"]]
    if unreached:
        print("\nnot reaching tapegrad:", ", ".join(k.split("::")[1] for k in unreached))


if __name__ == "__main__":
    main()
