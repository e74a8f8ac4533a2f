"""CUDA tests run on numba-cuda's simulator (``NUMBA_ENABLE_CUDASIM=1``) unless told otherwise.

The switch must be on before ``numba.cuda`` is imported, so it is set here, at collection;
numba.cuda is imported at once and the environment restored, so that subprocesses of other
tests (examples, import checks) do not inherit it. With a GPU, run these tests on the device
with ``NUMBA_ENABLE_CUDASIM=0 pytest tests/cuda``. Without numba-cuda the module is skipped
(an optional dependency: ``pip install 'tapegrad[cuda]'``).
"""

import importlib.util
import os
import sys

HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None

if HAS_NUMBA_CUDA and "numba.cuda" not in sys.modules:
    _before = os.environ.get("NUMBA_ENABLE_CUDASIM")
    if _before is None:
        os.environ["NUMBA_ENABLE_CUDASIM"] = "1"
    try:
        from numba.core import config

        config.reload_config()
        import numba.cuda  # noqa: F401  (the simulator, from now on, in this process)
    finally:
        if _before is None:
            del os.environ["NUMBA_ENABLE_CUDASIM"]
