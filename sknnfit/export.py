"""export_onnx: a fitted model as one ONNX graph, to predict without Python.

The graph is built node by node with :mod:`onnx.helper` from the fitted arrays
that :func:`sknnfit._inference.predict` itself computes with
(:func:`~sknnfit._inference.input_arrays`, :func:`~sknnfit._inference.base_arrays`,
:func:`~sknnfit._inference.network_layers`), in float64 as ``predict`` is, so an
ONNX runtime gives the same predictions to about 1e-12 relative.
``torch.onnx.export`` is not used: it would cover the network only, and recent
PyTorch needs onnxscript for it.
"""

from __future__ import annotations

import math

import numpy as np

from . import _inference
from .bases import LaurentPolynomial, PowerLaw

__all__ = ["export_onnx"]

#: ONNX operator set of the graph: ONNX 1.12 (2022) and every onnxruntime
#: since 1.12 read it.
OPSET = 17

#: IR version that goes with :data:`OPSET`.
IR_VERSION = 8

#: Targets whose way back the graph expresses (``rank`` kinds map back through
#: quantile tables, which it does not).
EXPORTABLE_TARGETS = ("standard", "log", "log1p", "asinh")


def export_onnx(estimator, path=None):
    """Write a fitted model as one ONNX graph: inputs in, predictions out.

    The graph holds the whole of ``predict``: the input transform (logs and
    standardisation), the closed-form base, every network (the mean of an
    ensemble, one network per output group for ``multi_output="separate"``),
    the way back to the units of ``y`` and, for a
    :class:`~sknnfit.TargetTransformRegressor`, the inverse of its target
    transform. It computes in float64, as ``predict`` does.

    Parameters
    ----------
    estimator : NNRegressor or TargetTransformRegressor
        Fitted. A TargetTransformRegressor must wrap an NNRegressor and have
        ``target_`` in ``"standard"``, ``"log"``, ``"log1p"``, ``"asinh"``.
    path : str or path-like, default=None
        Where to write the ``.onnx`` file; None only returns the model.

    Returns
    -------
    model : onnx.ModelProto
        One input ``"X"``, float64 of shape (n_samples, n_features_in_); one
        output ``"y"``, float64 of shape (n_samples,) or (n_samples, n_outputs),
        as ``predict`` returns.

    Raises
    ------
    ImportError
        If the onnx package is not installed.
    TypeError
        If ``estimator`` is not one of the above, or holds a part sknnfit did
        not build (a custom ``module`` passed through ``net_params``).
    NotImplementedError
        For a target transform the graph cannot express (``"rank"``,
        ``"rank_normal"``).

    Notes
    -----
    The graph does not check its inputs and does not warn: rows outside the
    training box, values <= 0 in the columns ``input_transform="log"`` replaces
    by their log (they give NaN; ``predict`` raises) and non-finite predictions
    are the caller's to check. Values <= 0 in the columns whose log
    ``input_transform="auto"`` appends have that log taken at the column's
    training minimum, the column itself keeping its value, as in ``predict``
    (which warns).

    Examples
    --------
    >>> import numpy as np
    >>> from sknnfit import NNRegressor
    >>> from sknnfit.export import export_onnx
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> model = NNRegressor((8,), max_epochs=3, random_state=0).fit(X, X[:, 0] ** 2)
    >>> import onnxruntime
    >>> session = onnxruntime.InferenceSession(
    ...     export_onnx(model).SerializeToString(), providers=["CPUExecutionProvider"]
    ... )
    >>> y_onnx = session.run(None, {"X": X})[0]
    >>> y_onnx.shape, bool(np.allclose(y_onnx, model.predict(X), rtol=1e-10))
    ((50,), True)
    """
    onnx = _import_onnx()
    from sklearn.utils.validation import check_is_fitted

    from .estimators import NNRegressor
    from .targets import TargetTransformRegressor

    transformer = None
    if isinstance(estimator, TargetTransformRegressor):
        check_is_fitted(estimator, "ttr_")
        transformer = estimator.transformer_
        nn_est = estimator.regressor_
        if not isinstance(nn_est, NNRegressor):
            raise TypeError(
                "export_onnx exports a TargetTransformRegressor whose regressor "
                f"is an NNRegressor; got {type(nn_est).__name__}. Export that "
                "regressor with its own converter (e.g. skl2onnx)."
            )
    elif isinstance(estimator, NNRegressor):
        nn_est = estimator
    else:
        raise TypeError(
            "export_onnx exports a fitted NNRegressor or a TargetTransformRegressor "
            f"around one; got {type(estimator).__name__}. For other scikit-learn "
            "models use skl2onnx."
        )
    check_is_fitted(nn_est, "net_")
    graph = _Graph(onnx)
    y = _nn_regressor(graph, nn_est, "X")
    if transformer is not None:
        y = _target_inverse(graph, estimator.target_, transformer, y)
    if nn_est._y_ndim == 1:
        y = graph.op("Reshape", y, graph.const([-1], np.int64))
    y_shape = ["n_samples"] + ([] if nn_est._y_ndim == 1 else [nn_est.n_outputs_])
    model = graph.model(
        x_shape=["n_samples", nn_est.n_features_in_],
        y=y,
        y_shape=y_shape,
        doc=f"sknnfit {type(estimator).__name__}",
    )
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save(model, path)
    return model


def _import_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            'export_onnx needs the onnx package: pip install "sknnfit[onnx]" '
            "(onnx, and onnxruntime to run the exported model)."
        ) from exc
    return onnx


class _Graph:
    """The nodes and constants of one ONNX graph, with unique names."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.constants = [], []
        self._count = 0

    def _name(self, prefix):
        self._count += 1
        return f"{prefix}_{self._count}"

    def const(self, value, dtype=np.float64):
        """A constant tensor (float64 unless told), by name."""
        from onnx import numpy_helper

        name = self._name("c")
        array = np.ascontiguousarray(np.asarray(value, dtype=dtype))
        self.constants.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, *inputs, **attrs):
        """Add one node; the name of its output."""
        out = self._name(op_type.lower())
        self.nodes.append(
            self.onnx.helper.make_node(op_type, list(inputs), [out], **attrs)
        )
        return out

    def columns(self, x, start, end):
        """Columns ``start:end`` of the 2-D tensor ``x``."""
        ints = np.int64
        return self.op(
            "Slice",
            x,
            self.const([start], ints),
            self.const([end], ints),
            self.const([1], ints),
        )

    def model(self, x_shape, y, y_shape, doc):
        from onnx import TensorProto, helper

        from ._version import __version__

        graph = helper.make_graph(
            self.nodes,
            "sknnfit",
            [helper.make_tensor_value_info("X", TensorProto.DOUBLE, x_shape)],
            [helper.make_tensor_value_info("y", TensorProto.DOUBLE, y_shape)],
            initializer=self.constants,
        )
        # The last node writes "y": rename its output rather than add an Identity.
        for node in graph.node:
            node.output[:] = ["y" if o == y else o for o in node.output]
        return helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            ir_version=IR_VERSION,
            producer_name="sknnfit",
            producer_version=__version__,
            doc_string=doc,
        )


# ---------------------------------------------------------------------- NNRegressor


def _nn_regressor(g, est, x):
    """The nodes of ``NNRegressor.predict``; the 2-D output's name."""
    inputs = _inference.input_arrays(est.input_transformer_, est.x_min_)
    if inputs is None:
        raise TypeError(
            f"input_transformer_ ({type(est.input_transformer_).__name__}) is not "
            "one make_input_transformer builds; export_onnx cannot read it."
        )
    xt = _input_transform(g, inputs, x, est.n_features_in_)
    base = None
    if est.base_ is not None:
        arrays = _inference.base_arrays(est.base_)
        if arrays is None and not isinstance(est.base_, (PowerLaw, LaurentPolynomial)):
            raise TypeError(
                f"base_ ({type(est.base_).__name__}) is not one make_base builds; "
                "export_onnx cannot read it."
            )
        width = est.n_features_in_ + (len(inputs.log_columns) if inputs.append else 0)
        base_in = xt if width == est.n_features_in_ else None
        if base_in is None:
            base_in = g.columns(xt, 0, est.n_features_in_)
        if isinstance(est.base_, LaurentPolynomial):
            base = _laurent(g, est.base_, base_in)
        elif arrays is None:
            base = _power_law(g, est.base_, base_in)
        else:
            base = _base(g, arrays, base_in, est.n_features_in_)
    out = base
    if getattr(est, "use_network_", True):
        nets = _ensemble(g, est.nets_, xt, est.n_outputs_)
        nets = g.op("Mul", nets, g.const(est.residual_scale_))
        out = nets if base is None else g.op("Add", nets, base)
        for scale, stage in _inference.later_stages(est):  # n_stages
            stage = _ensemble(g, stage, xt, est.n_outputs_)
            out = g.op("Add", out, g.op("Mul", stage, g.const(scale)))
    elif out is None:  # the mean alone: zeros, one per row and output
        out = g.op("Mul", g.columns(x, 0, 1), g.const(np.zeros(est.n_outputs_)))
    out = g.op("Mul", out, g.const(est.y_scale_))
    return g.op("Add", out, g.const(est.y_mean_))


def _input_transform(g, inputs, x, n_features):
    """Logs and standardisation (:class:`~sknnfit._inference.InputArrays`)."""
    cols = list(inputs.log_columns)
    if cols:
        logs = g.op("Gather", x, g.const(cols, np.int64), axis=1)
        if inputs.log_floor is not None:  # a value <= 0 takes the floor's log
            positive = g.op("Greater", logs, g.const(0.0))
            logs = g.op("Where", positive, logs, g.const(inputs.log_floor))
        logs = g.op("Log", logs)
        if inputs.append:
            x = g.op("Concat", x, logs, axis=1)
        else:
            keep = [j for j in range(n_features) if j not in cols]
            order = np.argsort(keep + cols)  # back to the input's column order
            kept = g.op("Gather", x, g.const(keep, np.int64), axis=1)
            both = g.op("Concat", kept, logs, axis=1) if keep else logs
            x = g.op("Gather", both, g.const(order, np.int64), axis=1)
    if inputs.mean is None:
        return x
    x = g.op("Sub", x, g.const(inputs.mean))
    return g.op("Div", x, g.const(inputs.scale))


def _base(g, arrays, x, n_features):
    """The closed-form base (:class:`~sknnfit._inference.BaseArrays`), 2-D."""
    p = x
    if arrays.degree > 1:
        blocks = _inference.polynomial_blocks(n_features, arrays.degree)
        cols = [g.columns(x, j, j + 1) for j in range(n_features)]
        for degree in range(2, arrays.degree + 1):
            # The blocks of one degree read only the columns of the one before.
            first = (degree - 2) * n_features
            new = [
                g.op("Mul", g.columns(p, start, end), cols[col])
                for start, end, col, _ in blocks[first : first + n_features]
            ]
            p = g.op("Concat", p, *new, axis=1)
        p = g.op("Div", g.op("Sub", p, g.const(arrays.mean)), g.const(arrays.scale))
    coef = np.asarray(arrays.coef, dtype=np.float64)
    coef = coef.reshape(-1, coef.shape[-1])  # (n_outputs, n_terms)
    out = g.op("MatMul", p, g.const(coef.T))
    return g.op("Add", out, g.const(np.reshape(arrays.intercept, -1)))


def _positive_logs(g, model, x):
    """The logs of the raw inputs of a model of positive inputs, as its ``_logs``."""
    x = g.op("Add", g.op("Mul", x, g.const(model.x_scale_)), g.const(model.x_offset_))
    if model.logged_.all():
        return x
    floor = np.where(model.logged_, 1.0, model.x_floor_)
    positive = g.op("Where", g.op("Greater", x, g.const(0.0)), x, g.const(floor))
    logs = g.op("Log", positive)
    if model.logged_.any():
        logs = g.op("Where", g.const(model.logged_, dtype=bool), x, logs)
    return logs


def _power_law(g, law, x):
    """A fitted :class:`~sknnfit.bases.PowerLaw`, as its ``predict``, 2-D."""
    out = g.op("MatMul", _positive_logs(g, law, x), g.const(np.asarray(law.coef_).T))
    out = g.op("Exp", g.op("Add", out, g.const(law.intercept_)))
    out = g.op("Sub", g.op("Mul", out, g.const(law.sign_)), g.const(law.y_offset_))
    return g.op("Div", out, g.const(law.y_scale_))


def _laurent(g, model, x):
    """A fitted :class:`~sknnfit.bases.LaurentPolynomial`, as its ``predict``, 2-D."""
    logs = g.op("Sub", _positive_logs(g, model, x), g.const(model.log_centre_))
    products = g.op("Exp", g.op("MatMul", logs, g.const(model.exponents_.T)))
    out = g.op("MatMul", products, g.const(np.asarray(model.coef_).T))
    out = g.op("Sub", out, g.const(model.y_offset_))
    return g.op("Div", out, g.const(model.y_scale_))


def _ensemble(g, nets, x, n_outputs):
    """The mean of the networks' outputs for each output column, 2-D."""
    if len(nets) == 1 and list(nets[0][0]) == list(range(n_outputs)):
        return _network(g, nets[0][1].module_, x)
    total = None
    counts = np.zeros(n_outputs)
    for group, net in nets:
        # A 0/1 matrix puts the net's columns in their place: exact in float64.
        place = np.zeros((len(group), n_outputs))
        place[np.arange(len(group)), group] = 1.0
        counts[group] += 1
        out = g.op("MatMul", _network(g, net.module_, x), g.const(place))
        total = out if total is None else g.op("Add", total, out)
    return g.op("Div", total, g.const(np.maximum(counts, 1)))


def _network(g, module, x):
    """One :class:`~sknnfit.modules.MLP`, in float64."""
    trunk, skip = _inference.network_layers(module)
    out = _layers(g, trunk, x)
    if skip is not None:
        out = g.op("Add", out, _layers(g, skip, x))
    return out


def _layers(g, layers, x):
    for layer in layers:
        if layer.kind == "linear":
            weight, bias = (_numpy(t) for t in (layer.weight, layer.bias))
            x = g.op("Gemm", x, g.const(weight), g.const(bias), transB=1)
        else:
            x = _activation(g, layer, x)
    return x


def _periodic(g, frequencies, x):
    """``x`` followed by its periodic features (``modules.periodic_features``)."""
    n, k = frequencies.shape
    ints = np.int64
    z = g.op("Unsqueeze", g.columns(x, 0, n), g.const([2], ints))  # (rows, n, 1)
    z = g.op("Mul", z, g.const(2.0 * math.pi * frequencies))  # (rows, n, k)
    both = g.op("Concat", g.op("Sin", z), g.op("Cos", z), axis=2)
    flat = g.op("Reshape", both, g.const([0, 2 * n * k], ints))
    return g.op("Concat", x, flat, axis=1)


def _numpy(tensor):
    return tensor.detach().cpu().double().numpy()


def _activation(g, layer, x):
    kind = layer.kind
    if kind == "periodic":
        return _periodic(g, _numpy(layer.weight), x)
    if kind == "relu":
        return g.op("Relu", x)
    if kind == "tanh":
        return g.op("Tanh", x)
    if kind == "silu":
        # x / (1 + exp(-x)), not x * Sigmoid(x): onnxruntime 1.30 fuses the
        # latter into QuickGelu, which has no float64 kernel. For x below
        # -709, exp overflows to inf and the quotient is -0, as it should be.
        denominator = g.op("Add", g.op("Exp", g.op("Neg", x)), g.const(1.0))
        return g.op("Div", x, denominator)
    if kind == "leaky_relu":
        # Not LeakyRelu: its alpha is a float32 attribute, 0.01 would move.
        scaled = g.op("Mul", x, g.const(layer.param))
        return g.op("Where", g.op("Greater", x, g.const(0.0)), x, scaled)
    if kind == "sin":
        return g.op("Sin", g.op("Mul", x, g.const(layer.param)))
    if kind == "gelu" and layer.param == "tanh":
        # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), as PyTorch's
        cube = g.op("Mul", g.op("Mul", x, x), x)
        inner = g.op("Add", x, g.op("Mul", cube, g.const(0.044715)))
        inner = g.op("Mul", inner, g.const(math.sqrt(2 / math.pi)))
        half = g.op("Mul", x, g.const(0.5))
        return g.op("Mul", half, g.op("Add", g.op("Tanh", inner), g.const(1.0)))
    if kind == "gelu":
        # 0.5 x (1 + erf(x / sqrt(2))); onnxruntime has no float64 Erf.
        erf = _erf(g, g.op("Mul", x, g.const(math.sqrt(0.5))))
        half = g.op("Mul", x, g.const(0.5))
        return g.op("Mul", half, g.op("Add", erf, g.const(1.0)))
    raise TypeError(f"export_onnx cannot express the activation {kind!r}.")


# ---------------------------------------------------------------------- float64 maths
# onnxruntime computes Erf and Sinh in float32 only; these are float64 graphs.

# Rational approximations of erf and erfc from the Cephes library (S. L.
# Moshier, public domain), the ones SciPy's ndtr uses: relative error about
# 1e-16 (tests/test_export.py checks them against scipy.special.erf).
# Highest power first; the denominators' leading coefficient is 1.
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    1.0,
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


def _polynomial(g, x, coefficients):
    """Horner's scheme; ``coefficients`` from the highest power down."""
    out = g.const(coefficients[0])
    for c in coefficients[1:]:
        out = g.op("Add", g.op("Mul", out, x), g.const(c))
    return out


def _ratio(g, x, numerator, denominator):
    num = _polynomial(g, x, numerator)
    return g.op("Div", num, _polynomial(g, x, denominator))


def _erf(g, x):
    """erf(x) in float64: Cephes' three ranges, picked with Where."""
    a = g.op("Abs", x)
    small = g.op("Mul", x, _ratio(g, g.op("Mul", x, x), _ERF_T, _ERF_U))
    gauss = g.op("Exp", g.op("Neg", g.op("Mul", a, a)))
    mid = g.op("Mul", gauss, _ratio(g, a, _ERFC_P, _ERFC_Q))
    far = g.op("Mul", gauss, _ratio(g, a, _ERFC_R, _ERFC_S))
    erfc = g.op("Where", g.op("Less", a, g.const(8.0)), mid, far)
    # erf = sign(x) (1 - erfc(|x|)) beyond 1; Sign(0) = 0 does not arise there.
    large = g.op("Mul", g.op("Sign", x), g.op("Sub", g.const(1.0), erfc))
    return g.op("Where", g.op("Greater", a, g.const(1.0)), large, small)


def _tanh_half(g, z):
    return g.op("Tanh", g.op("Mul", z, g.const(0.5)))


def _sinh(g, z):
    """sinh(z) in float64: 2t / (1 - t^2) with t = tanh(z / 2) where |z| < 1.

    ``(exp(z) - exp(-z)) / 2`` alone loses the digits of small ``z``.
    """
    t = _tanh_half(g, z)
    near = g.op(
        "Div",
        g.op("Mul", t, g.const(2.0)),
        g.op("Sub", g.const(1.0), g.op("Mul", t, t)),
    )
    far = g.op("Sub", g.op("Exp", z), g.op("Exp", g.op("Neg", z)))
    far = g.op("Mul", far, g.const(0.5))
    return g.op("Where", g.op("Less", g.op("Abs", z), g.const(1.0)), near, far)


def _expm1(g, z):
    """exp(z) - 1 in float64: 2t / (1 - t) with t = tanh(z / 2) where |z| < 1."""
    t = _tanh_half(g, z)
    near = g.op("Div", g.op("Mul", t, g.const(2.0)), g.op("Sub", g.const(1.0), t))
    far = g.op("Sub", g.op("Exp", z), g.const(1.0))
    return g.op("Where", g.op("Less", g.op("Abs", z), g.const(1.0)), near, far)


# ---------------------------------------------------------------------- targets


def _target_inverse(g, target, transformer, z):
    """The way back from a TargetTransformRegressor's scale, elementwise."""
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    from . import target_transforms as tt

    if target not in EXPORTABLE_TARGETS:
        raise NotImplementedError(
            f"export_onnx cannot express target={target!r}: it maps predictions "
            "back through the training quantiles (piecewise-linear interpolation "
            "with clipping). Refit with target='standard', 'log', 'log1p' or "
            "'asinh' to export, or predict in Python."
        )
    if target == "standard" and type(transformer) is StandardScaler:
        if transformer.with_std:
            z = g.op("Mul", z, g.const(transformer.scale_))
        if transformer.with_mean:
            z = g.op("Add", z, g.const(transformer.mean_))
        return z
    if type(transformer) is FunctionTransformer:
        if target == "log" and transformer.inverse_func is tt._exp:
            return g.op("Exp", z)
        if target == "log1p" and transformer.inverse_func is tt._expm1:
            return _expm1(g, z)
    if target == "asinh" and type(transformer) is tt.AsinhTransformer:
        return g.op("Mul", _sinh(g, z), g.const(transformer.scale_))
    raise TypeError(
        f"The transformer of target={target!r} ({type(transformer).__name__}) is "
        "not the one make_target_transformer builds; export_onnx cannot read it."
    )
