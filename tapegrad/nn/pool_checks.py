"""PyTorch's refusals of pooling arguments (a zero or negative kernel size, stride or dilation,
a negative padding), in its words: max_pool1d has words of its own, the others name the
spatial dims (``kT kH kW``; avg_pool1d is PyTorch's 2-D pooling of height 1)."""


def check_pool_args(nd, kernel, stride, padding, dilation, name):
    if name == "max_pool1d":
        for what, v, least in (("kernel_size", kernel, 1), ("stride", stride, 1),
                               ("padding", padding, 0), ("dilation", dilation, 1)):
            if v[0] < least:
                raise RuntimeError(f"max_pool1d() {what} must be "
                                   f"{'non-negative' if least == 0 else 'greater than zero'}, "
                                   f"but got {v[0]}")
        return
    if 0 in stride:
        raise RuntimeError("stride should not be zero")
    if min(padding) < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(padding)}")
    dims = "THW"[3 - nd:] if nd > 1 else "HW"

    def got(letter, v):
        v = (1,) * (len(dims) - len(v)) + tuple(v)
        return " ".join(f"{letter}{d}: {n}" for d, n in zip(dims, v))

    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got {got('k', kernel)}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got {got('d', stride)}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got "
                           f"{got('dilation', dilation)}")


def check_adaptive_size(nd, shape, out, name):
    """An adaptive pool's output size ``out`` for an input of ``shape``: no negative size (the
    1-d pools are PyTorch's 2-d ones of height 1, hence the 1 in their words)."""
    if min(out, default=0) >= 0:
        return
    one = (1,) * (nd == 1)
    if name.startswith("adaptive_avg"):
        shown = ", ".join(str(o) for o in one + tuple(out))
        if nd == 3:  # (PyTorch's words lack a space there)
            shown = "{}, {},{}".format(*out)
        raise RuntimeError(f"adaptive_avg_pool{max(nd, 2)}d: elements of output_size must be "
                           f"greater than or equal to 0 but received {{{shown}}}")
    full = list(shape[:len(shape) - nd]) + list(one + tuple(out))
    raise RuntimeError(f"Trying to create tensor with negative dimension {min(out)}: {full}")


def check_dim_range(x, lo, hi, name):
    """PyTorch's ``checkDimRange``: ``x`` has ``lo`` to ``hi`` dims."""
    if not lo <= x.ndim <= hi:
        raise RuntimeError(f"Expected {lo} to {hi} dimensions, but got {x.ndim}-dimensional "
                           f"tensor for argument #1 'self' (while checking arguments for {name})")


def check_pool_rank(x, name):
    """PyTorch's words for a pool's input of the wrong rank (the convolutions have the
    'Expected 3D (unbatched) or 4D (batched) input' of their own; max_pool1d with indices is
    ``check_dim_range``'s)."""
    nd = int(name[-2])
    if x.ndim in (nd + 1, nd + 2):
        return
    if name == "avg_pool1d":
        check_dim_range(x, 2, 3, name)
    if name == "max_pool1d":
        raise RuntimeError("max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 "
                           f"dim batch size for input, but got:{list(x.shape)}")
    if nd == 3:
        raise RuntimeError("non-empty 4D or 5D (batch mode) tensor expected for input")
    if name == "max_pool2d":
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if name == "avg_pool2d" and x.ndim < 3:  # (it reads size(-3) first)
        raise IndexError(f"Dimension out of range (expected to be in range of "
                         f"[{-max(x.ndim, 1)}, {max(x.ndim, 1) - 1}], but got -3)")
    if name == "avg_pool2d":
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size "
                           f"for input, but got:{list(x.shape)}")


def check_pool_padding(nd, kernel, padding, dilation):
    """Padding at most half the dilated window, dim by dim (PyTorch's output-size check), then
    at most half the window itself (its 2-d shape check)."""
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation={d}")
    for k, p in zip(kernel, padding):
        if p * 2 > k and nd == 2:
            raise RuntimeError(f"pad should be smaller than or equal to half of kernel size, but "
                               f"got padW = {padding[1]}, padH = {padding[0]}, kW = {kernel[1]}, "
                               f"kH = {kernel[0]}")
        if p * 2 > k:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                               f"pad={p}, kernel_size={k} and dilation=1")


def adaptive_output_size(nd, x, output_size, name):
    """An adaptive pool's output size for input ``x`` (a None keeps the input's size), after
    PyTorch's checks, in its order: 2 or 3 input dims for the 1-d pools (whose size takes no
    None); for the others, a size given as a sequence needs more input dims than it has
    entries, the max pools check the rank before the size, and an average pool to size 1 (a
    mean over the last ``nd`` dims) takes any rank."""
    seq = isinstance(output_size, (tuple, list))
    if nd == 1 and seq and None in output_size:
        raise TypeError(f"{name}(): argument 'output_size' (position 2) must be tuple of ints, "
                        f"but found element of type NoneType at pos {output_size.index(None)}")
    if nd == 1:
        check_dim_range(x, 2, 3, name)
    elif seq and x.ndim <= len(output_size):
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    avg = name[9:12] == "avg"
    if x.ndim not in (nd + 1, nd + 2) and not avg:
        raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: "
                           f"{list(x.shape)}")
    sizes = x.shape[x.ndim - nd:] if x.ndim >= nd else (None,) * nd
    out = tuple(n if o is None else int(o) for o, n in
                zip(output_size if seq else (output_size,) * nd, sizes))
    check_adaptive_size(nd, x.shape, out, name)
    if x.ndim in (nd + 1, nd + 2) or nd > 1 and set(out) == {1}:
        return out
    raise RuntimeError(f"{name}(): Expected {nd + 1}D or {nd + 2}D tensor, but got "
                       f"{list(x.shape)}")
