"""``weight_norm`` and ``spectral_norm`` (``orthogonal``: its own module) as
``torch.nn.utils.parametrizations``'s: modules registered with
``parametrize.register_parametrization``, their forward composed of ops (so every order of
derivative follows), their originals and buffers under PyTorch's names
(``parametrizations.weight.original0`` = g, ``original1`` = v; ``_u``, ``_v``)."""

from ... import creation
from ... import ops as O
from ...grad_mode import no_grad
from .. import functional as F
from ..module import Module
from . import parametrize
from .orthogonal import orthogonal  # noqa: F401 (PyTorch's third parametrization)

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim`` (kept, size 1 elsewhere); over all of
    ``v`` for ``dim == -1``."""
    if dim == -1:  # (PyTorch's sentinel: -1 is "no dim", not the last one)
        return O.norm(v)
    n = max(v.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    dim = dim + v.ndim if dim < 0 else dim
    dims = [d for d in range(v.ndim) if d != dim]
    return O.sqrt(O.sum(v * v, dim=dims, keepdim=True)) if dims else O.abs(v)


def weight_matrix(weight, dim):
    """``weight`` as the matrix spectral normalisation takes the norm of: ``dim`` first, the
    other dims flattened."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)  # (a 1-D weight: one column)


def output_dim(module, dim):
    """Spectral normalisation's ``dim``: the given one, else the output dim (1 for transposed
    convolutions, 0 otherwise)."""
    from ..conv_layers import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d

    if dim is not None:
        return dim
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """``module.<name> = g * v / ||v||`` (the norm over every dim but ``dim``; all of them for
    ``dim=None`` or -1, as in PyTorch), ``g`` and ``v`` trained in its place."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_older_keys(module, state_dict, prefix, *args):  # (``nn.utils.weight_norm``'s)
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)

    module.register_load_state_dict_pre_hook(load_older_keys)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError("Dimension out of range (expected to be in range of "
                             f"[-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            mat = weight_matrix(weight, self.dim)
            h, w = mat.shape
            u = creation.randn(h, dtype=weight.dtype, device=weight.device)
            v = creation.randn(w, dtype=weight.dtype, device=weight.device)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(mat, 15)

    def _power_method(self, mat, iterations):
        """``_u``, ``_v`` (updated in place, without history) towards the top singular pair."""
        with no_grad():
            mat = mat.detach()
            for _ in range(iterations):
                self._u.copy_(F.normalize(O.mv(mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(O.mv(mat.T, self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = weight_matrix(weight, self.dim)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = O.dot(u, O.mv(mat, v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """``module.<name>`` divided by its largest singular value, estimated by
    ``n_power_iterations`` of power iteration per training forward (``dim``: the output dim,
    1 for transposed convolutions)."""
    weight = getattr(module, name, None)
    if weight is None or not hasattr(weight, "ndim"):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    parametrize.register_parametrization(
        module, name, _SpectralNorm(weight, n_power_iterations, output_dim(module, dim), eps))
    return module
