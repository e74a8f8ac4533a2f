"""Environment flags, read once at import. Nothing else in tapegrad reads os.environ."""

import os

# Records per tape segment before a fresh segment starts (bounds arena sizes and lets old
# segments be freed by reference counting; see tape.py).
SEGMENT_CAP = int(os.environ.get("TAPEGRAD_SEGMENT_CAP", 1 << 18))

# Numba's on-disk cache for the compiled sweep. On by default; TAPEGRAD_NUMBA_CACHE=0 turns it
# off (e.g. for processes that must not touch the package folder).
NUMBA_CACHE = os.environ.get("TAPEGRAD_NUMBA_CACHE", "1") != "0"
