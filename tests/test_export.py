"""Tests of sknnfit.export: the ONNX graph predicts what predict does."""

import sys

import numpy as np
import pytest
import torch

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit.exceptions import ExtrapolationWarning
from sknnfit.export import export_onnx

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _session(model_proto):
    return ort.InferenceSession(
        model_proto.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _onnx_predict(estimator, X):
    return _session(export_onnx(estimator)).run(None, {"X": X})[0]


def _assert_same(got, expected):
    """Elementwise to 1e-5 relative (and 1e-12 of the scale, for values near 0)."""
    assert got.shape == expected.shape
    assert got.dtype == np.float64
    scale = np.abs(expected).max()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-12 * scale)


def _data(n=200, positive=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.05 if positive else -1.0, 2.0, size=(n, 3))
    y = np.c_[np.sin(2 * X[:, 0]) + X[:, 1] ** 2, X[:, 0] * X[:, 2] - X[:, 1]]
    return X, y


def _fit(small_nn, X, y, **params):
    model = small_nn(**params).fit(X, y)
    model.use_network_ = True  # the network term, whatever a guard chose
    return model


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"base": "poly2"},
        {"base": "poly3"},
        {"base": "linear"},
        {"base": "none"},
        {"n_ensemble": 2},
        {"multi_output": "separate"},
        {"multi_output": "separate", "n_ensemble": 2},
        {"linear_skip": True},
        {"n_stages": 2},
        {"embedding": "periodic"},
        {"embedding": "periodic", "linear_skip": True, "input_transform": "log"},
    ],
)
@pytest.mark.parametrize("y_ndim", [1, 2])
def test_graph_predicts_as_predict(small_nn, params, y_ndim):
    X, y = _data()
    y = y[:, 0] if y_ndim == 1 else y
    model = _fit(small_nn, X, y, **params)
    X_new = _data(n=300, seed=1)[0]
    _assert_same(_onnx_predict(model, X_new), model.predict(X_new))


@pytest.mark.parametrize(
    "activation", ["relu", "leaky_relu", "tanh", "gelu", "silu", "sin"]
)
def test_every_activation(small_nn, activation):
    X, y = _data()
    model = _fit(small_nn, X, y, activation=activation, hidden_layer_sizes=(8, 8))
    X_new = _data(n=300, seed=1)[0] * 3  # beyond the box: the tails too
    with pytest.warns(ExtrapolationWarning):
        expected = model.predict(X_new)
    _assert_same(_onnx_predict(model, X_new), expected)


@pytest.mark.parametrize("input_transform", ["auto", "log", "none", "standard"])
def test_input_transforms_with_log_columns(small_nn, input_transform):
    X, y = _data(positive=True)
    X[:, 2] *= 1000  # spans decades: log columns
    model = _fit(small_nn, X, y, input_transform=input_transform, base="poly2")
    if input_transform in ("auto", "log"):
        assert 2 in model.log_columns_
    X_new = _data(n=300, positive=True, seed=1)[0] * [1, 1, 1000]
    _assert_same(_onnx_predict(model, X_new), model.predict(X_new))


def test_values_at_or_below_zero_in_an_appended_log_column_predict_as_predict(
    small_nn,
):
    X, y = _data(positive=True)
    X[:, 2] *= 1000
    model = _fit(small_nn, X, y, base="poly2")  # input_transform="auto"
    assert 2 in model.log_columns_
    X_new = _data(n=50, positive=True, seed=1)[0] * [1, 1, 1000]
    X_new[:5, 2] = [0.0, -1.0, -1e3, 1e-300, model.x_min_[2] / 2]
    with pytest.warns(ExtrapolationWarning, match="values <= 0"):
        expected = model.predict(X_new)
    got = _onnx_predict(model, X_new)
    assert np.isfinite(got).all()
    _assert_same(got, expected)


def test_base_alone_when_the_network_is_not_used(small_nn):
    from sknnfit import _inference

    X, y = _data()
    model = _fit(small_nn, X, y, base="poly2")
    model.use_network_ = False
    # What predict computes without the network (the proposed
    # NNRegressor.predict calls _inference.predict).
    base_only = _inference.predict(model, X)
    _assert_same(_onnx_predict(model, X), base_only)
    model.use_network_ = True
    assert not np.allclose(_onnx_predict(model, X), base_only)


@pytest.mark.parametrize("target", ["log", "asinh", "log1p", "standard"])
@pytest.mark.parametrize("y_ndim", [1, 2])
def test_target_transform_regressor(small_nn, target, y_ndim):
    X, _ = _data()
    y = np.c_[np.exp(2 * X[:, 0]), np.exp(X[:, 1] - X[:, 2])]
    if target == "asinh":
        y = np.c_[np.sinh(4 * X[:, 0]), -1e-3 * np.sinh(X[:, 1])]
    y = y[:, 0] if y_ndim == 1 else y
    model = TargetTransformRegressor(small_nn(), target=target).fit(X, y)
    model.regressor_.use_network_ = True
    X_new = _data(n=300, seed=1)[0]
    _assert_same(_onnx_predict(model, X_new), model.predict(X_new))


def test_rank_target_is_not_implemented(small_nn):
    X, y = _data()
    model = TargetTransformRegressor(small_nn(), target="rank").fit(X, y[:, 0])
    with pytest.raises(NotImplementedError, match=r"target='rank'.*quantiles"):
        export_onnx(model)


def test_other_estimators_raise_type_error(small_nn):
    from sklearn.linear_model import LinearRegression

    X, y = _data()
    with pytest.raises(TypeError, match=r"NNRegressor.*got LinearRegression"):
        export_onnx(LinearRegression().fit(X, y))
    wrapped = TargetTransformRegressor(LinearRegression(), target="log")
    wrapped.fit(X, np.exp(y[:, 0]))
    with pytest.raises(TypeError, match=r"regressor is an NNRegressor"):
        export_onnx(wrapped)


def test_custom_module_raises_type_error(small_nn):
    X, y = _data()
    model = _fit(small_nn, X, y)
    model.net_.module_ = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with pytest.raises(TypeError, match=r"Only sknnfit\.modules\.MLP"):
        export_onnx(model)


def test_unfitted_estimator_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        export_onnx(NNRegressor())


def test_missing_onnx_names_the_extra(small_nn, monkeypatch):
    X, y = _data()
    model = _fit(small_nn, X, y)
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx fails
    with pytest.raises(ImportError, match=r'pip install "sknnfit\[onnx\]"'):
        export_onnx(model)


def test_writes_a_file_with_named_dynamic_axes(small_nn, tmp_path):
    X, y = _data()
    model = _fit(small_nn, X, y)
    path = tmp_path / "model.onnx"
    returned = export_onnx(model, path)
    loaded = onnx.load(path)
    assert loaded.SerializeToString() == returned.SerializeToString()
    (x_info,), (y_info,) = loaded.graph.input, loaded.graph.output
    assert (x_info.name, y_info.name) == ("X", "y")
    dims = [d.dim_param or d.dim_value for d in y_info.type.tensor_type.shape.dim]
    assert dims == ["n_samples", 2]
    _assert_same(_session(loaded).run(None, {"X": X[:1]})[0], model.predict(X[:1]))


# ---------------------------------------------------------------------- float64 maths


def _unary(build, x):
    """Run the subgraph ``build(graph, "X")`` on the float64 array ``x``."""
    from sknnfit.export import _Graph

    graph = _Graph(onnx)
    out = build(graph, "X")
    model = graph.model(x_shape=[None], y=out, y_shape=[None], doc="test")
    return _session(model).run(None, {"X": x})[0]


WIDE = np.concatenate([-np.logspace(-12, 1.5, 400), [0.0], np.logspace(-12, 1.5, 400)])


def test_erf_subgraph_is_accurate_to_float64():
    from scipy.special import erf

    from sknnfit.export import _erf

    x = np.concatenate([WIDE, [-30.0, -8.0, -1.0, 1.0, 8.0, 30.0]])
    np.testing.assert_allclose(_unary(_erf, x), erf(x), rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", ["_sinh", "_expm1"])
def test_sinh_and_expm1_subgraphs_keep_small_values_digits(name):
    import sknnfit.export as export

    x = WIDE[np.abs(WIDE) < 700]
    expected = getattr(np, name[1:])(x)
    np.testing.assert_allclose(
        _unary(getattr(export, name), x), expected, rtol=1e-13, atol=1e-300
    )


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_subgraphs_match_pytorch(approximate):
    from sknnfit._inference import Layer
    from sknnfit.export import _activation

    def build(g, x):
        return _activation(g, Layer("gelu", param=approximate), x)

    x = np.linspace(-12, 12, 2001)
    expected = torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate)
    # 1 + tanh(...) cancels for x < -5 in either; the digits left differ there.
    np.testing.assert_allclose(
        _unary(build, x), expected.numpy(), rtol=1e-13, atol=1e-14
    )


def _positive_closed_form(kind):
    """Positive inputs and two outputs that a power law or a Laurent polynomial fits."""
    rng = np.random.default_rng(0)
    if kind == "power":
        X = np.exp(rng.uniform(-3.0, 3.0, size=(300, 3)))
        return X, np.c_[2.0 * X[:, 0] ** 1.5 / X[:, 1], -np.sqrt(X[:, 2])]
    if kind == "network":  # no closed form: the network takes x and log x
        X = np.exp(rng.uniform(-3.0, 1.0, size=(300, 3)))
        return X, np.c_[np.sin(3 * X[:, 0]) + np.log(X[:, 1]), X[:, 0] * X[:, 2]]
    X = np.exp(rng.uniform(0.0, 2.0, size=(1000, 3)))
    return X, np.c_[X[:, 0] + X[:, 1] / X[:, 2] ** 2, 3.0 - X[:, 2] / X[:, 0]]


@pytest.mark.parametrize("kind", ["power", "laurent", "network"])
@pytest.mark.parametrize("input_transform", ["auto", "log", "none"])
def test_a_closed_form_of_positive_inputs_predicts_as_predict(kind, input_transform):
    X, y = _positive_closed_form(kind)
    model = NNRegressor((8,), input_transform=input_transform, random_state=0)
    if kind == "network":
        model.set_params(max_epochs=5)
    model.fit(X, y)
    assert model.base_kind_ == kind or kind == "network"
    X_new = X[:20].copy()
    if input_transform != "log":  # which refuses it
        X_new[0, 1] = -1.0  # its appended log floored, in both
        said = r"Column\(s\) \[1\]"  # by the base or the appended log
        if kind == "network" and input_transform == "none":
            said = "outside the box"  # a network on the inputs alone
        with pytest.warns(ExtrapolationWarning, match=said):
            expected = model.predict(X_new)
    else:
        expected = model.predict(X_new)
    _assert_same(_onnx_predict(model, X_new), expected)
