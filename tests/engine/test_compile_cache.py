"""The compiled sweep's on-disk cache: concurrent first compiles do not corrupt it, and a second
install of the same package at another path loads it instead of compiling again."""

import math
import os
import shutil
import subprocess
import sys

import pytest

import tapegrad

SCRIPT = (
    "import tapegrad as tg\n"
    "x = tg.tensor([0.5, 2.0], requires_grad=True)\n"
    "(tg.sin(x) * x ** 3).sum().backward()\n"
    "print(repr(x.grad.tolist()))\n"
)


@pytest.mark.slow
def test_concurrent_cold_compiles_share_one_cache(tmp_path):
    cache = tmp_path / "cache"
    # empty: both processes compile (and say so, whatever the caller's TAPEGRAD_QUIET)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "TAPEGRAD_QUIET": ""}
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        assert "tapegrad: compiling the reverse sweep" in err  # the user is told, once
    # a third process, running a copy of the package installed elsewhere (another clone, a new
    # virtualenv), loads what the two wrote and still gets the right answer, silently
    other = tmp_path / "elsewhere"
    shutil.copytree(os.path.dirname(tapegrad.__file__), other / "tapegrad",
                    ignore=shutil.ignore_patterns("__pycache__"))
    third = subprocess.run([sys.executable, "-c", SCRIPT + "print(tg.__file__)"],
                           env={**env, "PYTHONPATH": str(other)}, cwd=other,
                           capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "compiling" not in third.stderr
    assert third.stdout.splitlines()[-1].startswith(str(other))
    assert outs[0][0] == outs[1][0] == third.stdout.splitlines()[0] + "\n"
    assert any(cache.rglob("*.nbi")), "nothing was cached"


@pytest.mark.slow
def test_quiet_hides_the_first_compile_notice(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "TAPEGRAD_QUIET": "1"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "compiling" not in run.stderr


WARM_START = """
import sys
import numpy as np
import tapegrad as tg
from tapegrad.vecmath import kernels

x = tg.tensor(2.0, requires_grad=True)
(tg.sin(x) * x ** 3).backward()
idx = kernels.outside(np.array([0.5, 5.0, -3.0, np.nan]), -1.0, 1.0, 3)  # NRT: a new array
print(repr(x.grad.item()), idx.tolist(), "numba.np.arraymath" in sys.modules)
import other  # a cached function of another package loads as Numba loads it
print(other.total(np.arange(4.0)), sum(other.total.stats.cache_hits.values()),
      "numba.np.arraymath" in sys.modules)
import numba

@numba.njit
def new(a):  # compiled after the loads: Numba's compiler refreshes its context itself
    return np.sin(a).sum() + a @ a

print(new(np.arange(3.0)))
"""


@pytest.mark.slow
def test_warm_start_loads_kernels_without_numba_refresh(tmp_path):
    """tapegrad's cached kernels load without Numba's target-context refresh (which imports
    every typing and lowering implementation); they still run, also those that allocate
    arrays, and other packages' cached functions and new compiles work as before."""
    (tmp_path / "other.py").write_text("from numba import njit\n\n\n@njit(cache=True)\n"
                                       "def total(a):\n    return a.sum()\n")
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"), "TAPEGRAD_QUIET": "1",
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    runs = [subprocess.run([sys.executable, "-c", WARM_START], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=600) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
    grad = repr(math.cos(2.0) * 8 + math.sin(2.0) * 12)
    cold, warm = (run.stdout.splitlines() for run in runs)
    assert cold[0] == warm[0].replace("False", "True") == f"{grad} [1, 2, 3] True"
    assert warm[0] == f"{grad} [1, 2, 3] False"  # loaded, no refresh
    assert warm[1] == "6.0 1 True"  # the other package's function: loaded, with a refresh
    assert float(warm[2]) == pytest.approx(math.sin(1.0) + math.sin(2.0) + 5.0)
