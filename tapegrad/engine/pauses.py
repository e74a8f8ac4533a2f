"""The interface through which a sweep calls back into the layer above it.

A sweep sees numbers only: records, offsets, an arena of adjoints. Some records need Python
that lives above the engine (tensor hooks, a custom ``Function.backward``, PyTorch's in-place
checks, which need tensor names and shapes). The engine never imports that layer: the autograd
layer hands every sweep an object with these methods, and the sweep calls them when it pauses.
The CPU sweep (``engine/sweep.py``) uses it today; a device sweep or a compiled replay pauses
through the same four calls.
"""


class Pauses:
    """What a sweep may ask of the layer above. Every method may run arbitrary user code,
    including another backward on the same segment (reentrancy): a sweep re-reads anything it
    holds by address after each call."""

    def hooks(self, seg, r, sweep):
        """Record ``r`` is flagged HOOKED and its adjoint is complete: run tensor hooks and
        ``retain_grad`` for the tensors it produced (a hook may replace the adjoint), and the
        hooks of its node. True: they also ran the record's VJP, adding into the adjoints of
        its inputs (``sweep.accumulate``), and the sweep passes over the record."""
        raise NotImplementedError

    def custom_vjp(self, sweep, r):
        """Record ``r`` is a custom Function: run its backward, accumulate into its inputs."""
        raise NotImplementedError

    def check_python_record(self, seg, r, entry):
        """Raise if an input that Python-kind record ``r`` saved was modified in place."""
        raise NotImplementedError

    def check_reached(self, seg, recs, reached):
        """Raise if any saved array of a ``reached`` record was modified in place."""
        raise NotImplementedError
