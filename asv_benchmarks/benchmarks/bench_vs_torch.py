"""The performance-target workloads: tapegrad and PyTorch timed in the same process (ratios)."""

from .common import torch_or_skip
from .workloads import WORKLOADS


class Workloads:
    params = [list(WORKLOADS), ["tapegrad", "torch"]]
    param_names = ["workload", "library"]
    timeout = 300
    number = 1
    repeat = (3, 7, 60.0)

    def setup(self, workload, library):
        if library == "torch":
            torch_or_skip().set_num_threads(1)
        self.run = WORKLOADS[workload](library)
        self.run()  # compile / warm caches outside the timing

    def time_workload(self, workload, library):
        self.run()
