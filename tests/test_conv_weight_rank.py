"""A convolution weight of another rank than the convolution's, refused in PyTorch's words: its
_convolution reads the spatial dims from the weight, so a 3-d weight for conv2d says 'expected
stride to be a single integer value or a list of 1 values to match the convolution
dimensions, but got stride=[1, 1]' (padding, dilation or output_padding where the stride
matches), a weight of fewer than 3 dims 'weight should have at least three dimensions', and a
weight whose rank all the arguments fit names the input's rank; tapegrad said 'weight of conv2d
should have 4 dims, got [3, 3, 3]'."""
import pytest

import tapegrad as tg

torch = pytest.importorskip("torch")

CALLS = {
    "conv2d 3-d weight": lambda F, o: F.conv2d(o(1, 3, 5, 5), o(3, 3, 3)),
    "conv2d 3-d weight stride (2,)": lambda F, o: F.conv2d(o(1, 3, 5, 5), o(3, 3, 3),
                                                           stride=(2,)),
    "conv2d 5-d weight": lambda F, o: F.conv2d(o(1, 3, 5, 5), o(3, 3, 3, 3, 3)),
    "conv1d 2-d weight": lambda F, o: F.conv1d(o(1, 3, 5), o(3, 3)),
    "conv1d 4-d weight": lambda F, o: F.conv1d(o(1, 3, 5), o(3, 3, 3, 3)),
    "conv3d 4-d weight": lambda F, o: F.conv3d(o(1, 3, 5, 5, 5), o(3, 3, 3, 3)),
    "conv2d 3-d weight padding": lambda F, o: F.conv2d(o(1, 3, 5, 5), o(3, 3, 3),
                                                       padding=(1, 1)),
    "conv2d 3-d weight same": lambda F, o: F.conv2d(o(1, 3, 5, 5), o(3, 3, 3), padding="same"),
    "conv_transpose2d 3-d weight": lambda F, o: F.conv_transpose2d(o(1, 3, 5, 5), o(3, 3, 3)),
    "conv_transpose1d 2-d weight": lambda F, o: F.conv_transpose1d(o(1, 3, 5), o(3, 3)),
    "conv2d 1-d weight": lambda F, o: F.conv2d(o(1, 3, 5, 5), o(3)),
    "conv2d unbatched 3-d weight": lambda F, o: F.conv2d(o(3, 5, 5), o(3, 3, 3), stride=[1],
                                                         padding=[0], dilation=[1]),
}


@pytest.mark.parametrize("call", list(CALLS))
def test_words_as_torch(call):
    words = []
    for L in (tg, torch):
        with pytest.raises(RuntimeError) as e:
            CALLS[call](L.nn.functional, L.ones)
        words.append(str(e.value))
    assert words[0] == words[1]
