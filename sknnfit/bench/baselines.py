"""Non-neural baselines, ready to fit, to compare the neural regressors against.

:func:`make_baseline` returns an unfitted scikit-learn estimator. Scaling is
always done inside the estimator (in a Pipeline or a TransformedTargetRegressor),
so cross-validation and benchmarks never leak test rows into the scalers. Every
baseline accepts 1-D and 2-D ``y`` and predicts in the shape of the ``y`` it was
fitted on.
"""

import importlib
import math
import os
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.multioutput import MultiOutputRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from .._compat import HasMethods, Interval, RidgeCV, _fit_context
from .._validation import did_you_mean
from ..bases import poly_ridge

__all__ = [
    "BASELINES",
    "PerOutputRegressor",
    "PolynomialRegressor",
    "make_baseline",
]

BASELINES = {
    "poly": (
        "Polynomial ridge regression, degree chosen by cross-validation "
        "(PolynomialRegressor)."
    ),
    "hgb": "HistGradientBoostingRegressor, one model per output.",
    "rf": "RandomForestRegressor with 100 trees, multi-output natively.",
    "mlp": "scikit-learn MLPRegressor with scaled inputs and targets.",
    "lgbm": (
        'LightGBM LGBMRegressor, one model per output (pip install "sknnfit[bench]").'
    ),
    "xgb": "XGBoost XGBRegressor, one model per output (pip install xgboost).",
}

_OPTIONAL = {
    "lgbm": ("lightgbm", "LGBMRegressor", 'pip install "sknnfit[bench]"'),
    "xgb": ("xgboost", "XGBRegressor", "pip install xgboost"),
}


def _n_poly_features(n_features, degree):
    """Output width of PolynomialFeatures(degree, include_bias=False)."""
    return math.comb(n_features + degree, degree) - 1


class PolynomialRegressor(RegressorMixin, BaseEstimator):
    """Ridge regression on polynomial features, degree chosen by cross-validation.

    The model is ``StandardScaler -> PolynomialFeatures -> StandardScaler ->
    RidgeCV``, with the targets standardised too (TransformedTargetRegressor),
    so very large or very small targets and inputs do not break the ridge
    solve. The second scaler gives every monomial the same ridge penalty.
    ``RidgeCV`` picks the penalty by leave-one-out; this class adds the search
    over the degree, which scikit-learn does not offer under a feature budget.

    Parameters
    ----------
    max_degree : int, default=8
        Highest degree tried.

    max_features : int, default=500
        Degrees whose number of polynomial features (bias excluded) exceeds
        this are skipped, which bounds memory and time on wide inputs. Degree
        1 is always tried.

    cv : int, cross-validation generator or iterable, default=3
        Splits for the degree search. An int means that many shuffled
        ``KFold`` splits seeded by ``random_state``, so data sorted by input
        does not turn the search into an extrapolation test; at most one per
        row, and scored by mean squared error (not R², undefined there) where
        a fold would test one row.

    alphas : array-like of float, default=(1e-8, 1e-7, ..., 1e2)
        Ridge penalties tried by ``RidgeCV`` (on the standardised problem).

    max_search_samples : int or None, default=20000
        The degree search runs on a random subsample of this many rows when the
        training set is larger; the chosen degree is then refitted on all rows.
        None searches on all rows.

    random_state : int, RandomState instance or None, default=None
        Seeds the subsample and the shuffled folds.

    Attributes
    ----------
    degree_ : int
        Degree chosen by the search.

    degrees_ : list of int
        Degrees tried, those within ``max_features``.

    cv_scores_ : dict of int to float
        Mean cross-validated R² of each degree tried (NaN if its fits failed).
        Empty when only one degree was allowed.

    alpha_ : float
        Ridge penalty chosen for the final model.

    pipeline_ : TransformedTargetRegressor
        The final model, fitted on all rows.

    n_features_in_ : int
        Number of features seen during fit.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when X has string column names.

    See Also
    --------
    make_baseline : Build this and the other baselines by name.

    Examples
    --------
    >>> import numpy as np
    >>> from sknnfit.bench.baselines import PolynomialRegressor
    >>> X = np.linspace(-2, 2, 50)[:, None]
    >>> reg = PolynomialRegressor(max_degree=4, random_state=0).fit(X, X[:, 0] ** 2)
    >>> reg.degree_ >= 2
    True
    >>> np.round(reg.predict([[3.0]]), 3)
    array([9.])
    """

    _parameter_constraints: ClassVar[dict] = {
        "max_degree": [Interval(Integral, 1, None, closed="left")],
        "max_features": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "alphas": ["array-like"],
        "max_search_samples": [Interval(Integral, 2, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        max_degree=8,
        *,
        max_features=500,
        cv=3,
        alphas=(1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0),
        max_search_samples=20_000,
        random_state=None,
    ):
        self.max_degree = max_degree
        self.max_features = max_features
        self.cv = cv
        self.alphas = alphas
        self.max_search_samples = max_search_samples
        self.random_state = random_state

    def _make_pipeline(self, degree):
        # The input scaler comes first so the polynomial of wide-ranging inputs
        # stays well conditioned; poly_ridge scales the monomials again.
        ridge = RidgeCV(alphas=np.asarray(self.alphas, dtype=float))
        regressor = Pipeline(
            [("scale", StandardScaler()), ("poly", poly_ridge(degree, ridge))]
        )
        return TransformedTargetRegressor(
            regressor=regressor, transformer=StandardScaler()
        )

    @staticmethod
    def _weight_params(sample_weight):
        """Fit parameters that give ``sample_weight`` to every fitted step of
        the pipeline but the target scaler (a linear map of y, which leaves
        the ridge solution the same for any weights)."""
        if sample_weight is None:
            return {}
        steps = ("scale", "poly__scale", "poly__ridge")
        return {f"{step}__sample_weight": sample_weight for step in steps}

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None):
        """Choose the degree by cross-validation and fit on all rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, given to the input scalers and the ridge
            solve, in the degree search and the final fit. Integer weights fit
            the model that repeating the rows would, for a given degree and
            penalty (the cross-validated choices themselves may differ: a
            repeated row can fall in two folds). The search still scores the
            folds unweighted.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=np.float64
        )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        rng = check_random_state(self.random_state)
        n_samples, n_features = X.shape

        self.degrees_ = [1] + [
            d
            for d in range(2, self.max_degree + 1)
            if _n_poly_features(n_features, d) <= self.max_features
        ]
        self.cv_scores_ = {}
        if len(self.degrees_) == 1 or n_samples < 2:  # nothing to cross-validate
            self.degree_ = 1
        else:
            X_search, y_search, w_search = X, y, sample_weight
            if self.max_search_samples and n_samples > self.max_search_samples:
                rows = rng.choice(n_samples, self.max_search_samples, replace=False)
                X_search, y_search = X[rows], y[rows]
                w_search = None if sample_weight is None else sample_weight[rows]
            cv, scoring = self.cv, None  # R², the estimator's score
            if isinstance(cv, Integral):
                # Fewer rows than folds: one row per fold (leave-one-out) ...
                folds = min(cv, len(X_search))
                cv = KFold(folds, shuffle=True, random_state=rng.randint(2**31 - 1))
                if len(X_search) < 2 * folds:
                    # ... and folds of one row, where R² is undefined.
                    scoring = "neg_mean_squared_error"
            search = GridSearchCV(
                self._make_pipeline(1),
                {"regressor__poly__poly__degree": self.degrees_},
                cv=cv,
                scoring=scoring,
                refit=False,
            ).fit(X_search, y_search, **self._weight_params(w_search))
            scores = search.cv_results_["mean_test_score"]
            self.cv_scores_ = {
                d: float(s) for d, s in zip(self.degrees_, scores, strict=True)
            }
            if np.all(np.isnan(scores)):
                raise ValueError(
                    f"Every degree failed to fit during the cross-validated search "
                    f"on {len(X_search)} rows (every fold scored NaN); pass more "
                    "rows, or fewer folds with cv."
                )
            self.degree_ = int(self.degrees_[int(np.nanargmax(scores))])

        self.pipeline_ = self._make_pipeline(self.degree_).fit(
            X, y, **self._weight_params(sample_weight)
        )
        self.alpha_ = float(self.pipeline_.regressor_["poly"]["ridge"].alpha_)
        return self

    def predict(self, X):
        """Predict with the fitted polynomial.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, in the shape of the ``y`` given to fit.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return self.pipeline_.predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class PerOutputRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Fit one clone of a single-output regressor per target column.

    Like :class:`sklearn.multioutput.MultiOutputRegressor`, which does the
    work, but it also accepts 1-D ``y`` and predicts in the shape of the ``y``
    it was fitted on, so the same baseline serves single- and multi-output
    problems.

    Parameters
    ----------
    estimator : estimator object
        A single-output regressor; cloned once per output.

    n_jobs : int, default=None
        Outputs fitted in parallel (see ``MultiOutputRegressor``).

    Attributes
    ----------
    estimators_ : list of estimator objects
        One fitted clone per output.

    n_features_in_ : int
        Number of features seen during fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from sknnfit.bench.baselines import PerOutputRegressor
    >>> X = np.arange(6.0)[:, None]
    >>> PerOutputRegressor(LinearRegression()).fit(X, 2 * X[:, 0]).predict(X).shape
    (6,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": [HasMethods(["fit", "predict"])],
        "n_jobs": [Integral, None],
    }

    def __init__(self, estimator, *, n_jobs=None):
        self.estimator = estimator
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, **fit_params):
        """Fit one clone of ``estimator`` per output.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training inputs.

        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Training targets.

        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows, passed to each clone's ``fit``; the estimator
            must accept ``sample_weight`` when it is given.

        **fit_params : dict
            Passed to each clone's ``fit``.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        y = np.asarray(y)
        if y.ndim not in (1, 2):
            raise ValueError(
                f"y must be 1-D or 2-D (n_samples, n_outputs); got shape {y.shape}."
            )
        self._y_ndim = y.ndim
        y2 = y.reshape(len(y), -1)
        multi = MultiOutputRegressor(clone(self.estimator), n_jobs=self.n_jobs)
        multi.fit(X, y2, sample_weight=sample_weight, **fit_params)
        self.multi_output_ = multi
        self.estimators_ = multi.estimators_
        self.n_features_in_ = multi.n_features_in_
        if hasattr(multi, "feature_names_in_"):
            self.feature_names_in_ = multi.feature_names_in_
        return self

    def predict(self, X):
        """Predict with every per-output model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, in the shape of the ``y`` given to fit.
        """
        check_is_fitted(self)
        y_pred = self.multi_output_.predict(X)
        return y_pred[:, 0] if self._y_ndim == 1 else y_pred

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.allow_nan = get_tags(self.estimator).input_tags.allow_nan
        return tags


def _optional_estimator(name):
    module_name, class_name, install = _OPTIONAL[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"Baseline {name!r} needs {module_name}, which is not installed. "
            f"Install it with: {install}"
        ) from exc
    return getattr(module, class_name)


def make_baseline(name, *, random_state=0, **params):
    """Build an unfitted baseline regressor by name.

    Parameters
    ----------
    name : str
        One of the keys of :data:`BASELINES`:

        - ``"poly"``: :class:`PolynomialRegressor`.
        - ``"hgb"``: ``HistGradientBoostingRegressor`` in a
          :class:`PerOutputRegressor`.
        - ``"rf"``: ``RandomForestRegressor(n_estimators=100)``.
        - ``"mlp"``: ``MLPRegressor(early_stopping=True, max_iter=500)`` after a
          ``StandardScaler``, in a ``TransformedTargetRegressor`` that
          standardises the targets.
        - ``"lgbm"``: ``lightgbm.LGBMRegressor(verbose=-1)`` in a
          :class:`PerOutputRegressor`; needs ``pip install "sknnfit[bench]"``.
        - ``"xgb"``: ``xgboost.XGBRegressor`` in a :class:`PerOutputRegressor`;
          needs ``pip install xgboost``.

        lgbm and xgb get ``n_jobs=OMP_NUM_THREADS`` when that variable is set:
        they start a thread per core otherwise, which spin beside other busy
        processes.

    random_state : int, RandomState instance or None, default=0
        Passed as ``random_state`` to the core estimator.

    **params : dict
        Parameters of the core estimator (the model named above, not its
        wrappers), overriding the defaults, e.g.
        ``make_baseline("hgb", max_iter=50)``. To change them after creation,
        use ``set_params`` with the core estimator's path: ``estimator__`` for
        hgb, lgbm and xgb, ``regressor__mlp__`` for mlp, none for poly and rf.

    Returns
    -------
    estimator : regressor
        An unfitted estimator that accepts 1-D and 2-D ``y``.

    Raises
    ------
    ValueError
        If ``name`` is unknown.
    ImportError
        If ``name`` needs an optional package that is not installed.

    Examples
    --------
    >>> from sknnfit.bench.baselines import make_baseline
    >>> make_baseline("rf", n_estimators=10)
    RandomForestRegressor(n_estimators=10, random_state=0)
    """
    if name not in BASELINES:
        raise did_you_mean("baseline", name, BASELINES)

    if name == "poly":
        return PolynomialRegressor(**{"random_state": random_state, **params})
    if name == "hgb":
        core = HistGradientBoostingRegressor(**{"random_state": random_state, **params})
        return PerOutputRegressor(core)
    if name == "rf":
        return RandomForestRegressor(
            **{"n_estimators": 100, "random_state": random_state, **params}
        )
    if name == "mlp":
        mlp = MLPRegressor(
            **{
                "early_stopping": True,
                "max_iter": 500,
                "random_state": random_state,
                **params,
            }
        )
        return TransformedTargetRegressor(
            regressor=Pipeline([("scale", StandardScaler()), ("mlp", mlp)]),
            transformer=StandardScaler(),
        )
    # Optional engines: imported only when asked for.
    cls = _optional_estimator(name)
    defaults = {"verbose": -1} if name == "lgbm" else {}
    # LightGBM and XGBoost start a thread per core whatever OMP_NUM_THREADS
    # says; beside other busy processes their waiting threads then spin (an
    # LGBMRegressor fit took 58 s instead of 0.3 s on this 2-core machine with
    # a second process running). Follow OMP_NUM_THREADS when it is set.
    threads = os.environ.get("OMP_NUM_THREADS", "")
    if threads.isdigit() and int(threads) > 0:
        defaults["n_jobs"] = int(threads)
    return PerOutputRegressor(
        cls(**{**defaults, "random_state": random_state, **params})
    )
