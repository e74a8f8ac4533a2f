"""Where Numba caches tapegrad's compiled kernels: keyed by what the kernels are made of, not by
where the package is installed.

Numba's own locators file a cache under the source file's directory (``__pycache__`` beside the
package, or a folder named by a hash of that absolute path inside ``NUMBA_CACHE_DIR``), so a
second install of the same tapegrad (another clone, a fresh virtualenv) compiled everything
again: ~5 s before its first gradient. Here the cache of a kernel lives in
``<base>/tapegrad-<key>/<package subfolder>``, where ``base`` is ``NUMBA_CACHE_DIR`` when set,
else the user's cache folder, and ``key`` hashes the text of every package module that imports
Numba (a kernel compiled in one module inlines those it calls from others, and Numba checks
only its own file's content), Numba's bounds-check flag (other machine code) and the Python
and Numba versions. Identical compiled sources share one cache; any change in them starts
a new one. When that folder cannot be written, Numba's own locators take over as before.
"""

import hashlib
import os
import re
import sys

from numba import __version__ as _numba_version
from numba.core import caching, config

from . import _numba_blas  # noqa: F401 (a warm start without SciPy: Numba's BLAS check)

_PKG = os.path.dirname(os.path.abspath(__file__))
_IMPORTS_NUMBA = re.compile(rb"^\s*(?:import numba|from numba)", re.M)
_key = None


def sources_key():
    """Hash of the package's compiled sources and the settings that change their machine code
    (computed once per process: ~10 files read when the first kernel is loaded)."""
    global _key
    if _key is None:
        h = hashlib.sha256(f"{sys.version_info[:2]}|{_numba_version}|{config.BOUNDSCHECK}"
                           .encode())
        for root, dirs, files in os.walk(_PKG):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with open(path, "rb") as f:
                        text = f.read()
                    # the substring test first: the multi-line regex alone took ~12 ms
                    if b"numba" in text and _IMPORTS_NUMBA.search(text):
                        h.update(os.path.relpath(path, _PKG).encode() + b"\0" + text + b"\0")
        _key = h.hexdigest()[:20]
    return _key


def _base():
    if config.CACHE_DIR:
        return config.CACHE_DIR
    from numba.misc.appdirs import AppDirs

    return AppDirs(appname="tapegrad", appauthor=False).user_cache_dir


class PackageCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Numba cache locator for functions defined in tapegrad's own modules (see the module
    docstring); declines every other file."""

    def __init__(self, py_func, py_file):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        sub = os.path.relpath(os.path.dirname(os.path.abspath(py_file)), _PKG)
        self._cache_path = os.path.join(_base(), f"tapegrad-{sources_key()}",
                                        sub.replace(os.sep, "_"))

    def get_cache_path(self):
        return self._cache_path

    @classmethod
    def from_function(cls, py_func, py_file):
        if not os.path.abspath(py_file).startswith(_PKG + os.sep):
            return None
        return super().from_function(py_func, py_file)


def _load_without_refresh(load):
    """Numba's ``Cache.load_overload`` (``load``), except for tapegrad's own kernels: those
    load without refreshing the target context first.

    Before loading any cached function Numba "refreshes" its target context: it imports and
    registers every typing and lowering implementation it has (~100 modules, ~10^5 objects),
    which a compile needs and a load does not: loading links machine code that needs only
    Numba's runtime (NRT, initialised here) and the C helpers registered when the context is
    made. That refresh was ~0.3 s of a warm ``import tapegrad`` + first gradient, and tearing
    its objects down at exit more. A compile still refreshes (Numba's compiler does so itself),
    and functions from other packages load as Numba loads them."""
    from numba.core.runtime import nrt

    def load_overload(self, sig, target_context):
        impl = getattr(self, "_impl", None)
        if not isinstance(getattr(impl, "locator", None), PackageCacheLocator):
            return load(self, sig, target_context)
        nrt.rtsys.initialize(target_context)
        with self._guard_against_spurious_io_errors():
            return self._load_overload(sig, target_context)

    load_overload._tapegrad_load = load
    return load_overload


def install():
    """Put the locator first in Numba's list and load tapegrad's kernels without a context
    refresh (idempotent). Modules that compile kernels call this before their first
    ``njit(cache=True)``; if Numba's internals moved, Numba stays in charge as it is."""
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    classes = getattr(impl, "_locator_classes", None)  # (the class was private before 0.61)
    if not isinstance(classes, list):  # a Numba internal moved
        return
    if PackageCacheLocator not in classes:
        classes.insert(0, PackageCacheLocator)
    cache = getattr(caching, "Cache", None)
    load = getattr(cache, "load_overload", None)
    if load is None or hasattr(load, "_tapegrad_load"):
        return
    if all(hasattr(cache, name) for name in ("_guard_against_spurious_io_errors",
                                              "_load_overload")):
        cache.load_overload = _load_without_refresh(load)


install()
