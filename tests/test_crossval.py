"""sknnfit._crossval: the guard of fits with too few rows to hold any out."""

import warnings

import numpy as np
import pytest

from sknnfit import NNRegressor
from sknnfit._crossval import CV_FOLDS, cross_validate
from sknnfit.exceptions import NetworkNotUsedWarning

#: Quick networks; the rule does not depend on their size.
SMALL = {"hidden_layer_sizes": (32, 32), "random_state": 0}


def _noisy_line(n=30, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 1))
    return x, 2 * x[:, 0] + 1 + rng.normal(0, 0.2, n)


def _bump(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    return X, np.exp(-4 * (X**2).sum(axis=1))


def test_a_network_that_loses_out_of_fold_is_not_trained():
    x, y = _noisy_line()
    with pytest.warns(NetworkNotUsedWarning, match="out of fold"):
        model = NNRegressor(**SMALL).fit(x, y)
    assert not model.use_network_ and model.base_kind_ == "linear"
    assert model.max_epochs_ == 0  # the network kept was never trained
    scores = model.validation_rmse_
    assert set(scores) >= {"mean", "network", "linear"}
    assert scores["linear"] < scores["network"]
    grid = np.linspace(-1, 1, 101)[:, None]
    # Close to the line: within the noise (0.2) everywhere.
    assert np.abs(model.predict(grid) - (2 * grid[:, 0] + 1)).max() < 0.2


def test_a_network_that_wins_out_of_fold_is_kept():
    X, y = _bump()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetworkNotUsedWarning)
        model = NNRegressor(**SMALL).fit(X, y)
    assert model.use_network_ and model.network_weight_[0] > 0
    scores = model.validation_rmse_
    closed = min(v for k, v in scores.items() if k not in ("network", "blend"))
    assert scores["network"] < closed


@pytest.mark.parametrize(
    "params",
    [{"early_stopping": False}, {"guard": False}, {"base": "none"}],
)
def test_only_the_default_guard_without_held_out_rows_cross_validates(params):
    x, y = _noisy_line()
    with warnings.catch_warnings():
        warnings.simplefilter("error", NetworkNotUsedWarning)
        model = NNRegressor(**SMALL, max_epochs=20, **params).fit(x, y)
    assert model.use_network_ and model.validation_rmse_ is None


def test_every_fold_predicts_rows_of_positive_weight_only():
    x, y = _noisy_line()
    w = np.ones(len(y))
    w[::3] = 0.0
    y_bad = y.copy()
    y_bad[::3] = 1e3  # weight 0: must not count anywhere
    model = NNRegressor(**SMALL)
    with pytest.warns(NetworkNotUsedWarning):
        model.fit(x, y_bad, sample_weight=w)
    assert model.base_kind_ == "linear"
    grid = np.linspace(-1, 1, 11)[:, None]
    assert np.abs(model.predict(grid) - (2 * grid[:, 0] + 1)).max() < 0.3


def test_cross_validate_on_too_few_rows_or_no_time_measures_nothing():
    x, y = _noisy_line(n=10)
    model = NNRegressor(**SMALL, max_epochs=5).fit(x, y)  # statistics set
    Xb = x
    assert cross_validate(model, x[:2], y[:2], None, Xb[:2], seed=0) is None
    w = np.zeros(10)
    w[:2] = 1.0
    assert cross_validate(model, x, y, w, Xb, seed=0) is None
    spent = cross_validate(model, x, y, None, Xb, seed=0, deadline=0.0)
    assert spent is None
    found = cross_validate(model, x, y, None, Xb, seed=0)
    assert found is not None and set(found.scores) >= {"mean", "network"}
    assert found.weight.shape == (1,)
    assert CV_FOLDS == 5
