"""``linalg.lstsq``'s argument checks, in PyTorch's order and words, and its batch shapes.

PyTorch takes ``B`` with as many dimensions as ``A`` (a batch of matrices) or one fewer: a
(batch of) vector(s) when ``B.shape == A.shape[:-1]`` or ``B`` is 1-D, else a matrix with one
batch dimension fewer, whose solution PyTorch lays out over the batch shape of ``A`` broadcast
with ``B.shape[:-1]`` (its matrix rows counted as a batch dimension), the solution of the
broadcast ``A`` and ``B`` repeated over it.
"""

from .shapes import broadcast_shapes


def check(A, B):
    """PyTorch's checks of ``lstsq(A, B)``'s shapes; returns ``(vector, batch)``:
    whether ``B`` is a (batch of) vector(s), and the solution's batch shape where it is not
    the broadcast of the two batch shapes (else None)."""
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    # (mixed float32/float64 operands compute in float64, where PyTorch raises: documented)
    diff = A.ndim - B.ndim
    if not 0 <= diff <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to "
                           "other.dim() and (input.dim() - other.dim()) <= 1")
    vec = B.ndim == 1 or (diff == 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if A.shape[-2] != B.shape[-1 if vec else -2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match "
                           f"other.size({-1 if vec else -2})")
    if vec or diff == 0:
        return vec, None
    laid = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1]))
    solved = broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    both = broadcast_shapes(laid, solved)
    if both != laid:
        tail = [A.shape[-2], B.shape[-1]]
        raise RuntimeError(f"output with shape {list(laid) + tail} doesn't match the broadcast "
                           f"shape {list(both) + tail}")
    return vec, laid
