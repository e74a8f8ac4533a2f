"""Environment flags, read once at import. Nothing else in tapegrad reads os.environ."""

import os

# Records per tape segment before a fresh segment starts (bounds arena sizes and lets old
# segments be freed by reference counting; see tape.py).
SEGMENT_CAP = int(os.environ.get("TAPEGRAD_SEGMENT_CAP", 1 << 18))

# The first gradient on a machine compiles the sweep (a few seconds); tapegrad says so in one
# line on stderr unless TAPEGRAD_QUIET is set to anything but "" or "0".
QUIET = os.environ.get("TAPEGRAD_QUIET", "") not in ("", "0")

# The compiled sweep is cached by Numba in the user cache folder (NUMBA_CACHE_DIR chooses another
# place), keyed by the content of the compiled sources, not the install path (_numba_cache.py).

# glibc's malloc thresholds are set at import (_malloc.py) unless TAPEGRAD_MALLOC_TUNING=0 or
# the environment configures malloc itself.
MALLOC_TUNING = os.environ.get("TAPEGRAD_MALLOC_TUNING", "1") != "0" and not any(
    name in os.environ
    for name in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"))
