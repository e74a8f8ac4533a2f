"""``tapegrad.optim``: optimizers and learning-rate schedules with PyTorch's API and update
formulas (SGD, Adam, AdamW, NAdam, RAdam, Adamax, Adadelta, Adafactor, RMSprop, Adagrad, Rprop,
ASGD, LBFGS; ``lr_scheduler``)."""

from . import lr_scheduler
from .adafactor import Adafactor
from .adam import Adam, AdamW
from .adam_variants import Adadelta, Adamax, NAdam, RAdam
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import Adagrad, RMSprop
from .rprop import ASGD, Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "NAdam", "RAdam", "Adamax", "Adadelta",
           "Adafactor", "RMSprop", "Adagrad", "Rprop", "ASGD", "LBFGS", "lr_scheduler"]
