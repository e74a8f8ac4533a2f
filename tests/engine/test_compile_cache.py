"""The compiled sweep's on-disk cache: concurrent first compiles do not corrupt it, and a second
install of the same package at another path loads it instead of compiling again."""

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
