"""sknnfit.features: the log-column rule and the input transformers."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sknnfit.estimators import NNRegressor
from sknnfit.exceptions import ClippedPredictionWarning
from sknnfit.features import DECADES_RATIO, log_columns_rule, make_input_transformer
from sknnfit.targets import TargetTransformRegressor

# Column 0 spans six decades, 1 a factor of 2, 2 is signed, 3 holds a zero.
RNG = np.random.default_rng(0)
X = np.column_stack(
    [
        np.logspace(-3, 3, 30),
        RNG.uniform(1, 2, 30),
        RNG.normal(size=30),
        np.r_[0.0, np.logspace(-2, 2, 29)],
    ]
)


# ------------------------------------------------------------------ the rule


def test_log_columns_rule_picks_positive_columns_spanning_decades():
    assert log_columns_rule(X) == [0]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ([1.0, DECADES_RATIO], []),  # exactly a decade: not more than one
        ([1.0, DECADES_RATIO * 1.001], [0]),
        ([-1.0, 1e6], []),  # signed
        ([0.0, 1e6], []),  # not strictly positive
        ([5.0, 5.0], []),  # constant
    ],
)
def test_log_columns_rule_threshold_is_strict(column, expected):
    assert log_columns_rule(np.array(column)[:, None]) == expected


def test_log_columns_rule_returns_python_ints():
    cols = log_columns_rule(np.c_[X[:, 1], X[:, 0]])
    assert cols == [1] and type(cols[0]) is int


def test_log_columns_rule_takes_a_subnormal_minimum_without_overflow_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert log_columns_rule(np.array([[5e-324], [1.0]])) == [0]


# ------------------------------------------------------------------ the kinds


def test_none_passes_inputs_through():
    transformer, cols = make_input_transformer("none", X)
    assert isinstance(transformer, FunctionTransformer) and cols == []
    np.testing.assert_array_equal(transformer.fit_transform(X), X)


def test_standard_standardises_every_column():
    transformer, cols = make_input_transformer("standard", X)
    assert cols == [] and list(transformer.named_steps) == ["scale"]
    Z = transformer.fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)


def test_auto_appends_the_standardised_log_of_decade_columns():
    transformer, cols = make_input_transformer("auto", X)
    assert cols == [0] and list(transformer.named_steps) == ["log", "scale"]
    Z = transformer.fit_transform(X)
    assert Z.shape == (30, 5)
    # The first columns are the inputs themselves, the last the log of column 0.
    expected = np.log(X[:, 0])
    np.testing.assert_allclose(Z[:, 4], (expected - expected.mean()) / expected.std())
    np.testing.assert_allclose(Z[:, 0], (X[:, 0] - X[:, 0].mean()) / X[:, 0].std())


def test_auto_without_decade_columns_only_standardises():
    transformer, cols = make_input_transformer("auto", X[:, 1:3])
    assert cols == [] and list(transformer.named_steps) == ["scale"]
    assert transformer.fit_transform(X[:, 1:3]).shape == (30, 2)


def test_log_replaces_every_strictly_positive_column_and_inverts():
    transformer, cols = make_input_transformer("log", X)
    assert cols == [0, 1]
    Z = transformer.fit_transform(X)
    assert Z.shape == X.shape
    logged = np.log(X[:, 1])
    np.testing.assert_allclose(Z[:, 1], (logged - logged.mean()) / logged.std())
    np.testing.assert_allclose(
        transformer.inverse_transform(Z), X, rtol=1e-10, atol=1e-12
    )


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"input_transform must be one of .*'sqrt'"):
        make_input_transformer("sqrt", X)


def test_transformers_are_unfitted_pipelines():
    transformer, _ = make_input_transformer("auto", X)
    assert isinstance(transformer, Pipeline)
    with pytest.raises(Exception, match="not fitted"):
        transformer.transform(X)


# ------------------------------------------------------------------ predict time


@pytest.mark.parametrize("kind", ["auto", "log"])
@pytest.mark.parametrize("bad", [0.0, -1.0])
def test_log_columns_must_stay_positive_at_predict_time(kind, bad):
    transformer, _ = make_input_transformer(kind, X)
    transformer.fit(X)
    X_new = X[:3].copy()
    X_new[1, 0] = bad
    with pytest.raises(
        ValueError,
        match=rf"Column\(s\) \[0\] were log-transformed at fit time.*"
        rf"smallest: {bad:g}\).*input_transform='standard'",
    ):
        transformer.transform(X_new)


def test_input_is_not_modified():
    before = X.copy()
    for kind in ("auto", "log", "standard", "none"):
        make_input_transformer(kind, X)[0].fit_transform(X)
    np.testing.assert_array_equal(X, before)


# ------------------------------------------------------------------ set_output


@pytest.mark.parametrize("output", ["pandas", "default"])
@pytest.mark.parametrize("kind", ["auto", "standard", "log", "none"])
def test_transformers_return_numpy_whatever_the_set_output_config(kind, output):
    with sklearn.config_context(transform_output=output), warnings.catch_warnings():
        warnings.simplefilter("error")  # FunctionTransformer warns under pandas
        Z = make_input_transformer(kind, X)[0].fit_transform(X)
    assert type(Z) is np.ndarray


def _fit_predict(output, **params):
    rng = np.random.default_rng(0)
    X_train = rng.uniform(1.0, 100.0, size=(80, 2))  # column spans: log appended
    y = np.log(X_train[:, 0]) + X_train[:, 1] / 50
    model = NNRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0)
    model.set_params(**params)
    with sklearn.config_context(transform_output=output), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y)
        return model, X_train, model.predict(X_train)


@pytest.mark.parametrize("base", ["none", "linear", "poly2"])
def test_nnregressor_fits_and_predicts_under_pandas_output(base):
    model, X_train, pred = _fit_predict("pandas", base=base)
    assert type(pred) is np.ndarray and pred.shape == (80,)
    _, _, expected = _fit_predict("default", base=base)
    np.testing.assert_allclose(pred, expected, rtol=1e-6, atol=1e-8)
    # Fitted under one setting, predicting under the other, without a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(model.predict(X_train), pred)


def test_nnregressor_under_pandas_output_with_a_polynomial_base():
    _, _, pred = _fit_predict("pandas", base="poly2")
    _, _, expected = _fit_predict("default", base="poly2")
    assert type(pred) is np.ndarray
    np.testing.assert_allclose(pred, expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("target", ["standard", "log", "rank"])
def test_target_transform_regressor_of_nnregressor_under_pandas_output(target):
    rng = np.random.default_rng(0)
    X_train = rng.uniform(0.0, 2.0, size=(40, 2))
    y = np.exp(X_train.sum(axis=1))
    model = TargetTransformRegressor(
        NNRegressor(hidden_layer_sizes=(8,), max_epochs=3, random_state=0),
        target=target,
    )
    with sklearn.config_context(transform_output="pandas"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ClippedPredictionWarning)
        pred = model.fit(X_train, y).predict(X_train)
    assert type(pred) is np.ndarray and pred.shape == (40,)
    assert np.isfinite(pred).all()


def test_polars_output_is_pinned_too():
    pytest.importorskip("polars")
    with sklearn.config_context(transform_output="polars"):
        Z = make_input_transformer("auto", X)[0].fit_transform(X)
    assert type(Z) is np.ndarray
