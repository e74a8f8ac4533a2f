"""``tapegrad.optim``: optimizers and learning-rate schedules with PyTorch's API and update
formulas (SGD, Adam, AdamW, RMSprop, Adagrad, LBFGS; ``lr_scheduler``)."""

from . import lr_scheduler
from .adam import Adam, AdamW
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import Adagrad, RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS", "lr_scheduler"]
