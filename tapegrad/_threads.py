"""``tg.set_num_threads``/``tg.get_num_threads``: the thread count of the BLAS NumPy loaded.

tapegrad's own kernels (Numba, compiled without ``parallel``) and its NumPy ufunc loops run on
one thread each; what runs on several is the BLAS/LAPACK library behind NumPy (matmul, solves,
decompositions, einsum's contractions), and SciPy's when SciPy is loaded. So these functions
set and read that library's thread pool: through ``threadpoolctl`` when it is importable (it
knows OpenBLAS, MKL and BLIS), else through OpenBLAS's own exported functions, found in the
libraries this process has loaded (``/proc/self/maps``, Linux).
"""

import operator
import os
import warnings

# OpenBLAS's thread-count functions under the names its builds export (scipy-openblas, the
# wheels' build, with and without the 64-bit-integer suffix; a system OpenBLAS)
_SUFFIXES = ("64_", "")
_PREFIXES = ("scipy_openblas_", "openblas_")
_OPENBLAS_SET = tuple(p + "set_num_threads" + s for p in _PREFIXES for s in _SUFFIXES)
_OPENBLAS_GET = tuple(p + "get_num_threads" + s for p in _PREFIXES for s in _SUFFIXES)

_opened = {}  # path -> ctypes.CDLL (dlopen of a loaded library only takes a reference)


def _openblas_paths():
    """The OpenBLAS libraries loaded in this process, NumPy's own first."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:  # not Linux: nothing found here
        return []
    return sorted(paths, key=lambda p: ("numpy" not in p, p))


def _openblas_functions(names):
    """(path, function) for each loaded OpenBLAS exporting one of ``names``."""
    import ctypes

    found = []
    for path in _openblas_paths():
        lib = _opened.get(path)
        if lib is None:
            try:
                lib = _opened[path] = ctypes.CDLL(path)
            except OSError:
                continue
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                found.append((name, fn))
                break
    return found


def _threadpoolctl():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def _blas_entries(threadpoolctl):
    """threadpoolctl's BLAS entries, NumPy's own first."""
    info = [d for d in threadpoolctl.threadpool_info() if d.get("user_api") == "blas"]
    return sorted(info, key=lambda d: "numpy" not in d.get("filepath", ""))


def set_blas_threads(n):
    """Set the thread count of every loaded BLAS to ``n``; what did it (for a benchmark's
    table): "threadpoolctl", the OpenBLAS functions called, or "" when nothing could."""
    tpc = _threadpoolctl()
    if tpc is not None and _blas_entries(tpc):
        tpc.threadpool_limits(limits=n, user_api="blas")
        return "threadpoolctl"
    done = []
    for name, fn in _openblas_functions(_OPENBLAS_SET):
        fn(n)
        done.append(name)
    return ", ".join(done)


def blas_threads():
    """The thread count NumPy's BLAS reports, or None when no BLAS could be asked."""
    tpc = _threadpoolctl()
    if tpc is not None:
        entries = _blas_entries(tpc)
        if entries:
            return int(entries[0]["num_threads"])
    found = _openblas_functions(_OPENBLAS_GET)
    return int(found[0][1]()) if found else None


def set_num_threads(n, /):
    """Set the number of threads NumPy's BLAS uses (``torch.set_num_threads``).

    Controlled: the BLAS/LAPACK thread pool of NumPy (and of SciPy when it is loaded): matrix
    products, solves, decompositions, einsum's contractions. Not controlled: tapegrad's
    compiled kernels and NumPy's elementwise loops, which always run on one thread, and CUDA
    tensors. The BLAS is reached through ``threadpoolctl`` when it is installed, else through
    OpenBLAS's exported functions; with neither (another BLAS, no threadpoolctl) it warns and
    changes nothing.
    """
    if isinstance(n, bool) or not hasattr(type(n), "__index__"):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    n = operator.index(n)
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    if n >= 1 << 31:  # (a C int in the BLAS)
        raise ValueError("Overflow when unpacking long")
    if not set_blas_threads(n):
        warnings.warn("set_num_threads: no BLAS whose thread count can be set was found "
                      "(install threadpoolctl); the number of threads is unchanged",
                      stacklevel=2)


def get_num_threads():
    """The number of threads NumPy's BLAS uses (as it reports it), else the CPU count
    (``torch.get_num_threads``; see ``set_num_threads`` for what runs on them)."""
    n = blas_threads()
    return n if n is not None else (os.cpu_count() or 1)
