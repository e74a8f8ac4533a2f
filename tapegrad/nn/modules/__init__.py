"""``tapegrad.nn.modules``: PyTorch's ``torch.nn.modules`` package path, so that code doing
``from torch.nn.modules import Module``, ``nn.modules.loss._Loss``, ``nn.modules.conv._ConvNd``
or ``nn.modules.batchnorm._BatchNorm`` finds tapegrad's classes (the same objects as ``tg.nn``'s;
nothing is defined twice)."""

from . import (activation, adaptive, batchnorm, channelshuffle, container, conv, distance,
               dropout, flatten, fold, instancenorm, lazy, linear, loss, module, normalization,
               padding, pixelshuffle, pooling, rnn, sparse, transformer, upsampling, utils)
from .activation import *  # noqa: F403
from .adaptive import *  # noqa: F403
from .batchnorm import *  # noqa: F403
from .channelshuffle import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .fold import *  # noqa: F403
from .instancenorm import *  # noqa: F403
from .lazy import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pixelshuffle import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403
from .upsampling import *  # noqa: F403
