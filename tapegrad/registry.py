"""The op registry: opcodes and one declaration per op.

Every differentiable primitive is declared once, with both of its VJPs side by side:

* ``kind="unary"`` / ``"binary"``: elementwise ops. The derivative is a *formula string* in the
  variables ``g`` (output gradient), ``x``, ``y`` (inputs), ``out`` (result), ``c0``, ``c1``
  (scalar constants) and the functions of ``RULE_FUNCTIONS``. The same string is compiled twice:
  pasted into the Numba sweep (``engine/_sweep_dispatch.py``, generated) with ``math``
  functions, evaluated on NumPy arrays for large records (``numpy_rules``), and evaluated on
  Tensors for re-taping (``create_graph=True``, ``autograd/retape.py``), where every operation
  it performs is recorded again. One formula, three evaluations, no drift.
* ``kind="linear"``: index/stride maps (reshape, strided gather/scatter, indexed gather/scatter).
  Their VJPs are each other, written in ``ops/movement.py``.

This module is data: it imports no other part of tapegrad but ``vecmath`` (numbers only). The op modules (``ops/``) fill
``REGISTRY`` when they are imported; the engine and the autograd layer read it.
* ``kind="python"``: ops whose backward runs in NumPy (BLAS-sized work, many inputs, custom
  Functions). The compiled sweep pauses at such a record and resumes after Python ran
  ``vjp_np`` (numeric) or ``vjp`` (in tapegrad ops, when re-taping).

Opcodes are baked into the tape and the generated sweep: append only, never renumber
(``tests/ops/test_registry.py`` pins them).
"""

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Callable

import numpy as np

from . import vecmath  # NumPy's functions; SIMD kernels, branch-free selects for large arrays


class Op(IntEnum):
    IMPORT = 0  # a value entering the segment (leaf or tensor of another segment)
    OUTPUT = 1  # output j of a multi-output Python op (custom Function)
    # unary elementwise
    NEG = 10
    EXP = 11
    LOG = 12
    LOG1P = 13
    EXPM1 = 14
    SIN = 15
    COS = 16
    TAN = 17
    TANH = 18
    SIGMOID = 19
    RELU = 20
    SQRT = 21
    ABS = 22
    CLONE = 23
    TO_COPY = 24  # dtype conversion between floating types
    ZERO_GRAD = 25  # piecewise-constant results (sign, floor, ...): derivative zero
    LOGSIGMOID = 26  # ops/activations.py: smooth activations as one record each
    SILU = 27
    GELU = 28  # erf form
    GELU_TANH = 29  # tanh approximation
    # unary with scalar constants c0 (c1) kept in the tape's float side table
    ADDC = 30
    MULC = 31
    POWC = 32
    RPOWC = 33
    RDIVC = 34
    CLAMP = 35
    LEAKY_RELU = 36  # ops/activations.py: c0 the slope
    HARDTANH = 37  # c0, c1 the bounds
    ELU = 38  # c0 alpha
    SOFTPLUS = 39  # c0 beta, c1 threshold
    # binary elementwise (inputs already broadcast to one shape)
    ADD = 50
    SUB = 51
    MUL = 52
    DIV = 53
    POW = 54
    MAXIMUM = 55
    MINIMUM = 56
    WHERE = 57  # saves the condition as a 0/1 value "m"
    TANH_BACKWARD = 58  # g * (1 - out^2): tanh's derivative as one record (create_graph)
    SIGMOID_BACKWARD = 59  # g * out * (1 - out): sigmoid's, likewise
    BCE_LOGITS = 60  # ops/activations.py: binary_cross_entropy_with_logits before reduction
    MSE_LOSS = 61  # ops/pointwise_losses.py: the regression losses before reduction
    HUBER_LOSS = 62  # c0 delta
    SMOOTH_L1_LOSS = 63  # c0 beta
    # linear maps over flat indices
    RESHAPE = 70
    GATHER_STRIDED = 71
    SCATTER_STRIDED = 72
    GATHER_INDEX = 73
    SCATTER_INDEX = 74
    # ops whose backward runs in Python/NumPy: codes >= PYTHON_BASE make the sweep pause
    MATMUL = 1000
    CAT = 1001
    CUSTOM = 1002
    AMAX = 1003
    PROD = 1004
    COPY_SLICES = 1005
    EINSUM = 1006
    CUMSUM = 1007
    # matrix decompositions and solves (ops/linalg_decomp.py)
    SOLVE = 1008
    INV = 1009
    DET = 1010
    LOGABSDET = 1011
    EIGH = 1012  # packed (eigenvalues, eigenvectors)
    SVD = 1013  # packed (U, S, Vh)
    QR = 1014  # packed (Q, R)
    CHOLESKY = 1015
    PINV = 1016
    VAR = 1017  # PyTorch's var/std backward (ops/reduce.py)
    STD = 1018
    # functions beyond the core (ops/extra.py): derivatives in NumPy and in tapegrad ops
    ATAN = 1019
    ASIN = 1020
    ACOS = 1021
    SINH = 1022
    COSH = 1023
    ASINH = 1024
    ACOSH = 1025
    ATANH = 1026
    ERF = 1027
    ERFC = 1028
    ATAN2 = 1029
    LOGCUMSUMEXP = 1030
    LOG2 = 1031
    LOG10 = 1032
    CONVOLUTION = 1033  # ops/convolution.py: im2col and BLAS, col2im backward
    SOFTMAX = 1034  # ops/fused_softmax.py: one record saving the output, as PyTorch's
    LOG_SOFTMAX = 1035
    NLL_LOSS = 1036  # ops/nll.py: (N, C) input, as PyTorch's NllLossBackward0
    LOGSUMEXP = 1037  # ops/fused_softmax.py: saves input and output, as PyTorch's
    STACK = 1038  # ops/join.py: one record, as PyTorch's StackBackward0
    LINEAR = 1039  # ops/linear.py: a batch through nn.Linear, as PyTorch's AddmmBackward0
    LAYER_NORM = 1040  # ops/layer_norm.py: as PyTorch's NativeLayerNormBackward0
    BATCH_NORM = 1041  # ops/batch_norm.py: as PyTorch's NativeBatchNormBackward0
    AVG_POOL = 1042  # ops/avg_pool.py: window means, and the transposed map (its VJP)
    AVG_POOL_BACKWARD = 1043
    ADAPTIVE_AVG_POOL = 1044
    ADAPTIVE_AVG_POOL_BACKWARD = 1045
    VECTOR_NORM2 = 1046  # ops/vector_norm.py: the 2-norm, as PyTorch's LinalgVectorNormBackward0
    BCE = 1047  # ops/bce.py: binary_cross_entropy per element, PyTorch's derivatives
    BCE_BACKWARD = 1048  # its first derivative, an op of its own (create_graph)
    DEPENDS = 1049  # ops/backward_ops.py: a derivative depending on saved values, zero slope
    # complex values (ops/complex.py): one record kind, its rule named in the record's params
    COMPLEX = 1050
    CONV_TRANSPOSE = 1051  # ops/conv_transpose.py: the convolution's input gradient as an op
    CUMPROD = 1052  # ops/cumulative.py
    GRID_SAMPLE = 1053  # ops/grid_sample.py: compiled sample and VJP (image and grid)
    INTERPOLATE = 1054  # ops/resize.py: interpolate's resize, and the transposed map (its VJP)
    INTERPOLATE_BACKWARD = 1055
    INDEX_ADD = 1056  # ops/index_add_op.py: index_add of CPU float tensors, PyTorch's backward
    LU_FACTOR = 1057  # ops/linalg_lu.py: packed LU of getrf, PyTorch's linalg_lu_backward
    XLOGY = 1058  # ops/xlogy_op.py: PyTorch's derivatives at x = 0 (inf, NaN included)
    XLOG1PY = 1059
    COPYSIGN = 1060  # ops/copysign_op.py: PyTorch's derivative, result / input (0 at 0)
    FMOD = 1061  # ops/rounded_remainder.py: the divisor's gradient -g * the rounded quotient
    REMAINDER = 1062


PYTHON_BASE = 1000

# Functions a derivative formula may call; the sweep binds them to math/scalar helpers, the
# re-taping sweep to tapegrad ops.
RULE_FUNCTIONS = ("exp", "log", "sin", "cos", "tan", "tanh", "sqrt", "sign", "where", "log1p",
                  "expm1", "sigmoid", "erf")


@dataclass
class OpDef:
    op: Op
    name: str  # public op name (tapegrad.<name>)
    kind: str  # "unary" | "binary" | "linear" | "python" | "import"
    grad_fn: str = ""  # PyTorch-style node name, e.g. "MulBackward0"
    grad_fn_of: Callable | None = None  # python ops: the node's name from a record's params,
    # where PyTorch names one op's cases differently (None: ``grad_fn``)
    saves: tuple = ()  # elementwise: which of ("x", "y", "out", "m") are saved, in order
    dx: str = ""  # elementwise: formula for the gradient of x (first input)
    dy: str = ""  # binary: formula for the gradient of y (second input)
    nconst: int = 0  # number of scalar constants (c0, c1)
    dx_at: tuple = ()  # elementwise: ``((c0, formula), ...)``, dx at that c0 for float64 arrays
    # (the same values), where ``dx`` calls what the generated loops cannot (a power)
    vjp: Callable | None = None  # python/linear ops: Tensor-level VJP for re-taping
    vjp_np: Callable | None = None  # python ops: numeric VJP in NumPy
    vjp_into: Callable | None = None  # python ops: ``vjp_np`` that may write an input's
    # gradient into a given array, ``(g, saved, out, targets, **params)``: ``targets[k]`` is
    # None or a writable C-contiguous array of input k's shape; a result that *is* it was
    # written there (the numeric sweep passes an unreached arena slot: no copy)
    jvp_np: Callable | None = None  # python ops: numeric JVP, ``(tangents, inputs, out,
    # **params)``, each tangent None or an array ``(k,) + input shape`` (k directions at once)
    forward: Callable | None = None  # elementwise: the scalar forward (``math``/``operator``
    # or a Python function of floats), which the CUDA backend turns into device code
    array_forward: Callable | None = None  # elementwise: the NumPy forward of CPU arrays (a
    # checkpoint's replay recomputes values with it, bit for bit as the forward did)
    _numpy_rules: tuple | None = field(default=None, repr=False)
    _numpy_out_rules: tuple | None = field(default=None, repr=False)
    _numpy_add_rules: tuple | None = field(default=None, repr=False)
    _times_g: tuple | None = field(default=None, repr=False)

    def rules(self, namespace, rewrite=None):
        """The elementwise formulas evaluated in ``namespace`` as two lambdas
        ``(g, x, y, out, m, c0, c1) -> gradient``, one per input (None where the op has no
        formula), so an input that needs no gradient costs no evaluation. ``rewrite`` maps a
        formula's text first (``pow_as_call``)."""
        def one(expr):
            if not expr:
                return None
            return eval(f"lambda g, x, y, out, m, c0, c1: {rewrite(expr) if rewrite else expr}",
                        namespace)
        return one(self.dx), one(self.dy)

    def numpy_rules(self):
        """``rules`` evaluated on NumPy arrays (large records of the numeric sweep)."""
        if self._numpy_rules is None:
            self._numpy_rules = self.rules(numpy_rule_namespace(), _numpy_form)
        return self._numpy_rules

    def numpy_out_rules(self):
        """``numpy_rules`` whose outermost operation writes into a given array: lambdas
        ``(g, x, y, out, m, c0, c1, dst) -> dst`` (the same values: the same ufunc, told where
        to write), None where that operation is not an arithmetic ufunc (``"g"``, ``where``)."""
        if self._numpy_out_rules is None:
            ns = numpy_rule_namespace()
            ns.update(_OUT_UFUNCS)

            def one(expr):
                body = _into_dst(_numpy_form(expr)) if expr else None
                return eval(f"lambda g, x, y, out, m, c0, c1, dst: {body}", ns) if body else None
            self._numpy_out_rules = (one(self.dx), one(self.dy))
        return self._numpy_out_rules

    def times_g(self, k):
        """The saved value (``"x"``, ``"y"``, ``"out"``) whose product with ``g`` is formula
        ``k`` (0: dx, 1: dy), written ``g * <value>``; else None. Seeded by a full sum (``g``
        all ones) such a gradient is that value itself (``1.0 * v`` is ``v``, bit for bit)."""
        if self._times_g is None:
            names = []
            for expr in (self.dx.replace(" ", ""), self.dy.replace(" ", "")):
                name = expr[2:] if expr.startswith("g*") else \
                    expr[:-2] if expr.endswith("*g") else ""
                names.append(name if name in self.saves else None)
            self._times_g = tuple(names)  # (read per large record: parsed once)
        return self._times_g[k]

    def numpy_add_rules(self):
        """Lambdas ``(g, x, y, out, m, c0, c1, dst) -> dst`` adding a formula into ``dst``
        (``dst += formula``) in one pass, for the formulas that are a product with ``sin`` or
        ``cos`` (``vecmath.times``); None for the others (the generated loops of
        ``engine/_formula_add_kernels.py`` add them, or NumPy in two passes)."""
        if self._numpy_add_rules is None:
            ns = numpy_rule_namespace()

            def one(expr):
                body = _into_dst(_numpy_form(expr), add=True) if expr else None
                return eval(f"lambda g, x, y, out, m, c0, c1, dst: {body}", ns) if body else None
            self._numpy_add_rules = (one(self.dx), one(self.dy))
        return self._numpy_add_rules


# ``_pow`` of the compiled formulas, pasted by both kernel generators (the CPU sweep's, the CUDA
# kernels'): PyTorch's powers of a constant exponent (``TORCH_POWERS``, sqrt/rsqrt for +-0.5),
# and x ** 1 and x ** 0 without C's pow (exact: pow(x, 1) is x, pow(x, 0) is 1, NaN included;
# a square's derivative is 2 * x ** 1)
POW_SOURCE = """def _pow(x, y):
    if y == 1.0:
        return x
    if y == 0.0:
        return 1.0
    if y == 2.0:
        return x * x
    if y == 0.5:
        return sqrt(x)  # (C's pow(-inf, 0.5) is inf, sqrt(-inf) is nan: PyTorch's)
    if y == -0.5:
        return 1.0 / sqrt(x)
    if y == 3.0:
        return x * x * x
    if y == -1.0:
        return 1.0 / x
    if y == -2.0:
        return 1.0 / (x * x)
    return x ** y
"""


def pow_as_call(expr):
    """``a ** b`` in a formula as a call, for the compiled and NumPy evaluations, as PyTorch
    computes it: ``_pow(a, b)`` for a constant exponent (sqrt for 0.5, rsqrt for -0.5), else
    ``_cpow(a, b)`` (C's pow, as PyTorch's pow of two tensors)."""
    if not expr or "**" not in expr:
        return expr
    import ast

    class _T(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, ast.Pow):
                const = all(n.id in ("c0", "c1") for n in ast.walk(node.right)
                            if isinstance(n, ast.Name))
                f = ast.Name("_pow" if const else "_cpow", ast.Load())
                return ast.Call(f, [node.left, node.right], [])
            return node

    return ast.unparse(_T().visit(ast.parse(expr, mode="eval")))


_OUT_UFUNCS = {"_add": np.add, "_sub": np.subtract, "_mul": np.multiply,
               "_div": np.true_divide, "_neg": np.negative}


def _numpy_form(expr):
    """A formula as NumPy evaluates it: ``pow_as_call``, and a product with ``sin``/``cos`` of
    one argument as ``_times`` (``vecmath.times``: the product in the kernel's one pass, e.g.
    sin's ``g * cos(x)``; the same values)."""
    expr = _shared_calls(pow_as_call(expr))
    if not expr or ("sin(" not in expr and "cos(" not in expr):
        return expr
    import ast

    def trig(node):
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id in ("sin", "cos") and len(node.args) == 1 and not node.keywords

    class _T(ast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            if isinstance(node.op, ast.Mult) and (trig(node.right) or trig(node.left)):
                f, other = (node.right, node.left) if trig(node.right) else \
                    (node.left, node.right)
                return ast.Call(ast.Name("_times", ast.Load()),
                                [ast.Constant(f.func.id), other, f.args[0]], [])
            return node

    return ast.unparse(_T().visit(ast.parse(expr, mode="eval")))


def _shared_calls(expr):
    """``expr`` with a call it makes more than once (silu's ``sigmoid(x)``, the tanh form of
    gelu's ``tanh(...)``) evaluated once: named where it is first evaluated (``(_s0 := ...)``,
    Python evaluates left to right) and read by name after. The same values, passes fewer."""
    if not expr or expr.count("(") < 2:
        return expr
    import ast

    tree = ast.parse(expr, mode="eval")
    names = 0
    while True:
        seen, repeated = {}, None
        for node in _in_order(tree.body):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                key = ast.dump(node)
                if key in seen:
                    repeated = key
                    break
                seen[key] = node
        if repeated is None:
            return ast.unparse(tree) if names else expr
        name, names = f"_s{names}", names + 1

        class _Name(ast.NodeTransformer):
            first = True

            def visit_Call(self, node):
                if ast.dump(node) != repeated:
                    return self.generic_visit(node)
                if self.first:
                    self.first = False
                    return ast.NamedExpr(ast.Name(name, ast.Store()), node)
                return ast.Name(name, ast.Load())

        tree = _Name().visit(tree)


def _in_order(node):
    """The nodes of an expression, each before what it contains, left to right (the order in
    which Python starts evaluating them)."""
    import ast

    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_order(child)


def _into_dst(expr, add=False):
    """``expr`` with its outermost arithmetic operation as a ufunc call writing ``out=dst``;
    None if the outermost node is anything else. ``add``: a ``vecmath.times`` call adding
    into ``dst``, None for any other formula."""
    import ast

    tree = ast.parse(expr, mode="eval")
    top = tree.body
    names = {ast.Add: "_add", ast.Sub: "_sub", ast.Mult: "_mul", ast.Div: "_div"}
    dst = ast.keyword("out", ast.Name("dst", ast.Load()))
    if isinstance(top, ast.Call) and isinstance(top.func, ast.Name) and \
            top.func.id == "_times":  # vecmath.times writes into out= itself
        adding = [ast.keyword("add", ast.Constant(True))] if add else []
        return ast.unparse(ast.Call(top.func, top.args, [dst, *adding]))
    if add:
        return None
    if isinstance(top, ast.BinOp) and type(top.op) in names:
        f, operands = names[type(top.op)], [top.left, top.right]
    elif isinstance(top, ast.UnaryOp) and isinstance(top.op, ast.USub):
        f, operands = "_neg", [top.operand]
    else:
        return None
    return ast.unparse(ast.Call(ast.Name(f, ast.Load()), operands, [dst]))


REGISTRY: dict[int, OpDef] = {}
# the smooth Python elementwise ops by opcode: (deriv, number of inputs), the derivative
# deriv(g, x, out, M) or deriv(g, x, y, M) written once over a namespace M (NumPy, tensor
# ops); the CUDA kernel generator traces it into device code
DERIVS: dict = {}


def _np_sign(x):
    return vecmath.where(np.isnan(x), 0.0, np.sign(x))  # sign(nan) = 0, as in PyTorch


def _np_pow(x, y):
    """PyTorch's pow on arrays: sqrt for an exponent of 0.5, rsqrt for -0.5, and its products
    for 2, 3, -1 and -2 (``TORCH_POWERS``)."""
    if np.ndim(y) == 0:  # one exponent: one function, not all three selected by np.where
        if y in (0.5, -0.5):
            return np.sqrt(x) if y == 0.5 else 1.0 / np.sqrt(x)
        y = np.asarray(y)  # (a 0-d array, not "weak": float32 x ** y is computed in float64)
        power = TORCH_POWERS.get(y.item()) if y.dtype.kind in "fiu" else None
        if power is not None and type(x) is np.ndarray and x.dtype.kind == "f":
            return power(x.astype(np.result_type(x, y), copy=False))
        return np.power(x, y)
    y = np.asarray(y)
    return np.where(y == 0.5, np.sqrt(x), np.where(y == -0.5, 1.0 / np.sqrt(x), np.power(x, y)))


def _cube(x):
    t = x * x
    t *= x
    return t


def _inverse_square(x):
    t = np.square(x)
    if type(t) is not np.ndarray:  # (a 0-d array squares to a NumPy scalar: no buffer to reuse)
        return 1.0 / t
    return np.divide(1.0, t, out=t)


# exponents PyTorch's pow computes by products (its values, bit for bit), where NumPy's power
# loop calls pow(): up to ~56 ns an element for negative bases on the development VM
TORCH_POWERS = {2.0: np.square, 3.0: _cube, -1.0: lambda x: 1.0 / x, -2.0: _inverse_square}


def _np_cpow(x, y):
    """C's pow on arrays (PyTorch's pow of two tensors): NumPy differs at (-inf, 0.5)."""
    return np.where((x == -np.inf) & (y == 0.5), np.inf, np.power(x, y))


def numpy_rule_namespace():
    """``RULE_FUNCTIONS`` bound to NumPy (the numeric evaluation of a formula on arrays)."""
    return dict(_pow=_np_pow, _cpow=_np_cpow, exp=vecmath.exp, log=vecmath.log,
                sin=vecmath.sin, cos=vecmath.cos, _times=vecmath.times, tan=np.tan, tanh=np.tanh,
                sqrt=np.sqrt, sign=_np_sign, where=vecmath.where, log1p=np.log1p, expm1=np.expm1,
                sigmoid=vecmath.plain_sigmoid, erf=vecmath.erf)


def numpy_formula(expr):
    """``expr`` (a formula, or a part of one) as a lambda ``(g, x, y, out, m, c0, c1)``
    evaluated by NumPy, as ``OpDef.numpy_rules`` evaluates whole formulas."""
    return eval(f"lambda g, x, y, out, m, c0, c1: {_numpy_form(expr)}", numpy_rule_namespace())


def defop(op, name, kind, grad_fn=None, **fields):
    """Declare an op; checks that codes and names stay unique."""
    if op in REGISTRY:
        raise ValueError(f"opcode {op!r} declared twice")
    if kind in ("unary", "binary"):
        assert fields.get("dx"), f"{name}: elementwise ops need a dx formula"
        assert kind == "unary" or fields.get("dy"), f"{name}: binary ops need a dy formula"
    d = OpDef(op, name, kind, grad_fn or f"{name.capitalize()}Backward0", **fields)
    REGISTRY[op] = d
    return d
