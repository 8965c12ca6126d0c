"""Tests for sknnfit._outliers and the warning NNRegressor gives from it."""

import warnings

import numpy as np
import pytest

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit._outliers import OUTLIER_SHARE, SPREAD_RATIO, outlying_targets
from sknnfit.exceptions import TargetOutlierWarning


def _data(n=300, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X[:, 0] ** 2 + X[:, 1]


def test_one_extreme_value_dominates():
    _, y = _data()
    y[17] = 1e9
    (found,) = outlying_targets(y[:, None])
    assert found["output"] == 0 and found["row"] == 17 and found["value"] == 1e9
    assert found["n_rows"] == 1
    assert found["std_without"] == pytest.approx(np.delete(y, 17).std())
    assert found["std_without"] <= SPREAD_RATIO * found["std"]


def test_heavy_tails_spikes_and_plain_data_are_not_flagged():
    rng = np.random.default_rng(1)
    x = rng.uniform(1e-6, 1e-3, size=100_000)
    heavy = 1.0 / x  # formula5's tail: many rows carry it, not a few
    lognormal = np.exp(3 * rng.normal(size=10_000))
    spikes = np.zeros(1_000)
    spikes[[3, 500]] = 50.0  # a constant bulk: nothing hidden under the scale
    for y in (heavy, lognormal, spikes, _data()[1]):
        assert outlying_targets(y[:, None]) == []


def test_the_share_of_rows_left_out_grows_with_the_data():
    rng = np.random.default_rng(2)
    y = rng.normal(size=5_000)
    k = int(np.ceil(OUTLIER_SHARE * len(y)))  # 5 rows
    y[:k] = 1e9
    assert outlying_targets(y[:, None])[0]["n_rows"] == k
    y[k] = 1e9  # one more than is left out: no longer "a few"
    assert outlying_targets(y[:, None]) == []


def test_weights_and_outputs():
    _, y = _data()
    y2 = np.column_stack([y, y.copy()])
    y2[5, 1] = -1e9
    (found,) = outlying_targets(y2)
    assert found["output"] == 1 and found["row"] == 5
    w = np.ones(len(y))
    w[5] = 0.0  # a row of weight 0 is absent
    assert outlying_targets(y2, w) == []


def test_tiny_data_is_not_flagged():
    assert outlying_targets(np.array([[0.0], [1e9]])) == []


def test_nnregressor_warns_and_names_the_fix():
    X, y = _data()
    y[-1] = 1e9
    with pytest.warns(TargetOutlierWarning, match=r"row 299.*target='asinh'"):
        NNRegressor(max_epochs=2, random_state=0).fit(X, y)


@pytest.mark.parametrize("target", ["asinh", "auto"])
def test_asinh_target_fits_the_other_rows_without_the_warning(target):
    # target="auto" picks asinh here by the same rule (auto_target's rule 3).
    X, y = _data()
    y_out = y.copy()
    y_out[-1] = 1e9
    model = TargetTransformRegressor(NNRegressor(random_state=0), target=target)
    with warnings.catch_warnings():
        warnings.simplefilter("error", TargetOutlierWarning)
        model.fit(X, y_out)
    assert model.target_ == "asinh"
    assert model.score(X[:-1], y[:-1]) > 0.9
    # On the standard scale the network is left with the mean.
    standard = TargetTransformRegressor(NNRegressor(random_state=0))
    with pytest.warns(TargetOutlierWarning):
        standard.set_params(target="standard").fit(X, y_out)
    assert standard.score(X[:-1], y[:-1]) < 0
