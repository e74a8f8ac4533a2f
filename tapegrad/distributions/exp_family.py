"""``ExponentialFamily``: distributions of density ``h(x) exp(<eta, T(x)> - A(eta))``, given by
their natural parameters ``eta`` and log normaliser ``A``; the entropy and the KL divergence
between two of one family follow from ``A`` alone (its Bregman divergence), with ``dA``
taken by autograd."""

from ..autograd import grad
from ..grad_mode import enable_grad
from .distribution import Distribution


class ExponentialFamily(Distribution):
    """A distribution with ``_natural_params`` (a tuple of tensors), ``_log_normalizer`` of
    them and ``_mean_carrier_measure`` (``E[log h(X)]``)."""

    @property
    def _natural_params(self):
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        raise NotImplementedError

    def _log_normalizer_and_gradients(self):
        """``(eta, A(eta), dA/deta)``, the last differentiable (``create_graph``); parameters
        that record no history become leaves here (PyTorch detaches them all, losing the
        gradient in the distribution's parameters)."""
        with enable_grad():
            params = [t if t.requires_grad else t.detach().requires_grad_()
                      for t in self._natural_params]
            lg_normal = self._log_normalizer(*params)
            gradients = grad(lg_normal.sum(), params, create_graph=True)
        return params, lg_normal, gradients

    def entropy(self):
        """``A(eta) - <eta, dA(eta)> - E[log h(X)]``."""
        params, lg_normal, gradients = self._log_normalizer_and_gradients()
        result = lg_normal - self._mean_carrier_measure
        for p, g in zip(params, gradients):
            result = result - (p * g).reshape(self._batch_shape + (-1,)).sum(-1)
        return result


def kl_expfamily_expfamily(p, q):
    """KL(p || q) of two distributions of one exponential family: the Bregman divergence
    ``A(eta_q) - A(eta_p) - <eta_q - eta_p, dA(eta_p)>``."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential "
                                  "families cannot be computed using Bregman divergences")
    p_params, lg_normal, gradients = p._log_normalizer_and_gradients()
    result = q._log_normalizer(*q._natural_params) - lg_normal
    for pnp, qnp, g in zip(p_params, q._natural_params, gradients):
        term = (qnp - pnp) * g
        # (summed over each parameter's own dims: PyTorch sums the event dims' count of
        # rightmost dims, the whole batch too for a per-batch parameter such as Wishart's df)
        extra = term.ndim - result.ndim
        result = result - (term.sum(tuple(range(-extra, 0))) if extra > 0 else term)
    return result
