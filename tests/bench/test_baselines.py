import re
import sys

import numpy as np
import pytest
from sklearn.base import clone, is_regressor

from sknnfit.bench.baselines import (
    BASELINES,
    PerOutputRegressor,
    PolynomialRegressor,
    make_baseline,
)

# Small settings so each fit takes well under a second.
FAST_PARAMS = {
    "poly": {"max_degree": 3},
    "hgb": {"max_iter": 20},
    "rf": {"n_estimators": 10},
    "mlp": {"hidden_layer_sizes": (8,), "max_iter": 50},
    "lgbm": {"n_estimators": 20},
    "xgb": {"n_estimators": 20},
}


def _available(name):
    try:
        make_baseline(name)
    except ImportError:
        return False
    return True


AVAILABLE = [name for name in BASELINES if _available(name)]


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(200, 3))
    Y = np.column_stack([X[:, 0] ** 2 + X[:, 1], np.sin(3 * X[:, 2])])
    return X, Y


@pytest.mark.parametrize("name", AVAILABLE)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_baseline_fits_1d_and_2d_y_and_predicts_in_y_shape(name, data):
    X, Y = data
    model = make_baseline(name, **FAST_PARAMS[name])
    assert is_regressor(model)
    assert model.fit(X, Y[:, 0]).predict(X[:7]).shape == (7,)
    model = clone(model)
    assert model.fit(X, Y).predict(X[:7]).shape == (7, 2)


@pytest.mark.parametrize("name", AVAILABLE)
def test_baseline_passes_clone_and_keeps_params(name):
    model = make_baseline(name, random_state=7, **FAST_PARAMS[name])
    cloned = clone(model)
    assert cloned.get_params().keys() == model.get_params().keys()
    assert "random_state" in " ".join(cloned.get_params())


def test_lightgbm_baseline_passes_its_parameters():
    pytest.importorskip("lightgbm")  # part of the dev extra; optional for users
    model = make_baseline("lgbm", n_estimators=5)
    assert model.estimator.get_params()["verbose"] == -1
    assert model.estimator.get_params()["n_estimators"] == 5


@pytest.mark.parametrize(
    ("name", "module", "hint"),
    [
        ("xgb", "xgboost", "pip install xgboost"),
        ("lgbm", "lightgbm", 'pip install "sknnfit[bench]"'),
    ],
)
def test_missing_optional_engine_names_the_install_command(
    monkeypatch, name, module, hint
):
    # A None entry in sys.modules makes `import module` raise ImportError.
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=f"needs {module}.*{re.escape(hint)}"):
        make_baseline(name)


def test_unknown_baseline_lists_valid_names_and_suggests():
    with pytest.raises(ValueError, match=r"Did you mean 'hgb'\?.*'poly', 'hgb'"):
        make_baseline("hbg")


def test_params_reach_the_core_estimator():
    assert make_baseline("hgb", max_iter=50).estimator.max_iter == 50
    assert make_baseline("rf", n_estimators=5).n_estimators == 5
    mlp = make_baseline("mlp", alpha=0.1).regressor.named_steps["mlp"]
    assert mlp.alpha == 0.1
    assert mlp.early_stopping is True
    assert make_baseline("poly", max_degree=2).max_degree == 2


def test_poly_recovers_square_and_extrapolates():
    rng = np.random.RandomState(0)
    x = rng.uniform(-2, 2, size=(200, 1))
    model = make_baseline("poly", max_degree=6).fit(x, x[:, 0] ** 2)
    assert model.degree_ >= 2
    grid = np.linspace(-4, 4, 41)[:, None]
    np.testing.assert_allclose(model.predict(grid), grid[:, 0] ** 2, atol=1e-3)
    assert set(model.cv_scores_) == set(model.degrees_) == set(range(1, 7))


def test_poly_skips_degrees_over_the_feature_budget():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 10))
    # 10 inputs: degree 2 gives 65 features, degree 3 gives 285.
    model = PolynomialRegressor(max_degree=4, max_features=100).fit(X, X[:, 0])
    assert model.degrees_ == [1, 2]


def test_poly_keeps_degree_one_when_nothing_else_fits_the_budget():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 4))
    model = PolynomialRegressor(max_features=5).fit(X, X @ [1.0, 2.0, 3.0, 4.0])
    assert model.degree_ == 1
    assert model.cv_scores_ == {}


def test_poly_handles_huge_targets():
    rng = np.random.RandomState(0)
    x = rng.uniform(1, 2, size=(100, 1))
    y = 1e12 * x[:, 0] ** 2
    model = PolynomialRegressor(max_degree=3, random_state=0).fit(x, y)
    np.testing.assert_allclose(model.predict(x), y, rtol=1e-6)


def test_poly_subsamples_rows_for_the_degree_search():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 1))
    model = PolynomialRegressor(max_degree=3, max_search_samples=50, random_state=0)
    model.fit(X, X[:, 0] ** 3)
    assert model.degree_ == 3
    # The final model is refitted on every row.
    assert model.pipeline_.regressor_.named_steps["scale"].n_samples_seen_ == 300


def test_polynomial_regressor_estimator_basics():
    model = PolynomialRegressor(max_degree=3, cv=4, random_state=1)
    params = model.get_params()
    assert params["max_degree"] == 3
    assert params["cv"] == 4
    cloned = clone(model)
    assert cloned is not model
    assert cloned.get_params() == params
    model.set_params(max_degree=2)
    assert model.max_degree == 2
    with pytest.raises(ValueError, match="max_degree"):
        PolynomialRegressor(max_degree=0).fit(np.zeros((5, 1)), np.zeros(5))
    with pytest.raises(Exception, match="not fitted"):
        PolynomialRegressor().predict(np.zeros((2, 1)))


def test_per_output_regressor_rejects_missing_y():
    from sklearn.linear_model import LinearRegression

    with pytest.raises(ValueError, match="requires y to be passed"):
        PerOutputRegressor(LinearRegression()).fit(np.zeros((3, 1)), None)


def _weighted_data():
    rng = np.random.RandomState(3)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = X[:, 0] ** 3 - 2 * X[:, 0] * X[:, 1] + 0.05 * rng.normal(size=120)
    return X, y


def test_polynomial_integer_weights_fit_as_repeated_rows():
    X, y = _weighted_data()
    w = np.random.RandomState(0).randint(1, 4, size=len(y))
    # One penalty, so leave-one-out cannot choose differently for the copies.
    params = {"max_degree": 3, "alphas": (1e-3,), "random_state": 0}
    weighted = PolynomialRegressor(**params).fit(X, y, sample_weight=w)
    repeated = PolynomialRegressor(**params).fit(
        np.repeat(X, w, axis=0), np.repeat(y, w)
    )
    assert weighted.degree_ == repeated.degree_ == 3
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-9, atol=1e-10
    )
    unweighted = PolynomialRegressor(**params).fit(X, y)
    assert np.abs(unweighted.predict(X) - weighted.predict(X)).max() > 1e-6


def test_polynomial_zero_weights_drop_rows():
    X, y = _weighted_data()
    w = np.ones(len(y))
    w[::3] = 0.0
    y_bad = y.copy()
    y_bad[::3] = 100.0  # rows with weight 0 must not matter
    params = {"max_degree": 1, "alphas": (1e-3,), "random_state": 0}
    weighted = PolynomialRegressor(**params).fit(X, y_bad, sample_weight=w)
    dropped = PolynomialRegressor(**params).fit(X[w > 0], y[w > 0])
    np.testing.assert_allclose(
        weighted.predict(X), dropped.predict(X), rtol=1e-9, atol=1e-10
    )


def test_polynomial_rejects_misshaped_weights():
    X, y = _weighted_data()
    with pytest.raises(ValueError, match="sample_weight"):
        PolynomialRegressor(max_degree=2).fit(X, y, sample_weight=np.ones(3))


def test_per_output_passes_weights_to_each_clone():
    from sklearn.linear_model import LinearRegression

    X, y = _weighted_data()
    Y = np.column_stack([y, -y])
    w = np.ones(len(y))
    w[::3] = 0.0
    Y_bad = Y.copy()
    Y_bad[::3] = 50.0
    weighted = PerOutputRegressor(LinearRegression()).fit(X, Y_bad, sample_weight=w)
    dropped = PerOutputRegressor(LinearRegression()).fit(X[w > 0], Y[w > 0])
    np.testing.assert_allclose(weighted.predict(X), dropped.predict(X), atol=1e-10)
    one = PerOutputRegressor(LinearRegression()).fit(X, y, sample_weight=w)
    assert one.predict(X).shape == (len(y),)


def test_lgbm_follows_omp_num_threads(monkeypatch):
    pytest.importorskip("lightgbm")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert make_baseline("lgbm").estimator.get_params()["n_jobs"] == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    from lightgbm import LGBMRegressor

    default = LGBMRegressor().get_params()["n_jobs"]
    assert make_baseline("lgbm").estimator.get_params()["n_jobs"] == default


@pytest.mark.parametrize("n_rows", [4, 8])
def test_polynomial_search_on_fewer_rows_than_folds_of_two(n_rows):
    from sknnfit.bench.baselines import PolynomialRegressor

    x = np.arange(float(n_rows))[:, None]
    model = PolynomialRegressor(cv=5).fit(x, x[:, 0] ** 2)
    assert model.degree_ == 2
    np.testing.assert_allclose(model.predict([[10.0]]), [100.0], rtol=1e-6)
