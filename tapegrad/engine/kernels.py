"""Which compiled sweep a segment gets, imported (and compiled or loaded from Numba's cache) on
first use: ``sweep``, ``vsweep`` (arrays) or ``esweep`` (a first scalar gradient); see
``kernel``. The kernels themselves are generated (``_sweep_dispatch.py``)."""

import sys

import numpy as np

from .. import _config, tape
from ..registry import PYTHON_BASE

# vectorised (or "elementwise", see ``kernel``) -> the dispatcher (Numba compiles it once per
# arena dtype); also (that key, arena dtype number) -> the dispatcher once its first compile
# was announced
_kernels = {}
_announced = set()  # (vectorised or "elementwise", arena dtype) whose first compile was checked
_F64 = np.dtype(np.float64)


def kernel(vectorised=False, dtype=_F64, recs=None):
    """The compiled sweep, imported (and compiled or loaded from cache) on first use:
    ``sweep``, or with ``vectorised`` ``vsweep``, the same loop with vectorised loops for the
    commonest derivative formulas (faster on arrays, ~1-1.5 s more to compile once). Numba
    compiles each for the arena's ``dtype`` (float64 or float32) when first called with it.

    Given the records to sweep (``recs``), the plain loop may be ``esweep``, the loop without
    the strided and indexed maps (~0.3 s less to compile): chosen by the first plain sweep of a
    process (for ``dtype``) when ``sweep`` is not in Numba's on-disk cache and ``recs`` hold no
    such map (the first gradient of a scalar program), and kept until a sweep meets a map,
    where ``Sweep.run`` carries on with ``sweep`` (from then on the only plain loop).
    """
    vectorised = bool(vectorised)  # a NumPy bool compares slowly in the key below
    dtype = np.dtype(dtype)
    ready = _kernels.get((vectorised, dtype.num))
    if ready is not None:  # the common case: a set lookup with a dtype in the key costs ~2 µs
        return ready
    if recs is not None and not vectorised:
        ready = _kernels.get(("elementwise", dtype.num))
        if ready is not None:  # esweep until a map turns up (then sweep, for good)
            return ready
        if _without_maps(recs, dtype):
            return _load("elementwise", dtype)
    return _load(vectorised, dtype)


def _load(which, dtype):
    """The dispatcher ``which`` (False: ``sweep``, True: ``vsweep``, "elementwise":
    ``esweep``), saying on stderr when its first call for ``dtype`` will compile it."""
    ready = _kernels.get((which, dtype.num))
    if ready is not None:
        return ready
    k = _kernels.get(which)
    if k is None:
        k = _kernels[which] = getattr(_dispatch(), _KERNEL_NAMES[which])
    if (which, dtype) not in _announced:
        name = np.dtype(dtype).name
        if not _config.QUIET and not _cached(k, name):
            what = "the reverse sweep" + _KERNEL_USES[which]
            if name != "float64":
                what += f" in {name}"
            print(f"tapegrad: compiling {what} for this machine, once (a few seconds; "
                  "`python -m tapegrad.warmup` does it ahead of time, TAPEGRAD_QUIET=1 hides "
                  "this line)", file=sys.stderr, flush=True)
        _announced.add((which, dtype))
    _kernels[which, dtype.num] = k
    return k


_KERNEL_NAMES = {False: "sweep", True: "vsweep", "elementwise": "esweep"}
_KERNEL_USES = {False: "", True: " for arrays", "elementwise": " of elementwise ops"}


def _dispatch():
    """The generated module of the kernels, checked against the op registry."""
    from . import _gen_dispatch, _sweep_dispatch

    if _sweep_dispatch.RULES_HASH != _gen_dispatch.rules_hash():
        raise RuntimeError("tapegrad/engine/_sweep_dispatch.py is out of date with the op "
                           "registry: run `python -m tapegrad.engine._gen_dispatch`")
    if not _LEFT:
        table = np.zeros(PYTHON_BASE, np.bool_)
        table[list(_sweep_dispatch.LEFT_TO_SWEEP)] = True
        _LEFT.append(table)
    return _sweep_dispatch


_LEFT = []  # [the table of ``_left``]
_SWEEP_ON_DISK = {}  # dtype number -> whether Numba's cache held ``sweep`` for it at first look


def _without_maps(recs, dtype):
    """Whether ``esweep`` should sweep ``recs``, the first plain sweep of the process: ``sweep``
    for ``dtype`` is not on disk and no record of ``recs`` is a map ``esweep`` leaves to it."""
    on_disk = _SWEEP_ON_DISK.get(dtype.num)
    if on_disk is None:
        on_disk = _SWEEP_ON_DISK[dtype.num] = _cached(_dispatch().sweep, dtype.name)
    if on_disk:
        return False
    codes = recs[:, tape.OP] & tape.CODE_MASK
    return not _left()[np.minimum(codes, PYTHON_BASE - 1)].any()


def _left():
    """Per op code below PYTHON_BASE, whether ``esweep`` leaves its records to ``sweep``."""
    if not _LEFT:
        _dispatch()
    return _LEFT[0]


def _cached(dispatcher, dtype):
    """Whether Numba's on-disk cache holds ``dispatcher`` compiled for an arena of ``dtype``
    (best effort: Numba has no public API for it; True when unsure, so nothing is printed
    wrongly). The index maps (signature, target) to files; argument 2 is the arena."""
    try:
        index = dispatcher._cache._cache_file._load_index()
        return any(str(key[0][2]).startswith(f"array({dtype}") for key in index)
    except Exception:  # noqa: BLE001 (a Numba internal moved: say nothing)
        return True


def is_elementwise(k):
    """Whether ``k`` is ``esweep``, which returns at the maps it leaves to ``sweep``."""
    return k is _kernels.get("elementwise")


def leaves(code):
    """Whether ``esweep`` leaves the records of op ``code`` (below PYTHON_BASE) to ``sweep``."""
    return bool(_left()[code])
