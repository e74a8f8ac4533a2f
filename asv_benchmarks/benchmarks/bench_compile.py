"""User-facing start-up: cold compile of the sweep, and import + first gradient (cache warm)."""

import tempfile

from .common import run_subprocess_seconds

FIRST_GRADIENT = (
    "import tapegrad as tg\n"
    "x = tg.tensor(2.0, requires_grad=True)\n"
    "(tg.sin(x) * x ** 3).backward()\n"
)


def as_installed():
    """The environment of a process started as an installed tapegrad starts: its modules'
    bytecode compiled (pip does it at install; a run of an editable install writes it), which
    an environment with PYTHONDONTWRITEBYTECODE set (some CI runners and sandboxes) would
    otherwise make every process recompile: ~0.2-0.3 s of each start timed here."""
    import compileall
    import os

    import tapegrad

    compileall.compile_dir(os.path.dirname(tapegrad.__file__), quiet=1)
    return {"PYTHONDONTWRITEBYTECODE": ""}


def cold_first_gradient_seconds(repeat=1):
    """Import + first gradient with an empty Numba cache (the first gradient ever)."""
    times = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as cache:
            times.append(run_subprocess_seconds(FIRST_GRADIENT,
                                                {**as_installed(), "NUMBA_CACHE_DIR": cache}))
    return sorted(times)[len(times) // 2]


def warm_first_gradient_seconds(repeat=5):
    """Import + first gradient with Numba's cache filled (the default cache, filled first)."""
    env = as_installed()
    run_subprocess_seconds(FIRST_GRADIENT, env)
    return run_subprocess_seconds(FIRST_GRADIENT, env, repeat=repeat)


class Startup:
    timeout = 600
    number = 1
    repeat = 1

    def track_cold_first_gradient_seconds(self):
        return cold_first_gradient_seconds()

    track_cold_first_gradient_seconds.unit = "seconds"

    def track_warm_import_and_first_gradient_seconds(self):
        return warm_first_gradient_seconds()

    track_warm_import_and_first_gradient_seconds.unit = "seconds"

    def track_import_seconds(self):
        return run_subprocess_seconds("import tapegrad", as_installed(), repeat=5)

    track_import_seconds.unit = "seconds"
