"""Shape algebra shared by the ops: broadcasting, dims, C strides (pure Python, no tape)."""

import numpy as np

from .._bounded_cache import bounded_cache
from ..size import int_sizes
from ..tensor import norm_dim  # one definition, at the bottom layer; the ops import it from here


_TORCH_DTYPE = {"float64": "Double", "float32": "Float", "float16": "Half", "int64": "Long",
                "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                "bool": "Bool", "complex128": "ComplexDouble", "complex64": "ComplexFloat"}


def torch_dtype_name(dt):
    """PyTorch's name of a dtype in its messages (``Long``, ``Double``, ...)."""
    return _TORCH_DTYPE.get(str(dt), str(dt))


def broadcast_shapes(sa, sb):
    """NumPy broadcasting of two shapes, failing with PyTorch's message."""
    if sa == sb:
        return tuple(sa)
    n = max(len(sa), len(sb))
    pa = (1,) * (n - len(sa)) + tuple(sa)
    pb = (1,) * (n - len(sb)) + tuple(sb)
    out = []
    for i in range(n - 1, -1, -1):  # from the last dim, so the mismatch named is PyTorch's
        p, q = pa[i], pb[i]
        if p == q or q == 1:
            out.append(p)
        elif p == 1:
            out.append(q)
        else:
            raise RuntimeError(f"The size of tensor a ({p}) must match the size of tensor b "
                               f"({q}) at non-singleton dimension {i}")
    return tuple(reversed(out))


def bool_matmul_error(xs, ys):
    """PyTorch's refusal of a product of bool operands of shapes ``xs`` and ``ys`` (which
    multiply), named by the kernel its matmul reaches; None where PyTorch returns without one
    (an empty result or an empty sum), except for two vectors, whose dot always refuses."""
    nx, ny = len(xs), len(ys)
    if nx == 1 and ny == 1:
        kernel = "dot"
    elif size_of(xs[:-1]) * size_of(ys[:-2] + ys[-1:]) == 0 or xs[-1] == 0:
        return None
    else:
        kernel = "bmm" if ny > 2 else "addmv_impl_cpu" if ny == 1 else "addmm_impl_cpu_"
    return bool_kernel_error(kernel)


def bool_kernel_error(kernel):
    """PyTorch's refusal of bool operands by its product kernel ``kernel`` ("dot", "bmm"...)."""
    error = NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    error.numpy_computes = True  # (is_refusal: NumPy's functions on tensors compute NumPy's)
    return error


def vector_folds(vec_requires_grad, y):
    """Whether PyTorch's matmul of a vector and the >= 3-D array ``y`` folds ``y.mT`` into one
    matrix (an mv) rather than running bmm: when the vector requires grad, ``y`` is empty, or
    ``y.mT``'s batch dims are laid out as one (its ``should_fold``)."""
    if vec_requires_grad or y.size == 0:
        return True
    shape = y.shape[:-2] + (y.shape[-1], y.shape[-2])
    st = [k // y.itemsize for k in y.strides]
    st = st[:-2] + [st[-1], st[-2]]
    return all(st[i] == st[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def matmul_error(xs, ys, folds=False):
    """PyTorch's error for ``x @ y`` of shapes ``xs`` and ``ys`` (both at least 1-D) that do
    not multiply: it names the operands as its kernel saw them (a batch of matrices times a
    matrix or vector folded into one matrix; batches broadcast first, then compared as bmm's).
    ``folds``: a vector ``x`` meets a >= 3-D ``y`` that PyTorch folds (``vector_folds``): mv's
    error, ``y.mT`` as one matrix."""
    nx, ny = len(xs), len(ys)
    if nx == 1 and ny > 2 and folds:
        rows = size_of(ys[:-2]) * ys[-1]
        return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{ys[-2]}), "
                            f"vec ({xs[0]})")
    if nx == 1 and ny == 1:
        return RuntimeError(f"inconsistent tensor size, expected tensor [{xs[0]}] and src "
                            f"[{ys[0]}] to have the same number of elements, but got {xs[0]} "
                            f"and {ys[0]} elements respectively")
    if ny <= 2:
        rows = size_of(xs[:-1])  # (the batch of a >= 3-D x folded into its rows)
        if ny == 1:
            return RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{xs[-1]}), "
                                f"vec ({ys[0]})")
        return RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{xs[-1]} and "
                            f"{ys[0]}x{ys[1]})")
    batch = broadcast_shapes(xs[:-2], ys[:-2])  # (its own message where they do not)
    b = size_of(batch)
    return RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                        f"[{b}, {xs[-1]}] but got: [{b}, {ys[-2]}].")


def check_reduced_dim(prefix, shape, d, shown=None):
    """PyTorch's IndexError for a reduction along the non-negative dim ``d`` of ``shape`` where
    it has no elements (``prefix``: ``"median():"``); ``shown``: the dim as the message gives
    it, if not ``d`` (amax's, as the caller wrote it)."""
    if shape and shape[d] == 0:
        raise IndexError(f"{prefix} Expected reduction dim {d if shown is None else shown} to "
                         "have non-zero size.")


def ambiguous_shape(shape):
    """PyTorch's words for a -1 in ``shape`` beside a 0, for a tensor of no elements."""
    return (f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
            "unspecified dimension size -1 can be any value and is ambiguous")


def expand_error(xs, shape, dtype=None):
    """PyTorch's error for expanding shape ``xs`` to ``shape`` (the first mismatch from the
    right, as PyTorch reports it)."""
    lead = len(shape) - len(xs)
    if lead < 0:
        name = f"tapegrad.{torch_dtype_name(dtype)}Tensor" if dtype is not None else "Tensor"
        return RuntimeError(f"expand({name}{{{list(xs)}}}, size={list(shape)}): the number of "
                            f"sizes provided ({len(shape)}) must be greater or equal to the "
                            f"number of dimensions in the tensor ({len(xs)})")
    for i in reversed(range(len(xs))):
        have, want = xs[i], shape[lead + i]
        if have != want and have != 1:
            return RuntimeError(f"The expanded size of the tensor ({want}) must match the "
                                f"existing size ({have}) at non-singleton dimension {lead + i}."
                                f"  Target sizes: {list(shape)}.  Tensor sizes: {list(xs)}")
    return None


def keep_sizes(xs, shape, lead):
    """``shape`` with each -1 replaced by the size it stands against (``lead`` dims before
    those of ``xs``), as PyTorch's expand; a negative size left gets PyTorch's error."""
    out = tuple(xs[k - lead] if s == -1 and k >= lead else s for k, s in enumerate(shape))
    if out and min(out) < 0:
        k = next(k for k, s in enumerate(out) if s < 0)
        if k < lead:
            raise RuntimeError(f"The expanded size of the tensor ({out[k]}) isn't allowed in a "
                               f"leading, non-existing dimension {k}")
        if xs[k - lead] == 1:  # (against another size: expand_error's words)
            raise RuntimeError(f"Trying to create tensor with negative dimension {out[k]}: "
                               f"{list(shape)}")
    return out


def strided_ints(shape, strides, offset):
    """A strided map's record parameters ``(nd, *shape, *strides, offset)``, with the dims
    merged that one stride covers (``strides[k] == strides[k + 1] * shape[k + 1]``) and the
    size-1 dims dropped: the same index map in C order, in longer contiguous runs for the
    sweep's inner loop (a (1000, 25, 10) broadcast of a (25, 10) operand is 1000 runs of 250,
    not 25000 runs of 10)."""
    dims = []
    for n, s in zip(shape, strides):
        if n == 1:
            continue
        if dims and dims[-1][1] == s * n:
            dims[-1] = (dims[-1][0] * n, s)
        else:
            dims.append((n, s))
    if not dims and shape:
        dims = [(1, 0)]
    return (len(dims), *[n for n, _ in dims], *[s for _, s in dims], offset)


def c_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= s
    return tuple(reversed(strides))


def norm_dims(dim, ndim):
    """``dim`` (None, int or sequence) as a sorted tuple of non-negative axes; a 0-d
    tensor's dims (0 and -1, checked) are no axis of its array."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        d = norm_dim(int(dim), ndim)  # (checked also for a 0-d tensor)
        return (d,) if ndim else ()
    dims = [norm_dim(int(d), ndim) for d in dim]
    if len(set(dims)) != len(dims):
        d = next(d for d in dims if dims.count(d) > 1)
        raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return tuple(sorted(dims)) if ndim else ()


def size_of(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def flat_shape(args, name="reshape", arg="shape"):
    """``reshape(2, 3)`` and ``reshape((2, 3))`` both mean (2, 3); a size that is not an
    integer (a float) gets PyTorch's TypeError, never truncated."""
    return int_sizes(name, args, arg)


def missing_dims():
    """``x.permute()``: PyTorch's TypeError (an empty ``dims`` must be given, ``permute(())``)."""
    raise TypeError('permute() missing 1 required positional arguments: "dims"')


def permutation(in_shape, dims):
    """``(axes, shape, strided-gather parameters)`` of ``permute(x, *dims)`` for an input of
    ``in_shape``, checked as PyTorch does; kept in ``permutations`` for the next call with the
    same arguments (a hashable ``dims``)."""
    axes = flat_shape(dims, "permute", "dims")
    nd = len(in_shape)
    if len(axes) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does "
                           f"not match the length of the desired ordering of dimensions i.e. "
                           f"input.dim() = {nd} is not equal to len(dims) = {len(axes)}")
    axes = tuple(norm_dim(d, nd) for d in axes)
    if sorted(axes) != list(range(nd)):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    cs = c_strides(in_shape)
    shape = tuple(in_shape[d] for d in axes)
    plan = axes, shape, (nd, *shape, *(cs[d] for d in axes), 0)
    try:
        _keep_permutation((in_shape, dims), plan)
    except TypeError:  # (dims given as a list)
        pass
    return plan


permutations, _keep_permutation = bounded_cache(4096)  # (input shape, dims as given) -> plan
