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
    """An adaptive pool's output size ``out`` for an input of ``shape``: no negative size."""
    if min(out, default=0) >= 0:
        return
    if name.startswith("adaptive_avg"):  # (adaptive_avg_pool1d is PyTorch's 2-D one)
        shown = ", ".join(str(o) for o in (1,) * (nd == 1) + tuple(out))
        raise RuntimeError(f"adaptive_avg_pool{max(nd, 2)}d: elements of output_size must be "
                           f"greater than or equal to 0 but received {{{shown}}}")
    full = list(shape[:len(shape) - nd]) + list(out)
    raise RuntimeError(f"Trying to create tensor with negative dimension {min(out)}: {full}")


def check_pool_rank(x, name):
    """PyTorch's words for a 2-d pool's input of the wrong rank (the 1-d and 3-d pools, and the
    convolutions, have the 'Expected 3D (unbatched) or 4D (batched) input' of their own)."""
    if x.ndim in (3, 4):
        return
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
