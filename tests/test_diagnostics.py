"""identity_check and outside_fraction."""

import warnings

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit.diagnostics import identity_check, outside_fraction
from sknnfit.exceptions import ExtrapolationWarning


def test_identity_check_passes_a_model_that_can_copy_its_inputs():
    X = np.random.default_rng(0).normal(size=(200, 4))
    report = identity_check(LinearRegression(), X)
    assert report.attrs["passed"]
    assert list(report.columns) == ["column", "nrmse", "passed"]
    assert len(report) == 4


def test_identity_check_fails_a_model_that_cannot():
    X = np.random.default_rng(0).normal(size=(200, 3))
    report = identity_check(DummyRegressor(), X)
    assert not report.attrs["passed"]
    assert report.attrs["nrmse"] > 0.5


def test_default_network_passes_on_seed_000_style_inputs():
    # Uniform [0, 1] columns, which input_transform="auto" extends with logs.
    X = np.random.default_rng(0).uniform(0, 1, size=(400, 3))
    model = NNRegressor(max_epochs=5, random_state=0)
    assert identity_check(model, X).attrs["passed"]


def test_identity_check_rejects_1d_input():
    with pytest.raises(ValueError, match="reshape"):
        identity_check(LinearRegression(), np.zeros(10))


def test_outside_fraction_follows_the_predict_warning():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(100, 2))
    model = TargetTransformRegressor(
        NNRegressor((8,), max_epochs=2, random_state=0)
    ).fit(X, X[:, 0])
    X_new = X[:10].copy()
    X_new[:3, 1] = 5.0  # clearly outside
    X_new[3, 0] = X[:, 0].max() + 1e-6  # a hair past the edge: inside
    assert outside_fraction(model, X_new) == pytest.approx(0.3)
    with pytest.warns(ExtrapolationWarning, match=r"30\.0% of the rows"):
        model.predict(X_new)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        model.predict(X[:10])


def test_outside_fraction_needs_a_fitted_network():
    with pytest.raises(ValueError, match="fitted NNRegressor"):
        outside_fraction(LinearRegression(), np.zeros((2, 2)))
