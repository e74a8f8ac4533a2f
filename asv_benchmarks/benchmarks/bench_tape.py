"""Recording overhead and tape memory."""

import numpy as np


class Recording:
    params = [[1_000, 100_000]]
    param_names = ["n_ops"]

    def setup(self, n_ops):
        import tapegrad as tg

        self.tg = tg
        self.x = tg.tensor(0.5, requires_grad=True)
        self.v = tg.tensor(np.ones(8), requires_grad=True)

    def time_record_scalar_mul(self, n_ops):
        y = self.x
        for _ in range(n_ops):
            y = y * 1.0000001

    def time_record_vector_mul(self, n_ops):
        y = self.v
        for _ in range(n_ops // 10):
            y = y * 1.0000001

    def track_bytes_per_record(self, n_ops):
        y = self.x
        for _ in range(n_ops):
            y = y * 1.0000001
        seg = y._seg
        return seg.nbytes() / seg.n

    track_bytes_per_record.unit = "bytes"

    def peakmem_record_1e5_ops(self, n_ops):
        y = self.x
        for _ in range(100_000):
            y = y * 1.0000001
