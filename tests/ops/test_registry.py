"""The op registry: stable opcodes, complete declarations, generated sweep up to date."""

from tapegrad.engine import _gen_dispatch
from tapegrad.ops import REGISTRY
from tapegrad.registry import PYTHON_BASE, Op

# Opcodes are baked into tapes and the compiled sweep: append only, never renumber.
PINNED = {
    "IMPORT": 0, "OUTPUT": 1, "NEG": 10, "EXP": 11, "LOG": 12, "LOG1P": 13, "EXPM1": 14,
    "SIN": 15, "COS": 16, "TAN": 17, "TANH": 18, "SIGMOID": 19, "RELU": 20, "SQRT": 21,
    "ABS": 22, "CLONE": 23, "TO_COPY": 24, "LOGSIGMOID": 26, "SILU": 27, "GELU": 28,
    "GELU_TANH": 29, "ADDC": 30, "MULC": 31, "POWC": 32, "RPOWC": 33,
    "RDIVC": 34, "CLAMP": 35, "LEAKY_RELU": 36, "HARDTANH": 37, "ELU": 38, "SOFTPLUS": 39, "ADD": 50, "SUB": 51, "MUL": 52, "DIV": 53, "POW": 54,
    "MAXIMUM": 55, "MINIMUM": 56, "WHERE": 57, "TANH_BACKWARD": 58, "SIGMOID_BACKWARD": 59, "BCE_LOGITS": 60,
    "MSE_LOSS": 61, "HUBER_LOSS": 62, "SMOOTH_L1_LOSS": 63,
    "RESHAPE": 70, "GATHER_STRIDED": 71,
    "SCATTER_STRIDED": 72, "GATHER_INDEX": 73, "SCATTER_INDEX": 74, "MATMUL": 1000,
    "CAT": 1001, "CUSTOM": 1002, "AMAX": 1003, "PROD": 1004, "COPY_SLICES": 1005,
    "CONVOLUTION": 1033, "SOFTMAX": 1034, "LOG_SOFTMAX": 1035, "NLL_LOSS": 1036,
    "LOGSUMEXP": 1037, "STACK": 1038, "LINEAR": 1039, "LAYER_NORM": 1040, "BATCH_NORM": 1041,
    "AVG_POOL": 1042, "AVG_POOL_BACKWARD": 1043, "ADAPTIVE_AVG_POOL": 1044,
    "ADAPTIVE_AVG_POOL_BACKWARD": 1045, "VECTOR_NORM2": 1046, "BCE": 1047, "BCE_BACKWARD": 1048,
    "DEPENDS": 1049, "COMPLEX": 1050, "CONV_TRANSPOSE": 1051, "CUMPROD": 1052,
    "GRID_SAMPLE": 1053, "INTERPOLATE": 1054, "INTERPOLATE_BACKWARD": 1055, "INDEX_ADD": 1056,
    "LU_FACTOR": 1057,
}


def test_opcodes_are_pinned():
    for name, code in PINNED.items():
        assert Op[name] == code, f"opcode {name} was renumbered"


def test_codes_unique_and_kinds_consistent():
    assert len({int(o) for o in Op}) == len(Op)
    for code, d in REGISTRY.items():
        assert d.op == code
        if d.kind in ("unary", "binary", "linear"):
            assert code < PYTHON_BASE, d.name
        if d.kind == "python":
            assert code >= PYTHON_BASE and d.vjp is not None and d.vjp_np is not None, d.name
        if d.kind in ("unary", "binary"):
            assert d.dx and (d.kind == "unary" or d.dy)
            for s in d.saves:
                assert s in ("x", "y", "out", "m")


def test_every_compiled_op_is_in_the_generated_sweep():
    src = _gen_dispatch.TARGET.read_text()
    for code, d in REGISTRY.items():
        if d.kind in ("unary", "binary", "linear"):
            assert f"op == {code}:" in src, d.name


def test_generated_sweep_is_up_to_date():
    assert _gen_dispatch.TARGET.read_text() == _gen_dispatch.generate(), (
        "run `python -m tapegrad.engine._gen_dispatch`")


def test_tensor_rules_compile():
    from tapegrad.autograd.retape import _rules

    for code, d in REGISTRY.items():
        if d.kind in ("unary", "binary"):
            fx, fy = _rules.get(code, d)
            assert callable(fx)  # every elementwise op differentiates its first input
            assert (fy is None) == (d.kind == "unary" or not d.dy)
