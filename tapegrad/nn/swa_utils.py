"""``torch.optim.swa_utils``: weight averaging (SWA, EMA) of a model's parameters with
PyTorch's formulas and names: ``AveragedModel``, ``SWALR``, ``update_bn`` and the
``get_ema_*``/``get_swa_*`` update functions.

It lives in ``nn`` (it is a module over modules; ``nn`` already sees ``optim``) and is bound
as ``tapegrad.optim.swa_utils`` by the package's ``__init__``.

Example:
    >>> import tapegrad as tg
    >>> from tapegrad.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    >>> net = tg.nn.Linear(2, 1)
    >>> ema = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    >>> ema.update_parameters(net)
    >>> int(ema.n_averaged)
    1
"""

import itertools
import math
from copy import deepcopy

from .. import creation
from ..grad_mode import no_grad
from ..optim._lr_base import LRScheduler
from .module import Module
from .normalization import _BatchNorm, _InstanceNorm

__all__ = ["AveragedModel", "SWALR", "update_bn", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _floating(t):
    return t.dtype.kind in "fc"


def get_ema_multi_avg_fn(decay=0.999):
    """``ema = lerp(ema, current, 1 - decay)`` over lists of tensors (in place)."""
    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        if _floating(ema_param_list[0]):
            for p_ema, p in zip(ema_param_list, current_param_list):
                p_ema.lerp_(p, 1 - decay)
        else:
            for p_ema, p in zip(ema_param_list, current_param_list):
                p_ema.copy_(p_ema * decay + p * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """The running mean ``avg += (current - avg) / (n + 1)`` over lists of tensors (in
    place; a lerp for floating tensors)."""
    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        if _floating(averaged_param_list[0]):
            for p_avg, p in zip(averaged_param_list, current_param_list):
                p_avg.lerp_(p, 1 / (num_averaged + 1))
        else:
            for p_avg, p in zip(averaged_param_list, current_param_list):
                p_avg.copy_(p_avg + (p - p_avg) / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``decay * ema + (1 - decay) * current``, one tensor at a time."""
    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """``avg + (current - avg) / (n + 1)``, one tensor at a time."""
    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _groups(averaged, current):
    """The pairs grouped by (device, dtype), in first-seen order (PyTorch's grouping)."""
    groups = {}
    for a, c in zip(averaged, current):
        pair = groups.setdefault((str(a.device), a.dtype), ([], []))
        pair[0].append(a)
        pair[1].append(c)
    return groups.values()


class AveragedModel(Module):
    """A copy of ``model`` whose parameters (and buffers, with ``use_buffers``) are the
    average of those passed to ``update_parameters``: equal weights by default (SWA), or by
    ``avg_fn(avg, current, n)`` / ``multi_avg_fn(avg_list, current_list, n)``."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", creation.tensor(0, device=device))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model):
        """Fold ``model``'s current parameters into the average (the first call copies
        them)."""
        if self.use_buffers:
            averaged = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            current = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            averaged, current = list(self.parameters()), list(model.parameters())
        averaged = [p.detach() for p in averaged]
        current = [p.detach().to(a.device) for p, a in zip(current, averaged)]
        n = self.n_averaged
        if int(n) == 0:
            for a, c in zip(averaged, current):
                a.copy_(c)
        elif self.avg_fn is None:
            multi = self.multi_avg_fn
            for avg_list, cur_list in _groups(averaged, current):
                if multi is not None:
                    multi(avg_list, cur_list, n)
                else:  # (PyTorch's CPU path: the one-tensor form)
                    avg = get_swa_avg_fn()
                    for a, c in zip(avg_list, cur_list):
                        a.copy_(avg(a, c, n))
        else:
            for a, c in zip(averaged, current):
                a.copy_(self.avg_fn(a, c, n))
        if not self.use_buffers:  # (the buffers follow the model's)
            for b_avg, b in zip(self.module.buffers(), model.buffers()):
                b_avg.detach().copy_(b.detach().to(b_avg.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader, model, device=None):
    """Recompute the batch norms' running statistics of ``model`` by one pass over ``loader``
    (their cumulative averages, momentum None, in training mode)."""
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm) and not isinstance(m, _InstanceNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate to ``swa_lr`` over ``anneal_epochs`` steps ('cos' or
    'linear'), then hold it."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos",
                 last_epoch=-1):
        swa_lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else \
            [swa_lr] * len(optimizer.param_groups)
        if len(swa_lrs) != len(optimizer.param_groups):
            raise ValueError(f"swa_lr must have the same length as optimizer.param_groups. "
                             f"swa_lr has {len(swa_lrs)} values, param_groups has "
                             f"{len(optimizer.param_groups)}.")
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError("anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else \
            self._linear_anneal

    def get_lr(self):
        self._warn_if_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
