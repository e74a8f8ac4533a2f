"""PyTorch's refusals of float16 by its CPU linear-algebra kernels.

Most CPU LAPACK-backed functions refuse half precision from the dispatcher, naming the kernel
(``NotImplementedError: "linalg_svd_cpu" not implemented for 'Half'``); a few check first
with words of their own (``linalg.matrix_norm``'s spectral orders: "Low precision dtypes not
supported", ``lstsq``/``matrix_rank``: float and double only). Norms of entries (vector
norms, Frobenius, 1 and inf matrix norms) compute in float16.
"""

import functools

import numpy as np

# the PyTorch CPU kernel behind each checked name (tapegrad's names of those checks)
_KERNELS = {
    "eigh": "linalg_eigh_cpu", "svd": "linalg_svd_cpu", "svdvals": "linalg_svd_cpu",
    "qr": "geqrf_cpu", "cholesky": "cholesky_cpu", "det": "lu_cpu", "solve": "lu_cpu",
    "solve_triangular": "triangular_solve_cpu", "eig": "linalg_eig_out_cpu",
    "householder_product": "orgqr_cpu",
}
_FLOAT_DOUBLE = ("lstsq", "matrix_rank")


def half_error(name):
    """The exception PyTorch raises for a float16 input to linalg function ``name``."""
    kernel = _KERNELS.get(name)
    if kernel is not None:
        return NotImplementedError(f'"{kernel}" not implemented for \'Half\'')
    if name in _FLOAT_DOUBLE:
        return RuntimeError("This function doesn't handle types other than float and double")
    return RuntimeError(f"linalg.{name}: Low precision dtypes not supported. Got Half")


def float32_for_half(refused=()):
    """A norm whose float16 input is computed in float32 and its result rounded to float16,
    as PyTorch's CPU norms accumulate half precision in float32 (a float16 sum of squares
    overflows past 65504); ``refused``: the orders (the second argument) PyTorch refuses in
    float16 (a matrix norm's singular values), left to the norm's own check."""
    def wrap(norm):
        @functools.wraps(norm)
        def fn(x, *args, **kwargs):
            if getattr(x, "dtype", None) != np.float16 or kwargs.get("dtype") is not None or \
                    (args[0] if args else kwargs.get("ord")) in refused:
                return norm(x, *args, **kwargs)
            return norm(x.to(np.float32), *args, **kwargs).to(np.float16)

        return fn

    return wrap
