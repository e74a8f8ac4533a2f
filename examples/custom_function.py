"""A custom Function: your own forward and backward, checked, differentiated twice, then
given a forward-mode rule (``jvp``) and batched under ``vmap`` (``generate_vmap_rule``).

Run: python examples/custom_function.py
"""

import numpy as np

import tapegrad as tg


class SoftClip(tg.autograd.Function):
    """y = c * tanh(x / c): a smooth clip to (-c, c). Non-tensor argument ``c``."""

    @staticmethod
    def forward(ctx, x, c):
        y = c * tg.tanh(x / c)
        ctx.save_for_backward(y)
        ctx.c = c
        return y

    @staticmethod
    def backward(ctx, grad_out):
        (y,) = ctx.saved_tensors
        # dy/dx = 1 - (y/c)^2, written in tapegrad ops so it can be differentiated again
        return grad_out * (1 - (y / ctx.c) ** 2), None


x = tg.tensor(np.linspace(-3, 3, 7), requires_grad=True)
y = SoftClip.apply(x, 2.0)
print("y =", y)
y.sum().backward()
print("dy/dx =", x.grad)

assert tg.autograd.gradcheck(lambda t: SoftClip.apply(t, 2.0), (x,))
assert tg.autograd.gradgradcheck(lambda t: SoftClip.apply(t, 2.0), (x,))

# Second derivative through the custom backward (create_graph=True re-tapes its ops).
(g,) = tg.autograd.grad(SoftClip.apply(x, 2.0).sum(), x, create_graph=True)
(h,) = tg.autograd.grad(g.sum(), x)
xv = np.linspace(-3, 3, 7)
t = np.tanh(xv / 2.0)
assert np.allclose(h.numpy(), -(1 - t ** 2) * t)  # d2/dx2 of 2 tanh(x/2)
print("second derivative =", h, "(checked against the closed form)")


class SoftClipFwd(SoftClip):
    """The same Function, PyTorch 2 style, with a jvp for forward mode and a vmap rule."""

    generate_vmap_rule = True  # under vmap, forward and backward batch op by op

    @staticmethod
    def forward(x, c):
        return c * tg.tanh(x / c)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)  # what jvp reads as ctx.saved_tensors
        ctx.c = inputs[1]

    @staticmethod
    def jvp(ctx, x_t, c_t):  # c_t is None: c is not a tensor
        (y,) = ctx.saved_tensors
        return x_t * (1 - (y / ctx.c) ** 2)


_, jv = tg.func.jvp(lambda a: SoftClipFwd.apply(a, 2.0), (x.detach(),), (tg.ones(7),))
assert np.allclose(jv.numpy(), 1 - t ** 2)  # forward mode: the jvp staticmethod
batch = tg.tensor(np.linspace(-3, 3, 12).reshape(4, 3))
per_row = tg.vmap(tg.func.grad(lambda r: SoftClipFwd.apply(r, 2.0).sum()))(batch)
assert np.allclose(per_row.numpy(), 1 - np.tanh(batch.numpy() / 2.0) ** 2)
print("jvp =", jv, "and per-row gradients by vmap(grad):", per_row.shape)
