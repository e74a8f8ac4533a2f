"""``tapegrad.nn``: modules, parameters, initialisation and losses with PyTorch's API.

Example:
    >>> import tapegrad as tg
    >>> import tapegrad.nn.functional as F
    >>> _ = tg.manual_seed(0)
    >>> model = tg.nn.Sequential(tg.nn.Linear(2, 8), tg.nn.Tanh(), tg.nn.Linear(8, 3))
    >>> loss = F.cross_entropy(model(tg.randn(4, 2)), tg.tensor([0, 1, 2, 1]))
    >>> loss.backward()
    >>> model[0].weight.grad.shape
    (8, 2)
"""

from . import functional, init, utils
from .activation import (Softmax2d, CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh,
                         LeakyReLU, LogSigmoid, LogSoftmax, Mish, PReLU, ReLU, ReLU6, SiLU, Sigmoid,
                         RReLU, Softmax, Softmin, Softplus, Softshrink, Softsign, Tanh,
                         Tanhshrink, Threshold)
from .conv_layers import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveAvgPool3d,
                          AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d, AvgPool1d,
                          AvgPool2d, AvgPool3d, MaxPool3d, Conv1d, Conv2d, Conv3d,
                          ConvTranspose1d, ConvTranspose2d, ConvTranspose3d,
                          MaxPool1d, MaxPool2d, LPPool1d, LPPool2d, LPPool3d, LocalResponseNorm,
                          MaxUnpool1d, MaxUnpool2d, MaxUnpool3d)
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .embedding_bag import EmbeddingBag
from .interpolate import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .lazy import (Buffer, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyConv1d,
                   LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,
                   LazyConvTranspose3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
                   LazyInstanceNorm3d, LazyLinear, UninitializedBuffer,
                   UninitializedParameter)
from .linear import Bilinear, Dropout, Embedding, Identity, LayerNorm, Linear
from .spatial import (PADDING_LAYERS, AlphaDropout, ChannelShuffle, Dropout1d, Dropout2d,
                      Dropout3d, FeatureAlphaDropout, Fold, PixelShuffle, PixelUnshuffle, Unfold)
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, CTCLoss,
                   GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss,
                   MarginRankingLoss, MSELoss, MultiLabelMarginLoss, MultiLabelSoftMarginLoss,
                   MultiMarginLoss, NLLLoss, NLLLoss2d, PoissonNLLLoss, SmoothL1Loss,
                   SoftMarginLoss, TripletMarginLoss, TripletMarginWithDistanceLoss)
from .module import Module
from .multihead import MultiheadAttention
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d,
                            InstanceNorm2d, InstanceNorm3d, RMSNorm)
from .parameter import Parameter
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (Transformer, TransformerDecoder, TransformerDecoderLayer,
                          TransformerEncoder, TransformerEncoderLayer)
from .shaping import CosineSimilarity, Flatten, PairwiseDistance, Unflatten

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList",
    "ModuleDict", "Identity", "Linear", "Embedding", "LayerNorm", "Dropout", "ReLU", "ReLU6",
    "Tanh", "Sigmoid", "LogSigmoid", "GELU", "SiLU", "LeakyReLU", "ELU", "Softplus", "Softmax",
    "LogSoftmax", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "NLLLoss",
    "CrossEntropyLoss", "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "ParameterList",
    "ParameterDict", "Flatten", "Unflatten", "CosineSimilarity", "PairwiseDistance", "Hardtanh",
    "CELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Mish", "PReLU", "Softmin",
    "Softshrink", "Softsign", "Tanhshrink", "Threshold", "GaussianNLLLoss", "PoissonNLLLoss",
    "MarginRankingLoss", "CosineEmbeddingLoss", "HingeEmbeddingLoss", "SoftMarginLoss",
    "MultiLabelSoftMarginLoss", "TripletMarginLoss", "Conv1d", "Conv2d", "Conv3d", "MaxPool1d",
    "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d",
    "GroupNorm", "MultiheadAttention", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell",
    "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "RMSNorm", "Upsample",
    "UpsamplingNearest2d", "UpsamplingBilinear2d", "ConvTranspose1d", "ConvTranspose2d",
    "ConvTranspose3d", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
    "TransformerDecoder", "TransformerDecoderLayer", "Softmax2d", "Bilinear", "ChannelShuffle",
    "Dropout1d", "Dropout2d", "Dropout3d", "Fold", "Unfold", "PixelShuffle", "PixelUnshuffle",
    "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "EmbeddingBag",
    "RReLU", "AlphaDropout", "FeatureAlphaDropout", "LPPool1d", "LPPool2d", "LPPool3d",
    "LocalResponseNorm", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "MultiMarginLoss",
    "MultiLabelMarginLoss", "TripletMarginWithDistanceLoss", "NLLLoss2d", "RNNBase",
    "RNNCellBase", "Buffer", "UninitializedParameter", "UninitializedBuffer",
    "LazyLinear", "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d",
    "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d", "LazyBatchNorm2d",
    "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d",
    "CTCLoss", "AdaptiveLogSoftmaxWithLoss",
] + sorted(PADDING_LAYERS)
globals().update(PADDING_LAYERS)
from . import modules  # noqa: E402,F401 (torch.nn.modules: the classes above, by its paths)
