"""PyTorch's refusal of a convolution weight of another rank than the convolution's: its
``_convolution`` reads the spatial dims from the weight, so the words depend on the arguments
(a stride of the convolution's length that the weight's rank does not match, or the input's
rank)."""


def check_weight_rank(nd, x, w, stride, padding, dilation, output_padding=None):
    """The arguments as given (``output_padding``: a transposed convolution's; the others'
    is 0)."""
    if w.ndim == nd + 2:
        return
    args = (("stride", stride), ("padding", padding), ("dilation", dilation),
            ("output_padding", 0 if output_padding is None else output_padding))
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    k = w.ndim - 2
    for name, v in args if not isinstance(padding, str) else ():  # (padding='same': none)
        vals = [int(v)] * nd if isinstance(v, int) else [int(a) for a in v]
        if len(vals) not in (1, k):
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {k} "
                               f"values to match the convolution dimensions, but got "
                               f"{name}={vals}")
    space = "" if isinstance(padding, str) else " "
    raise RuntimeError(f"Expected {k + 2}-dimensional input for {k + 2}-dimensional "
                       f"weight{space}{list(w.shape)}, but got {x.ndim}-dimensional input of "
                       f"size {list(x.shape)} instead")
