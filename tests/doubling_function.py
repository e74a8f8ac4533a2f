"""A custom autograd.Function computing ``2 * x`` in the functorch style (``forward`` without
ctx plus ``setup_context``), shared by the tests of custom Functions under transforms: each test
varies only what the forward does besides doubling and which optional rules the class has."""


def doubling_function(lib, on_forward=None, *, jvp=False, vmap=None, generate_vmap_rule=False):
    """``lib.autograd.Function`` subclass with backward ``2 g``; ``on_forward(x)`` runs inside
    the forward (a side effect to count or a backward to nest), ``jvp`` adds the tangent rule
    ``2 t``, ``vmap`` is installed as the class's vmap staticmethod."""

    class Double(lib.autograd.Function):
        @staticmethod
        def forward(x):
            if on_forward is not None:
                on_forward(x)
            return x * 2

        @staticmethod
        def setup_context(ctx, inputs, output):
            pass

        @staticmethod
        def backward(ctx, g):
            return g * 2

    Double.generate_vmap_rule = generate_vmap_rule
    if jvp:
        Double.jvp = staticmethod(lambda ctx, t: t * 2)
    if vmap is not None:
        Double.vmap = staticmethod(vmap)
    return Double
