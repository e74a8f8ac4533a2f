"""tapegrad: reverse-mode automatic differentiation of NumPy-style code on a flat tape.

Example:
    >>> import tapegrad as tg
    >>> x = tg.tensor(2.0, requires_grad=True)
    >>> y = tg.sin(x) * x ** 3
    >>> y.backward()
    >>> print(f"{x.grad.item():.6f}")  # (tg.round is torch.round)
    7.582394
"""

from . import _malloc  # noqa: F401 (first: malloc's thresholds, before any large array)
import sys as _sys
from . import _float_warnings  # noqa: F401 (IEEE results without NumPy's warnings)
from . import accelerator, autograd, cuda, fft, linalg, nn, numpy_dispatch, ops, optim
from . import backends  # (after cuda: its cuda module asks tg.cuda)
from . import torch_names  # binds its Tensor methods before vmap mirrors the Tensor class
from . import special, testing
from .special import i0, multigammaln as mvlgamma  # (torch's top-level names)
from .autograd import grad as _autograd_grad  # noqa: F401 (tg.grad is the transform)
from .autograd import is_anomaly_check_nan_enabled, is_anomaly_enabled  # (torch's names)
from .creation import (arange, as_tensor, bool, double, empty, empty_like, eye, float, float16,
                       float32, float64, from_numpy, full, full_like, get_default_dtype, half,
                       int8, int16, int32, int64, linspace, set_default_dtype, short, uint8,
                       long, manual_seed, ones, ones_like, rand, rand_like, randint, randn,
                       randn_like, tensor, zeros, zeros_like, get_rng_state, set_rng_state,
                       default_generator, initial_seed, seed)
from .windows import bartlett_window, blackman_window, hamming_window, hann_window, kaiser_window
from . import random  # (tg.random, like torch.random)
from ._threads import get_num_threads, set_num_threads
from .determinism import (are_deterministic_algorithms_enabled, get_deterministic_debug_mode,
                          is_deterministic_algorithms_warn_only_enabled,
                          set_deterministic_debug_mode, use_deterministic_algorithms)
from .size import Size
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                        no_grad, set_grad_enabled)
from .ops import (amax, amin, bmm, cat, chunk, concat, concatenate, cumsum, diagonal, einsum,
                  log_softmax, logsumexp, max, min, mm, mv, prod, softmax, split, stack,
                  std, trace, unbind, var)
from .ops import (abs, add, argmax, argmin, broadcast_to, clamp, cos, dot, eq, exp, expand,
                  expm1, flatten, flip, ge, gt, le, log, log1p, logical_and, logical_not,
                  logical_or, lt, matmul, maximum, mean, minimum, mul, ne, neg, outer, permute,
                  relu, reshape, sigmoid, sign, sin, sqrt, squeeze, sub, sum, tan, tanh,
                  transpose, unsqueeze, where)
from .ops import (acos, acosh, allclose, argsort, asin, asinh, atan, atan2, atanh,
                  broadcast_shapes, cosh, erf, erfc, gather, index_add, index_select, isclose,
                  isfinite, isinf, isnan, kthvalue, logcumsumexp, masked_fill, median,
                  nan_to_num, repeat_interleave, rsqrt, scatter, scatter_add, sinh, sort,
                  square, take_along_dim, topk, xlogy)
from .ops import angle, conj, imag, real
from .ops import _pow_named as pow  # (exponent=, PyTorch's keyword)
from .ops import complex_ as complex  # noqa: A001 (tg.complex(real, imag), like torch.complex)
from .creation import cdouble, cfloat, complex64, complex128
from .creation import (Generator, can_cast, finfo, iinfo, is_complex, is_floating_point, is_nonzero,
                       is_tensor, promote_types, result_type, scalar_tensor)
from . import func
from .func import grad, value_and_grad  # function transforms (tg.autograd.grad is PyTorch's)
from .func import custom_jvp, custom_vjp, hessian, jacfwd, jacrev, jvp, vjp, vmap
from . import utils
from .serialization import load, save
from .nn import swa_utils as _swa_utils

optim.swa_utils = _swa_utils  # (torch.optim.swa_utils; it lives in nn: see its docstring)
_sys.modules[__name__ + ".optim.swa_utils"] = _swa_utils


def _batch_aware_public_ops():
    """The public op functions made vmap-aware (plain calls go straight to the op)."""
    from .func.vmap import dispatching

    g = globals()
    for name in ("amax amin bmm cat chunk concat concatenate cumsum diagonal einsum "
                 "log_softmax logsumexp max min mm mv prod softmax split stack std trace "
                 "unbind var abs add argmax argmin broadcast_to clamp cos dot eq exp expand "
                 "expm1 flatten flip ge gt le log log1p logical_and logical_not logical_or lt "
                 "matmul maximum mean minimum mul ne neg outer permute pow relu reshape sigmoid "
                 "sign sin sqrt squeeze sub sum tan tanh transpose unsqueeze where").split():
        g[name] = dispatching(name, g[name])
    for name in ("acos acosh argsort asin asinh atan atan2 atanh cosh erf erfc gather index_add "
                 "index_select isclose isfinite isinf isnan kthvalue logcumsumexp masked_fill "
                 "median nan_to_num repeat_interleave rsqrt scatter scatter_add sinh sort square "
                 "take_along_dim topk xlogy angle conj imag real complex").split():
        g[name] = dispatching(name, g[name])
    nn.functional.erf = g["erf"]  # F.erf is tg.erf (one definition), batch-aware too
    for name in ("nll_loss", "cross_entropy", "grid_sample",  # (they read values: own rules)
                 "binary_cross_entropy", "embedding", "one_hot"):
        setattr(nn.functional, name, dispatching(name, getattr(nn.functional, name)))
    for name in ("cosine_similarity", "pairwise_distance", "pdist"):  # torch.* names too
        g[name] = dispatching(name, getattr(nn.functional, name))
    for name, f in torch_names.FUNCTIONS.items():  # tg.floor, tg.roll, tg.det, tg.unique, ...
        g.setdefault(name, dispatching(name, f))
    import types

    from .func.batched import RULES

    # the op namespace too, for the compositions that call ops through it (nn.functional's
    # activations and losses, the torch-named functions): under vmap they batch op by op;
    # and tg.linalg's and tg.fft's functions with a rule (registered as "linalg.<name>", ...)
    for name in RULES:
        mod, attr = (linalg, name[7:]) if name.startswith("linalg.") else \
            (fft, name[4:]) if name.startswith("fft.") else (ops, name)
        f = vars(mod).get(attr)
        if isinstance(f, types.FunctionType) and not getattr(f, "batch_aware", False):
            setattr(mod, attr, dispatching(name, f))
        # the torch-named elementwise functions too, which compositions call through their
        # module (tg.special.multigammaln its lgamma, ...)
        f = vars(torch_names.elementwise).get(name)
        if isinstance(f, types.FunctionType) and not getattr(f, "batch_aware", False):
            top = g.get(name)
            setattr(torch_names.elementwise, name,
                    top if getattr(top, "raw", None) is f else dispatching(name, f))
    # tg.special: a name it shares with the top level is that batch-aware function (gammaln is
    # lgamma, expit sigmoid, ...); its own are made batch-aware under their torch names
    shared = {id(f.raw): f for f in g.values() if getattr(f, "batch_aware", False) and
              hasattr(f, "raw")}
    for name in special.__all__:
        f = vars(special)[name]
        if not getattr(f, "batch_aware", False):
            setattr(special, name, shared.get(id(f)) or dispatching(f.__name__, f))
    for name, f in list(vars(linalg).items()):  # (tg.linalg.matmul is tg.matmul, ...)
        if not name.startswith("_") and id(f) in shared:
            setattr(linalg, name, shared[id(f)])
    g["i0"] = special.i0


from .torch_names.add_alpha import add, sub  # noqa: E402,F811 (alpha=: ops.add has none)
from .memory_format import (channels_last, channels_last_3d,  # noqa: E402
                            contiguous_format, memory_format, preserve_format)
from .torch_names.legacy_types import (BoolTensor, ByteTensor, CharTensor,  # noqa: E402
                                       DoubleTensor, FloatTensor, HalfTensor, IntTensor,
                                       LongTensor, ShortTensor)

_batch_aware_public_ops()
# what NumPy's and SciPy's functions on tensors use from the parts above numpy_dispatch
from .torch_names import reductions as _reductions  # noqa: E402

numpy_dispatch.PROVIDED.update(special=special, logsigmoid=nn.functional.logsigmoid,
                               cummax=_reductions.cummax, cummin=_reductions.cummin)


def _torch_level_names():
    """``torch.conv2d``, ``torch.layer_norm``, ... (``nn.torch_level``) and the top-level
    in-place functions ``torch.exp_(x)`` & co., which are the Tensor methods."""
    from .nn import torch_level

    Tensor.i0, Tensor.mvlgamma = i0, mvlgamma  # (the special functions' method forms)
    Tensor.hardshrink, Tensor.prelu = torch_level.FUNCTIONS["hardshrink"], nn.functional.prelu
    Tensor.i0_ = lambda self: ops.inplace.apply(self, i0)
    Tensor.mvlgamma_ = lambda self, p: ops.inplace.apply(self, mvlgamma, p)
    g = globals()
    for name, f in torch_level.FUNCTIONS.items():
        g.setdefault(name, f)
    for name in ("abs acos acosh addmv arccos arccosh arcsin arcsinh arctan arctanh asin asinh "
                 "atan atanh ceil clamp clamp_max clamp_min clip cos cosh deg2rad detach erf "
                 "erfc exp2 exp expm1 fill fix floor frac gcd i0 index_put lcm ldexp log10 log1p "
                 "log2 log logit nan_to_num neg negative rad2deg reciprocal round rsqrt sigmoid "
                 "sin sinc sinh sqrt square tan tanh trunc xlogy zero").split():
        method = getattr(Tensor, name + "_")
        g.setdefault(name + "_", lambda input, *args, _m=method, **kwargs: _m(input, *args,
                                                                              **kwargs))


int = int32  # noqa: A001 (tg.int, like torch.int; not in creation.py, which calls int())
from .device import device  # noqa: E402
from .tensor import Tensor, set_printoptions  # noqa: E402

_torch_level_names()

__version__ = "0.1.0"


_LAZY = ("compile", "distributions")  # loaded on first use: importing tapegrad does not pay
# for them (tg.distributions: ~45 ms of a ~0.5 s import)


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'tapegrad' has no attribute {name!r}")
