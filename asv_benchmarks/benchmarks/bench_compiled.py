"""``tg.compile`` against tapegrad eager, PyTorch eager and JAX ``jit`` (same process).

Steady state: the first call (trace + code generation, or JAX's compile) runs in ``setup``;
``track_first_call`` measures it in a fresh process state of the workload.
"""

import time

from .common import torch_or_skip
from .compiled import COMPILED_WORKLOADS, LIBRARIES, make


class Compiled:
    params = [list(COMPILED_WORKLOADS), list(LIBRARIES)]
    param_names = ["workload", "library"]
    timeout = 600
    number = 1
    repeat = (3, 7, 60.0)

    def setup(self, workload, library):
        if library == "torch":
            torch_or_skip().set_num_threads(1)
        self.run = make(workload, library)
        if self.run is None:
            raise NotImplementedError(f"{library} cannot run {workload} here")
        self.run()  # trace / compile outside the timing

    def time_workload(self, workload, library):
        self.run()


class FirstCall:
    """Seconds of the first call: tg.compile's trace and code generation, JAX's compile."""

    params = [list(COMPILED_WORKLOADS), ["compiled", "jax"]]
    param_names = ["workload", "library"]
    timeout = 600
    unit = "seconds"

    def track_first_call(self, workload, library):
        run = make(workload, library)
        if run is None:
            raise NotImplementedError(f"{library} cannot run {workload} here")
        t0 = time.perf_counter()
        run()
        return time.perf_counter() - t0
