"""Who read a batched tensor's values inside ``vmap`` (from the exception's traceback): the
user's code (PyTorch's error) or a tapegrad function that reads its inputs' values (it then
runs once per example, with the warning naming it)."""

import os

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the package


def read_by_tapegrad(tb):
    """Whether the frame that read a batched value into Python (``.numpy()``, ``.item()``,
    ``bool()``) is tapegrad's own code, a function that reads its values (it runs per example
    then), rather than the user's."""
    here = _HERE
    func_dir = os.path.join(here, "func") + os.sep
    reader = None
    while tb is not None:
        path = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not path.startswith(func_dir):
            reader = path
        tb = tb.tb_next
    return reader is not None and reader.startswith(here + os.sep)


def raw_op_name(tb):
    """The tapegrad function that read a batched tensor's value (for the warning)."""
    here = _HERE
    name = None
    while tb is not None:
        code = tb.tb_frame.f_code
        path = os.path.abspath(code.co_filename)
        if path.startswith(here) and os.sep + "func" + os.sep not in path[len(here):]:
            loc = tb.tb_frame.f_locals  # (a wrapper's frame: the name it was made for)
            name = loc.get("name") if code.co_name == "fn" else getattr(
                loc.get("fn"), "__name__", None) if code.co_name == "run" else code.co_name
            break
        tb = tb.tb_next
    return name or "an op"


def _below_user(tb):
    """The traceback's tapegrad frames below the user's last one (none without one)."""
    here = _HERE + os.sep
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    users = [i for i, f in enumerate(frames)
             if not os.path.abspath(f.f_code.co_filename).startswith(here)]
    return frames[users[-1] + 1:] if users else []


_INPLACE_CALLS = (os.path.join("ops", "inplace.py"), os.path.join("ops", "__init__.py"),
                  os.path.join("torch_names", "methods.py"),
                  os.path.join("ops", "index_put_nodes.py"),  # (x[key] = v: named as PyTorch's)
                  os.path.join("ops", "clamp_inplace.py"))


def inplace_into_unbatched(tb, batched_type, level=1):
    """Whether the user's code called an in-place method (``y.add_(v)``, ``y[i] = v``, ``y +=
    v``) of a tensor vmap does not map over with a batched operand: the tapegrad frames after
    the user's last one are an in-place method's, down to ``ops/inplace.py``, whose target
    ``x`` is not batched at vmap ``level`` (an outer vmap's tensor counts as unbatched)."""

    def unbatched(t):
        return type(t) is not batched_type or t._vmap_level < level

    here = _HERE + os.sep
    frames = _below_user(tb)
    if not frames:
        return False
    first = frames[0].f_code.co_name
    if first == "compare_into":  # (x.eq_(other): reading the batched other, before writing)
        return unbatched(frames[0].f_locals.get("self"))
    if not (first.endswith("_") or first in ("setitem", "fn", "method", "either")):
        return False
    for f in frames:
        rel = os.path.abspath(f.f_code.co_filename)[len(here):]
        if rel not in _INPLACE_CALLS:
            return False
        x = f.f_locals.get("x")
        if rel == _INPLACE_CALLS[0] and x is not None:
            return unbatched(x)
    return False


def mask_of_batched_values(tb, batched_type):
    """``'getitem'`` or ``'masked_select'`` where the user's code indexed or selected from a
    tensor vmap does not map over by a batched boolean mask (its result's shape would differ
    per example), else None."""
    for f in _below_user(tb):
        name, loc = f.f_code.co_name, f.f_locals
        if name == "run" and getattr(loc.get("fn"), "__name__", "") == "masked_select":
            name, args = "masked_select", loc.get("args") or ()  # (through on_host)
            loc = {"mask": args[1] if len(args) > 1 else (loc.get("kw") or {}).get("mask")}
        if name in ("getitem", "masked_select"):
            arg = loc.get("key" if name == "getitem" else "mask")
            for k in arg if isinstance(arg, tuple) else (arg,):
                if type(k) is batched_type and getattr(k.dtype, "kind", None) == "b":
                    return name
            return None
    return None


def inplace_refusal(tb, level, size):
    """PyTorch's error for the in-place write ``inplace_into_unbatched`` found."""
    from .inplace_refusal import message

    return message(_below_user(tb), level, size)
