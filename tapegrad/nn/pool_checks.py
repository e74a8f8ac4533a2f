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
