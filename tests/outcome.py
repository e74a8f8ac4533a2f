"""``outcome``: what a call returns, or the error it raises, in a form two libraries share.

Tests that hold tapegrad to PyTorch's errors compare ``outcome(lambda: f(tg))`` with
``outcome(lambda: f(torch))``: the same exception type and words, or the same described result.
"""


def outcome(call, describe, first_line=False):
    """``describe(call())``, or ``(type name, message)`` when the call raises.

    ``first_line`` keeps only a message's first line (PyTorch appends C++ context to some).
    """
    try:
        result = call()
    except Exception as e:  # noqa: BLE001 (the error is the outcome compared)
        message = str(e)
        return type(e).__name__, message.split("\n")[0] if first_line else message
    return describe(result)


def dtype_name(t):
    """A tensor's dtype as both libraries can print it: ``float64``, ``int64``, ``bool``."""
    return str(t.dtype).replace("torch.", "")


def dtypes_and_shapes(results):
    """``[(dtype, shape), ...]`` of one tensor or a tuple of them."""
    results = results if isinstance(results, (tuple, list)) else (results,)
    return [(dtype_name(t), tuple(t.shape)) for t in results]
