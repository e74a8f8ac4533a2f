"""Numba's BLAS probe answered without importing SciPy, so a warm start does not pay for SciPy.

When Numba loads or compiles its first kernel in a process it imports its array functions
(``numba.np.arraymath``), which check once that BLAS is available by importing
``scipy.linalg.cython_blas``: that imports all of ``scipy.linalg``, ~0.2 s, a fifth of a warm
``import tapegrad`` + first gradient, although no tapegrad kernel calls BLAS. Here that one
import-time check is answered from the file system (whether the installed SciPy ships the
``cython_blas`` extension). Every later check is Numba's own: compiling a function that calls
BLAS (``np.dot``, ``np.linalg``) imports SciPy and checks its BLAS integer width as before, and
compiled BLAS calls import SciPy's functions on their first call.

The check is replaced the moment ``numba.np.linalg`` has been imported (Numba's own import order
is kept); if Numba's array functions were imported already, or Numba's internals moved,
nothing changes.
"""

import importlib.machinery
import importlib.util
import os
import sys

_LINALG = "numba.np.linalg"
_ARRAYMATH = "numba.np.arraymath"


def ships_cython_blas():
    """Whether the installed SciPy has ``scipy.linalg.cython_blas`` (found, not imported)."""
    spec = importlib.util.find_spec("scipy")  # a top-level package: nothing is imported
    if spec is None or not spec.submodule_search_locations:
        return False
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for base in spec.submodule_search_locations:
        try:
            names = os.listdir(os.path.join(base, "linalg"))
        except OSError:
            continue
        if any(n.startswith("cython_blas.") and n.endswith(suffixes) for n in names):
            return True
    return False


def _answer_import_time_check(linalg):
    """Wrap ``linalg.ensure_blas`` so that the call made while ``numba.np.arraymath`` is being
    imported (it sets ``_HAVE_BLAS`` from it) looks at the file system; any other call runs
    Numba's check."""
    check = getattr(linalg, "ensure_blas", None)
    if check is None or getattr(check, "_tapegrad_wrapped", False):
        return

    def ensure_blas():
        arraymath = sys.modules.get(_ARRAYMATH)
        importing = arraymath is not None and not hasattr(arraymath, "_HAVE_BLAS")
        if importing and ships_cython_blas():
            return None
        return check()

    ensure_blas.__doc__ = check.__doc__
    ensure_blas._tapegrad_wrapped = True
    linalg.ensure_blas = ensure_blas


class _OnImport:
    """A meta path finder that only watches for ``numba.np.linalg``: it lets the normal finder
    locate the module and wraps its check right after the module has run."""

    def find_spec(self, name, path=None, target=None):
        if name != _LINALG:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        loader = getattr(spec, "loader", None)
        run = getattr(loader, "exec_module", None)
        if run is None:
            return None

        def exec_module(module):
            run(module)
            _uninstall()
            _answer_import_time_check(module)

        loader.exec_module = exec_module
        return spec


_FINDER = _OnImport()


def _uninstall():
    try:
        sys.meta_path.remove(_FINDER)
    except ValueError:
        pass


def install():
    """Arrange for the import-time check to be answered cheaply (idempotent)."""
    if _ARRAYMATH in sys.modules:  # Numba's array functions are loaded: the check has run
        return
    linalg = sys.modules.get(_LINALG)
    if linalg is not None:
        _answer_import_time_check(linalg)
    elif _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


install()
