"""The compiled sweep's on-disk cache: concurrent first compiles do not corrupt it."""

import os
import subprocess
import sys

import pytest

SCRIPT = (
    "import tapegrad as tg\n"
    "x = tg.tensor([0.5, 2.0], requires_grad=True)\n"
    "(tg.sin(x) * x ** 3).sum().backward()\n"
    "print(repr(x.grad.tolist()))\n"
)


@pytest.mark.slow
def test_concurrent_cold_compiles_share_one_cache(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}  # empty: both processes compile
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
        assert "tapegrad: compiling the reverse sweep" in err  # the user is told, once
    # a third process loads what the two wrote and still gets the right answer, silently
    third = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                           text=True, timeout=300)
    assert third.returncode == 0, third.stderr[-2000:]
    assert "compiling" not in third.stderr
    assert outs[0][0] == outs[1][0] == third.stdout
    assert any(tmp_path.rglob("*.nbi")), "nothing was cached"


@pytest.mark.slow
def test_quiet_hides_the_first_compile_notice(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path), "TAPEGRAD_QUIET": "1"}
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "compiling" not in run.stderr
