"""In-place safety: PyTorch's error when a value saved for backward was modified."""

from .. import tape


def version_error(opdef, seg, rec, stamp):
    """The error for record ``rec`` whose saved value is at a newer version than it saved."""
    counter, saved_version = stamp
    node = opdef.grad_fn.replace("Backward0", "").replace("Backward1", "")
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [tapegrad.Tensor], which is output 0 of {node}, is at version "
        f"{counter[0]}; expected version {saved_version} instead. Hint: enable anomaly "
        "detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True).")


def check_python_record(seg, rec, entry):
    for stamp in entry.stamps or ():
        if stamp is not None and stamp[0][0] != stamp[1]:
            from ..ops import REGISTRY

            code = int(seg.records()[rec, tape.OP]) & tape.CODE_MASK
            raise version_error(REGISTRY[code], seg, rec, stamp)
