"""``tapegrad.distributions``: probability distributions with ``torch.distributions``' API:
``sample`` / differentiable ``rsample``, ``log_prob``, ``entropy``, moments, ``cdf``/``icdf``,
argument and support validation, and ``kl_divergence``. Draws come from tapegrad's generator
(``tg.manual_seed``), not PyTorch's, so the samples differ; everything else is PyTorch's.

Example:
    >>> import tapegrad as tg
    >>> mu = tg.tensor(0.5, requires_grad=True)
    >>> d = tg.distributions.Normal(mu, 2.0)
    >>> d.log_prob(tg.tensor(1.0)).backward()
    >>> round(float(mu.grad), 6)      # (x - mu) / sigma^2
    0.125
"""

from . import constraints, kl_cross, transforms  # noqa: F401 (kl_cross: registers its rules)
from .circular import VonMises
from .composite_transforms import CatTransform, CumulativeDistributionTransform, \
    IndependentTransform, ReshapeTransform, StackTransform
from .constraint_registry import biject_to, transform_to
from .continuous import Exponential, Laplace, Normal, Uniform
from .counts import Binomial, Geometric, Multinomial, NegativeBinomial, Poisson
from .dirichlet import Beta, Dirichlet
from .discrete import Bernoulli, Categorical, OneHotCategorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .gamma import Chi2, Gamma
from .heavy_tailed import Cauchy, FisherSnedecor, StudentT
from .kl import kl_divergence, register_kl
from .lowrank import LowRankMultivariateNormal
from .matrices import LKJCholesky, Wishart
from .matrix_transforms import CorrCholeskyTransform, LowerCholeskyTransform, \
    PositiveDefiniteTransform
from .mixture import MixtureSameFamily
from .multivariate import Independent, MultivariateNormal
from .power_laws import GeneralizedPareto, InverseGamma, Kumaraswamy, Pareto, Weibull
from .relaxed import ContinuousBernoulli, LogisticNormal, OneHotCategoricalStraightThrough, \
    RelaxedBernoulli, RelaxedOneHotCategorical
from .transformed import Gumbel, HalfCauchy, HalfNormal, LogNormal, TransformedDistribution
from .transforms import AbsTransform, AffineTransform, ComposeTransform, ExpTransform, \
    PowerTransform, SigmoidTransform, SoftmaxTransform, SoftplusTransform, \
    StickBreakingTransform, TanhTransform, Transform

# tg.distributions.transforms.X for every transform, as torch.distributions.transforms (the
# composite and matrix ones are defined in their own modules, which import this one)
for _t in (CatTransform, StackTransform, ReshapeTransform, IndependentTransform,
           CumulativeDistributionTransform, CorrCholeskyTransform, LowerCholeskyTransform,
           PositiveDefiniteTransform):
    setattr(transforms, _t.__name__, _t)
del _t

__all__ = ["Distribution", "Normal", "Uniform", "Exponential", "Laplace", "Bernoulli",
           "Categorical", "MultivariateNormal", "Independent", "kl_divergence", "register_kl",
           "constraints", "Gamma", "Chi2", "Beta", "Dirichlet", "Poisson", "Binomial",
           "Geometric", "OneHotCategorical", "Cauchy", "StudentT", "TransformedDistribution",
           "LogNormal", "HalfNormal", "HalfCauchy", "Gumbel", "transforms", "Transform",
           "ComposeTransform", "ExpTransform", "AffineTransform", "SigmoidTransform",
           "TanhTransform", "AbsTransform", "PowerTransform", "SoftplusTransform",
           "SoftmaxTransform", "StickBreakingTransform", "MixtureSameFamily", "Multinomial",
           "NegativeBinomial", "Weibull", "Pareto", "Kumaraswamy", "InverseGamma",
           "GeneralizedPareto", "ContinuousBernoulli", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "OneHotCategoricalStraightThrough", "LogisticNormal",
           "VonMises", "LKJCholesky", "Wishart", "LowRankMultivariateNormal",
           "FisherSnedecor", "ExponentialFamily", "CatTransform", "StackTransform",
           "ReshapeTransform", "IndependentTransform", "CumulativeDistributionTransform",
           "CorrCholeskyTransform", "LowerCholeskyTransform", "PositiveDefiniteTransform",
           "biject_to", "transform_to"]
