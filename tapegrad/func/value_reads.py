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
            name = tb.tb_frame.f_locals.get("name") if code.co_name == "fn" else code.co_name
            break
        tb = tb.tb_next
    return name or "an op"
