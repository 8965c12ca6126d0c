"""Tests for sknnfit.targets: TargetTransformRegressor, the estimator.

The transformers it builds are tested in test_target_transforms.py.
"""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import BaseEstimator
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknnfit.datasets import make_problem
from sknnfit.estimators import NNRegressor
from sknnfit.exceptions import ClippedPredictionWarning
from sknnfit.target_transforms import (
    TARGETS,
    AsinhTransformer,
    auto_target,
    make_target_transformer,
)
from sknnfit.targets import TargetTransformRegressor

from .test_target_transforms import ELEMENTS, SHAPES, assert_round_trip

KINDS = [k for k in TARGETS if k != "auto"]


def small_nn(**params):
    # adamw pinned: these tests are about targets, not about NNRegressor's choice
    # of optimizer, and stay fast and stable whatever that default becomes.
    defaults = {
        "hidden_layer_sizes": (16,),
        "max_epochs": 10,
        "optimizer": "adamw",
        "random_state": 0,
    }
    return NNRegressor(**{**defaults, **params})


# ---------------------------------------------------------------------- round trips


@pytest.mark.parametrize("kind", [*KINDS, "auto"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_regressor_round_trips_recalled_targets(kind, data):
    # A 1-nearest-neighbour regressor recalls its transformed training targets
    # exactly, so predict on the training X is inverse(forward(y)), end to end
    # and in the shape of y.
    elements = ELEMENTS.get(kind, ELEMENTS["standard"])
    y = data.draw(hnp.arrays(np.float64, SHAPES, elements=elements))
    X = np.arange(len(y), dtype=float).reshape(-1, 1)
    model = TargetTransformRegressor(KNeighborsRegressor(n_neighbors=1), target=kind)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pred = model.fit(X, y).predict(X)
    assert pred.shape == y.shape
    assert_round_trip(y, pred, kind)


# ---------------------------------------------------------------------- bad input


def test_auto_target_fits_y_too_large_to_standardise():
    # NNRegressor alone refuses such y (it standardises it); "auto" takes asinh.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] ** 2 + 0.1 * X[:, 1]) * 1e300
    with pytest.raises(ValueError, match="too large to standardise"):
        NNRegressor(max_epochs=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way
        model = TargetTransformRegressor(
            NNRegressor((16,), max_epochs=30, random_state=0), target="auto"
        ).fit(X, y)
        pred = model.predict(X) / 1e300
    assert model.target_ == "asinh" and np.isfinite(pred).all()
    assert np.corrcoef(pred, y / 1e300)[0, 1] > 0.9


def test_fit_checks_that_y_suits_the_target():
    X = np.arange(3.0).reshape(-1, 1)
    with pytest.raises(ValueError, match=r"target='log' needs y > 0.*\(output 1\)"):
        TargetTransformRegressor(Ridge(), target="log").fit(
            X, [[1.0, 2.0], [3.0, -7.5], [5.0, 6.0]]
        )


@pytest.mark.parametrize(
    ("bad", "match"), [(np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")]
)
@pytest.mark.parametrize("kind", ["standard", "rank", "auto"])
def test_non_finite_targets_are_rejected(kind, bad, match):
    X = np.arange(4.0).reshape(-1, 1)
    y = np.array([1.0, bad, 2.0, 3.0])
    with pytest.raises(
        ValueError,
        match=rf"^Input y contains {match}: .* the first at row 1\. Drop those rows "
        r"\(from X too\) before fitting; a target transform cannot learn from "
        r"missing targets\.$",
    ):
        TargetTransformRegressor(Ridge(), target=kind).fit(X, y)


def test_non_finite_2d_target_is_located_by_row_and_column():
    X = np.arange(4.0).reshape(-1, 1)
    y = np.ones((4, 3))
    y[2, 1], y[3, 0] = np.inf, np.nan
    with pytest.raises(
        ValueError, match=r"1 NaN and 1 infinite.*row 2, column 1\."
    ) as e:
        TargetTransformRegressor(Ridge()).fit(X, y)
    # Imputing in a Pipeline acts on X: it is no fix for missing targets.
    assert "Imputer" not in str(e.value)


def test_unknown_target_is_rejected_in_fit():
    model = TargetTransformRegressor(Ridge(), target="logarithm")
    with pytest.raises(ValueError, match=r"'target' parameter .* must be a str among"):
        model.fit(np.ones((3, 1)), [1.0, 2.0, 3.0])


def test_auto_target_is_resolved_in_fit_by_auto_target():
    X = np.arange(50.0).reshape(-1, 1)
    for y in (np.geomspace(0.1, 1e3, 50), np.r_[np.linspace(-1, 1, 49), 500.0]):
        model = TargetTransformRegressor(Ridge(), target="auto").fit(X, y)
        assert model.target_ == auto_target(y)
        assert model.target == "auto"


def _formula5(n=2000, seed=0):
    """Seed 001's formula: heavy-tailed y, a sum of products of powers of x."""
    X, y, _, _ = make_problem("formula5", seed, n_train=n, n_test=1)
    return X, y


def test_auto_keeps_y_as_given_where_a_closed_form_model_fits_it_exactly():
    X, y = _formula5(n=4500)  # 3,600 training rows: 3 per product of degree 5
    assert auto_target(y) == "asinh"
    model = TargetTransformRegressor(NNRegressor(random_state=0), target="auto")
    model.fit(X, y)
    assert model.target_ == "standard"
    assert model.regressor_.base_kind_ == "laurent"
    X_new, y_new = _formula5(seed=1)
    np.testing.assert_allclose(model.predict(X_new), y_new, rtol=1e-8, atol=1e-8)


def test_auto_transforms_y_where_no_closed_form_model_is_exact():
    X, y = _formula5(n=1000)  # 800 training rows: too few for degree 5 (or 4)
    model = TargetTransformRegressor(small_nn(max_epochs=2), target="auto")
    assert model.fit(X, y).target_ == "asinh"


def _exponential(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 3, size=(n, 2))
    return X, np.exp(2 * X[:, 0]) * (1 + X[:, 1])


def test_y_val_reaches_the_regressor_on_the_scale_it_learns():
    X, y = _exponential(300, 0)
    X_val, y_val = _exponential(80, 1)
    model = TargetTransformRegressor(small_nn(optimizer="lbfgs"), target="log")
    model.fit(X, y, X_val=X_val, y_val=y_val)
    # The same regressor fitted by hand on the transformed targets, held-out
    # rows included, predicts the same.
    scale = make_target_transformer("log", y.reshape(-1, 1)).fit(y.reshape(-1, 1))
    direct = small_nn(optimizer="lbfgs").fit(
        X,
        scale.transform(y.reshape(-1, 1)).ravel(),
        X_val=X_val,
        y_val=scale.transform(y_val.reshape(-1, 1)).ravel(),
    )
    np.testing.assert_allclose(
        model.regressor_.predict(X_val), direct.predict(X_val), rtol=1e-6, atol=1e-9
    )
    assert model.regressor_.validation_rmse_["mean"] < 2.0


def test_y_val_outside_the_target_domain_is_refused():
    X, y = _exponential(50, 0)
    model = TargetTransformRegressor(small_nn(), target="log")
    with pytest.raises(ValueError, match=r"y_val: target='log' needs y > 0"):
        model.fit(X, y, X_val=X[:5], y_val=-y[:5])


# ---------------------------------------------------------------------- warnings


@pytest.mark.parametrize("kind", ["rank", "rank_normal"])
def test_rank_targets_warn_when_predictions_are_clipped(kind):
    X = np.linspace(0.0, 1.0, 40).reshape(-1, 1)
    y = 3.0 * X[:, 0] + 1.0
    model = TargetTransformRegressor(LinearRegression(), target=kind).fit(X, y)
    X_new = np.array([[-1.0], [0.5], [2.0], [3.0]])
    match = r"3 of 4 .*clipped.*\(1 to the minimum, 2 to the maximum\)"
    with pytest.warns(ClippedPredictionWarning, match=match) as record:
        pred = model.predict(X_new)
    # The warning fires inside TransformedTargetRegressor: it still points at
    # the caller of predict, not at scikit-learn or sknnfit.
    assert record[0].filename == __file__
    np.testing.assert_allclose(pred[[0, 2, 3]], [y.min(), y.max(), y.max()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X)


def test_log_target_warns_instead_of_returning_inf_silently():
    X = np.linspace(0.0, 1.0, 20).reshape(-1, 1)
    y = np.exp(5.0 * X[:, 0])
    model = TargetTransformRegressor(LinearRegression(), target="log").fit(X, y)
    with pytest.warns(RuntimeWarning, match=r"1 of 2 .*overflowed to infinity in exp"):
        pred = model.predict(np.array([[0.5], [1e3]]))
    assert np.isinf(pred[1])


def test_clipped_prediction_warning_is_still_importable_from_targets():
    import sknnfit.targets

    assert sknnfit.targets.ClippedPredictionWarning is ClippedPredictionWarning


# ---------------------------------------------------------------------- the estimator


@pytest.mark.filterwarnings("ignore::sknnfit.exceptions.ClippedPredictionWarning")
@pytest.mark.parametrize("y_shape", [(40,), (40, 1), (40, 3)])
@pytest.mark.parametrize("kind", ["standard", "asinh", "rank"])
def test_predictions_keep_the_shape_of_y(kind, y_shape):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 2))
    y = (X.sum(axis=1, keepdims=True) + np.arange(np.prod(y_shape[1:]))).reshape(
        y_shape
    )
    pred = TargetTransformRegressor(Ridge(), target=kind).fit(X, y).predict(X)
    assert pred.shape == y_shape
    assert pred.dtype == np.float64


def test_wraps_transformed_target_regressor_and_exposes_its_parts():
    X = np.arange(20.0).reshape(-1, 1)
    model = TargetTransformRegressor(Ridge(), target="asinh")
    model.fit(X, np.sinh(X[:, 0] - 10.0))
    assert isinstance(model.ttr_, TransformedTargetRegressor)
    assert model.regressor_ is model.ttr_.regressor_
    assert isinstance(model.regressor_, Ridge)
    assert model.regressor_ is not model.regressor
    assert isinstance(model.transformer_, AsinhTransformer)
    assert model.target_ == "asinh"
    assert model.n_features_in_ == 1


@pytest.mark.parametrize(("n_samples", "n_quantiles"), [(30, 30), (1500, 1000)])
def test_rank_target_keeps_one_quantile_per_row_up_to_1000(n_samples, n_quantiles):
    X = np.arange(float(n_samples)).reshape(-1, 1)
    y = np.c_[X[:, 0] ** 2, -X[:, 0]]
    model = TargetTransformRegressor(Ridge(), target="rank").fit(X, y)
    assert model.transformer_.n_quantiles == n_quantiles
    np.testing.assert_allclose(model.transformer_.quantiles_[-1], y.max(axis=0))


def test_default_regressor_is_nnregressor():
    assert TargetTransformRegressor().regressor is None
    assert TargetTransformRegressor()._make_regressor().get_params() == (
        NNRegressor().get_params()
    )


def test_nnregressor_fits_a_log_target():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 3.0, size=(64, 1))
    y = np.exp(2.0 * X[:, 0])
    model = TargetTransformRegressor(small_nn(lr=1e-2, max_epochs=100), target="log")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning
        model.fit(X, y)
    assert isinstance(model.regressor_, NNRegressor)
    assert model.predict(X).shape == (64,)
    assert model.score(X, y) > 0.9


def test_feature_names_are_recorded_from_dataframes():
    X = pd.DataFrame({"a": np.arange(10.0), "b": np.ones(10)})
    model = TargetTransformRegressor(Ridge()).fit(X, np.arange(10.0))
    assert list(model.feature_names_in_) == ["a", "b"]
    assert model.n_features_in_ == 2


def test_fit_params_reach_the_regressor():
    X = np.arange(6.0).reshape(-1, 1)
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 50.0])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    model = TargetTransformRegressor(LinearRegression())
    model.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.predict(X[:5]), y[:5], atol=1e-9)


@pytest.mark.filterwarnings("ignore::sknnfit.exceptions.ClippedPredictionWarning")
def test_pipeline_and_grid_search_over_target():
    rng = np.random.default_rng(0)
    X = rng.uniform(0.0, 2.0, size=(60, 2))
    y = np.exp(X @ np.array([1.5, -0.5]))
    pipe = make_pipeline(StandardScaler(), TargetTransformRegressor(LinearRegression()))
    search = GridSearchCV(
        pipe,
        {"targettransformregressor__target": ["standard", "log", "rank"]},
        cv=3,
    )
    search.fit(X, y)
    assert search.best_params_ == {"targettransformregressor__target": "log"}
    assert search.predict(X).shape == (60,)


def test_grid_search_over_target_with_nnregressor():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(48, 2))
    y = 1.0 + X.sum(axis=1)
    search = GridSearchCV(
        TargetTransformRegressor(small_nn()),
        {"target": ["standard", "log", "rank"]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning
        search.fit(X, y)
    assert search.best_estimator_.target_ in ("standard", "log", "rank")
    assert search.predict(X).shape == (48,)


def test_pickle_round_trip_keeps_predictions():
    X = np.arange(20.0).reshape(-1, 1)
    model = TargetTransformRegressor(Ridge(), target="rank_normal")
    model.fit(X, X[:, 0] ** 2)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_predict_before_fit_raises_not_fitted():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        TargetTransformRegressor(Ridge()).predict(np.ones((2, 1)))


def test_tags_follow_the_regressor_and_the_target():
    from sklearn.utils import get_tags

    assert get_tags(TargetTransformRegressor(Ridge())).target_tags.multi_output
    assert get_tags(TargetTransformRegressor(target="log")).target_tags.positive_only
    assert not get_tags(TargetTransformRegressor()).target_tags.positive_only


class _MeanRegressor(BaseEstimator):
    """fit/predict without RegressorMixin: get_tags gives no regressor tags."""

    def fit(self, X, y):
        self.mean_ = np.mean(y, axis=0)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_tags_accept_a_regressor_without_regressor_tags():
    from sklearn.utils import get_tags

    assert get_tags(_MeanRegressor()).regressor_tags is None
    tags = get_tags(TargetTransformRegressor(_MeanRegressor(), target="log"))
    assert tags.target_tags.positive_only
    assert tags.regressor_tags is not None
    model = TargetTransformRegressor(_MeanRegressor()).fit(X_LINE, Y_OUTLIER)
    np.testing.assert_allclose(model.predict(X_LINE[:2]), Y_OUTLIER.mean())


# The last row is an outlier that a weight of 0 removes: a line fitted with the
# weights goes through the other five exactly.
X_LINE = np.arange(6.0).reshape(-1, 1)
Y_OUTLIER = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 50.0])
W_DROP_LAST = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])


@pytest.mark.parametrize("target", ["standard", "asinh", "rank_normal"])
def test_sample_weight_reaches_the_regressor_without_routing(target):
    model = TargetTransformRegressor(Ridge(alpha=1e-10), target=target)
    model.fit(X_LINE, Y_OUTLIER, sample_weight=W_DROP_LAST)
    unweighted = TargetTransformRegressor(Ridge(alpha=1e-10), target=target)
    unweighted.fit(X_LINE, Y_OUTLIER)
    if target == "standard":  # linear on the standard scale: the exact line
        np.testing.assert_allclose(model.predict(X_LINE[:5]), Y_OUTLIER[:5], atol=1e-6)
    weighted_err = np.abs(model.predict(X_LINE[:5]) - Y_OUTLIER[:5]).max()
    unweighted_err = np.abs(unweighted.predict(X_LINE[:5]) - Y_OUTLIER[:5]).max()
    assert weighted_err < unweighted_err


def test_sample_weight_none_is_not_passed_on():
    # KNeighborsRegressor.fit takes no sample_weight: the default must not reach it.
    model = TargetTransformRegressor(KNeighborsRegressor(n_neighbors=1))
    model.fit(X_LINE, Y_OUTLIER, sample_weight=None)
    np.testing.assert_allclose(model.predict(X_LINE), Y_OUTLIER)


def test_sample_weight_for_a_regressor_that_takes_none_names_the_fix():
    model = TargetTransformRegressor(KNeighborsRegressor(n_neighbors=1))
    with pytest.raises(
        ValueError, match=r"KNeighborsRegressor.fit takes no sample_weight.*drop it"
    ):
        model.fit(X_LINE, Y_OUTLIER, sample_weight=W_DROP_LAST)


def test_sample_weight_is_routed_when_requested():
    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        model = TargetTransformRegressor(
            Ridge(alpha=1e-10).set_fit_request(sample_weight=True)
        )
        model.fit(X_LINE, Y_OUTLIER, sample_weight=W_DROP_LAST)
        np.testing.assert_allclose(model.predict(X_LINE[:5]), Y_OUTLIER[:5], atol=1e-6)
        # Without weights nothing needs a request.
        plain = TargetTransformRegressor(Ridge(alpha=1e-10)).fit(X_LINE, Y_OUTLIER)
    assert np.abs(plain.predict(X_LINE[:5]) - Y_OUTLIER[:5]).max() > 1.0


def test_unrequested_sample_weight_raises_sklearns_routing_error():
    import sklearn
    from sklearn.exceptions import UnsetMetadataPassedError

    with sklearn.config_context(enable_metadata_routing=True):
        model = TargetTransformRegressor(Ridge())
        with pytest.raises(UnsetMetadataPassedError, match="set_fit_request"):
            model.fit(X_LINE, Y_OUTLIER, sample_weight=W_DROP_LAST)


def test_metadata_routing_lists_the_regressors_request():
    import sklearn

    with sklearn.config_context(enable_metadata_routing=True):
        model = TargetTransformRegressor(Ridge().set_fit_request(sample_weight=True))
        routing = model.get_metadata_routing()
        assert routing.consumes("fit", ["sample_weight"]) == {"sample_weight"}
    # Routed, not consumed: no set_fit_request of its own that would do nothing.
    assert not hasattr(TargetTransformRegressor(), "set_fit_request")


def test_auto_target_ignores_the_weights():
    # Zero weight on the rows that make y span decades: the log is still
    # needed, since every target is transformed.
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 3, size=(60, 1))
    y = np.exp(2 * X[:, 0])
    weights = np.where(y > np.median(y), 0.0, 1.0)
    model = TargetTransformRegressor(Ridge(), target="auto")
    assert model.fit(X, y, sample_weight=weights).target_ == auto_target(y) == "log"


def test_metadata_routing_sends_fit_params_to_the_regressor():
    import sklearn

    X = np.arange(6.0).reshape(-1, 1)
    y = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 50.0])
    weights = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            TargetTransformRegressor(
                LinearRegression().set_fit_request(sample_weight=True)
            ),
        )
        pipe.fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(pipe.predict(X[:5]), y[:5], atol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_predictions_are_numpy_under_pandas_output(kind):
    import sklearn

    X = np.arange(10.0).reshape(-1, 1)
    y = np.arange(1.0, 11.0)
    with sklearn.config_context(transform_output="pandas"):
        model = TargetTransformRegressor(
            KNeighborsRegressor(n_neighbors=1), target=kind
        )
        pred = model.fit(X, y).predict(X)
    assert isinstance(pred, np.ndarray)
    np.testing.assert_allclose(pred, y)


# ------------------------------------------------------- loss="auto" inside the wrapper


def _positive_wide_data(n=200):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 3, size=(n, 2))
    return X, np.exp(2 * X[:, 0]) + X[:, 1]  # positive, over two decades


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("log", "peak"),
        ("log1p", "peak"),
        ("asinh", "peak"),
        ("standard", "mse"),
        ("rank", "mse"),
        ("auto", "peak"),  # auto picks log for these targets
    ],
)
def test_tail_compressing_targets_give_an_auto_loss_the_peak_loss(target, expected):
    X, y = _positive_wide_data()
    regressor = small_nn()
    model = TargetTransformRegressor(regressor, target=target).fit(X, y)
    assert model.regressor_.loss_ == expected
    # The user's own object is left as it was; only the fitted clone changes.
    assert regressor.loss == "auto"
    assert model.get_params()["regressor__loss"] == "auto"


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("loss", ["mse", "mae", "relative"])
def test_an_explicit_loss_is_kept_under_a_compressing_target(loss):
    X, y = _positive_wide_data()
    model = TargetTransformRegressor(small_nn(loss=loss), target="asinh").fit(X, y)
    assert model.regressor_.loss == loss
    assert model.regressor_.loss_ == loss


def test_other_regressors_are_not_touched_by_the_loss_rule():
    X, y = _positive_wide_data()
    model = TargetTransformRegressor(Ridge(), target="log").fit(X, y)
    assert model.regressor_.get_params() == Ridge().get_params()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_signed_heavy_tailed_target_trains_with_the_peak_loss():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(150, 1))
    y = np.exp(8 * X[:, 0]) - 1  # signed, skewed, heavy-tailed: auto picks asinh
    # With noise: noise-free, a polynomial of degree 16 fits it to 2e-7 of its
    # range, and target="auto" rightly keeps y as given.
    y = y * (1.0 + 0.01 * rng.normal(size=len(y)))
    model = TargetTransformRegressor(small_nn(), target="auto").fit(X, y)
    assert model.target_ == "asinh"
    assert model.regressor_.loss_ == "peak"
    assert np.isfinite(model.predict(X)).all()
