"""Keep glibc's malloc from returning freed array memory to the system after every step.

glibc serves requests above its mmap threshold (128 KiB at start) with fresh pages and trims
the top of its heap whenever more than twice that lies free there; it raises both thresholds
only after a mapped block is freed, up to 32 MiB. A process whose arrays are 0.1-1 MB
(checkpointed segments, mid-sized layers) can stay below that point for good, and then every
forward and backward pays a page fault per 4 KiB it writes again: a 100-layer network
checkpointed every ten layers took 1150 page faults and 25-35% longer per backward than with
these settings. tapegrad therefore sets, once at import, the values glibc itself settles on
after freeing one 32 MiB array (mmap threshold 32 MiB, trim threshold 64 MiB: at most 64 MiB
of freed memory stays with the process). Nothing happens off glibc, when the environment
already configures malloc (``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``,
``GLIBC_TUNABLES``), or with ``TAPEGRAD_MALLOC_TUNING=0``.
"""

import os
import sys

from . import _config

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_MMAP_THRESHOLD = 32 << 20
_TRIM_THRESHOLD = 64 << 20


def tune():
    """Set the thresholds above (once per process; returns whether they were set)."""
    if not _config.MALLOC_TUNING or not sys.platform.startswith("linux"):
        return False
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):  # (musl and others: not glibc)
            return False
        import ctypes

        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
                    and libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    except (OSError, ValueError, AttributeError):
        return False


tuned = tune()
