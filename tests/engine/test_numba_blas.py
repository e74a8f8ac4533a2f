"""A first gradient does not import SciPy's linear algebra (Numba's import-time BLAS check is
answered from the file system), and Numba's BLAS still works in the same process."""

import os
import subprocess
import sys

import pytest

SCRIPT = """
import sys
import numpy as np
import tapegrad as tg
from tapegrad import _numba_blas

x = tg.tensor(2.0, requires_grad=True)
(tg.sin(x) * x ** 3).backward()
assert abs(x.grad.item() - (np.cos(2.0) * 8 + np.sin(2.0) * 12)) < 1e-12
print("linalg after gradient:", "scipy.linalg" in sys.modules,
      "arraymath:", "numba.np.arraymath" in sys.modules)

import numba
from numba.np import arraymath
print("have blas:", arraymath._HAVE_BLAS, "ships:", _numba_blas.ships_cython_blas())

if _numba_blas.ships_cython_blas():
    @numba.njit
    def products(a, b, m):
        return np.dot(a, b), np.vdot(a, b), m @ a

    a, b = np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 4.0])
    m = np.arange(9.0).reshape(3, 3)
    d, v, mv = products(a, b, m)
    assert d == v == np.dot(a, b) and np.array_equal(mv, m @ a)
    print("linalg after BLAS:", "scipy.linalg" in sys.modules)
"""


def _run(tmp_path):
    # an empty cache: the first gradient compiles, so Numba imports its array functions
    env = {**os.environ, "TAPEGRAD_QUIET": "1", "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.splitlines()


@pytest.mark.slow
def test_first_gradient_leaves_scipy_linalg_unimported_and_blas_working(tmp_path):
    out = _run(tmp_path)
    assert out[0] == "linalg after gradient: False arraymath: True"
    have, ships = out[1].split("have blas: ")[1].split(" ships: ")
    assert have == ships  # Numba's flag says what its own import would have found
    if ships == "True":  # a function calling BLAS compiles, imports SciPy and is right
        assert out[2] == "linalg after BLAS: True"


def test_import_time_check_is_answered_only_while_arraymath_imports(monkeypatch):
    """Outside the import of Numba's array functions the wrapped check is Numba's own."""
    pytest.importorskip("numba")
    from tapegrad import _numba_blas

    class FakeLinalg:
        calls = []

        @staticmethod
        def ensure_blas():
            FakeLinalg.calls.append(1)

    class Importing:  # a module object before its body has set _HAVE_BLAS
        pass

    linalg = FakeLinalg()
    _numba_blas._answer_import_time_check(linalg)
    monkeypatch.setattr(_numba_blas, "ships_cython_blas", lambda: True)
    monkeypatch.setitem(sys.modules, "numba.np.arraymath", Importing())
    linalg.ensure_blas()
    assert FakeLinalg.calls == []  # answered from the file system
    monkeypatch.setattr(_numba_blas, "ships_cython_blas", lambda: False)
    linalg.ensure_blas()
    assert FakeLinalg.calls == [1]  # nothing on disk: Numba's check decides
    done = Importing()
    done._HAVE_BLAS = True
    monkeypatch.setattr(_numba_blas, "ships_cython_blas", lambda: True)
    monkeypatch.setitem(sys.modules, "numba.np.arraymath", done)
    linalg.ensure_blas()
    assert FakeLinalg.calls == [1, 1]  # later checks (compiling np.dot) are Numba's
    _numba_blas._answer_import_time_check(linalg)  # wrapping twice changes nothing
    linalg.ensure_blas()
    assert FakeLinalg.calls == [1, 1, 1]
