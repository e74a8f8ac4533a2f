"""User-facing start-up: cold compile of the sweep, and import + first gradient (cache warm)."""

import tempfile

from .common import run_subprocess_seconds

FIRST_GRADIENT = (
    "import tapegrad as tg\n"
    "x = tg.tensor(2.0, requires_grad=True)\n"
    "(tg.sin(x) * x ** 3).backward()\n"
)


class Startup:
    timeout = 600
    number = 1
    repeat = 1

    def track_cold_first_gradient_seconds(self):
        with tempfile.TemporaryDirectory() as cache:
            return run_subprocess_seconds(FIRST_GRADIENT, {"NUMBA_CACHE_DIR": cache})

    track_cold_first_gradient_seconds.unit = "seconds"

    def track_warm_import_and_first_gradient_seconds(self):
        run_subprocess_seconds(FIRST_GRADIENT)  # make sure the default cache is filled
        return run_subprocess_seconds(FIRST_GRADIENT, repeat=5)

    track_warm_import_and_first_gradient_seconds.unit = "seconds"

    def track_import_seconds(self):
        return run_subprocess_seconds("import tapegrad", repeat=5)

    track_import_seconds.unit = "seconds"
