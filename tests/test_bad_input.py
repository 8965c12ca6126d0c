"""Bad inputs: the exact error class, and a message that names the problem and the fix.

Inputs that look bad but are fine (constant y, huge y, decade-spanning columns,
a constant output among many) are fitted and checked too.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sknnfit.exceptions import ExtrapolationWarning

pytestmark = pytest.mark.filterwarnings(
    "ignore::sknnfit.exceptions.ExtrapolationWarning",
    "ignore::sklearn.exceptions.ConvergenceWarning",
)


RNG = np.random.default_rng(0)
X = RNG.normal(size=(20, 3))
Y = X[:, 0] - 0.5 * X[:, 1]


def with_values(A, *cells):
    """A copy of ``A`` with ``(index, value)`` cells set."""
    A = np.array(A, dtype=np.float64)
    for index, value in cells:
        A[index] = value
    return A


FRAME = pd.DataFrame(X, columns=["a", "b", "c"])
FRAME_WITH_TEXT = FRAME.assign(city=["paris", "rome"] * 10)
OBJECT_X = np.array([[1.0, "red"], [2.0, "blue"]] * 10, dtype=object)
FIX_NAN = "SimpleImputer"
FIX_ENCODE = "OneHotEncoder"

FIT_ERRORS = [
    pytest.param(
        with_values(X, ((2, 1), np.nan)),
        Y,
        {},
        ValueError,
        rf"X contains NaN: 1 NaN and 0 infinite.*row 2, column 1.*{FIX_NAN}",
        id="nan-in-X",
    ),
    pytest.param(
        with_values(X, ((4, 2), np.inf), ((5, 0), -np.inf), ((7, 1), np.nan)),
        Y,
        {},
        ValueError,
        r"X contains NaN and infinity: 1 NaN and 2 infinite value\(s\), "
        rf"the first at row 4, column 2.*{FIX_NAN}",
        id="nan-and-inf-in-X",
    ),
    pytest.param(
        X,
        with_values(Y, (3, np.nan)),
        {},
        ValueError,
        r"y contains NaN: 1 NaN and 0 infinite value\(s\), the first at row 3\. "
        rf".*{FIX_NAN}",
        id="nan-in-y",
    ),
    pytest.param(
        X,
        with_values(np.c_[Y, Y], ((6, 1), np.inf)),
        {},
        ValueError,
        rf"y contains infinity: 0 NaN and 1 infinite.*row 6, column 1.*{FIX_NAN}",
        id="inf-in-2d-y",
    ),
    pytest.param(
        np.empty((0, 3)),
        np.empty(0),
        {},
        ValueError,
        r"0 sample\(s\).*Pass at least one row",
        id="empty-X",
    ),
    pytest.param(
        np.empty((20, 0)),
        Y,
        {},
        ValueError,
        r"0 feature\(s\).*at least one column in X",
        id="X-without-columns",
    ),
    pytest.param(
        X,
        np.empty((20, 0)),
        {},
        ValueError,
        r"0 feature\(s\).*one target column in y",
        id="y-without-columns",
    ),
    pytest.param(
        X[:1],
        Y[:1],
        {"early_stopping": True},
        ValueError,
        r"leaves no training rows from n_samples=1\. Pass at least 2 samples.*"
        r"early_stopping=False",
        id="one-sample-with-validation-split",
    ),
    pytest.param(
        X[:4],
        Y[:4],
        {"early_stopping": True, "validation_fraction": 0.9},
        ValueError,
        r"validation_fraction=0\.9.*n_samples=4.*lower validation_fraction",
        id="validation-split-takes-every-row",
    ),
    pytest.param(
        OBJECT_X,
        Y,
        {},
        ValueError,
        rf"X has non-numeric values in column\(s\) \[1\] \(for example 'red'\).*"
        rf"{FIX_ENCODE}",
        id="object-array-with-strings",
    ),
    pytest.param(
        FRAME_WITH_TEXT,
        Y,
        {},
        ValueError,
        rf"non-numeric column\(s\) \['city'\].*{FIX_ENCODE}",
        id="dataframe-string-column",
    ),
    pytest.param(
        FRAME.assign(size=pd.Categorical(["S", "M"] * 10)),
        Y,
        {},
        ValueError,
        rf"non-numeric column\(s\) \['size'\].*{FIX_ENCODE}",
        id="dataframe-categorical-column",
    ),
    pytest.param(
        X,
        np.array(["cheap", "dear"] * 10),
        {},
        ValueError,
        r"y has non-numeric values \(for example 'cheap'\).*dtype=float.*classifier",
        id="string-y",
    ),
    pytest.param(
        X + 1j,
        Y,
        {},
        ValueError,
        r"X contains complex numbers.*np\.column_stack\(\[X\.real, X\.imag\]\)",
        id="complex-X",
    ),
    pytest.param(
        X.reshape(20, 3, 1),
        Y,
        {},
        ValueError,
        r"dim 3.*Flatten the extra axes of X first, e\.g\. X\.reshape",
        id="3d-X",
    ),
    pytest.param(
        X,
        Y.reshape(20, 1, 1),
        {},
        ValueError,
        r"dim 3.*Flatten the extra axes of y first, e\.g\. y\.reshape",
        id="3d-y",
    ),
    pytest.param(
        Y,
        Y,
        {},
        ValueError,
        r"(?s)Expected 2D array, got 1D array.*reshape\(-1, 1\)",
        id="1d-X",
    ),
    pytest.param(
        X,
        Y[:15],
        {},
        ValueError,
        r"inconsistent numbers of samples: \[20, 15\].*one row per sample",
        id="y-wrong-length",
    ),
    pytest.param(
        X * 1e300,
        Y,
        {},
        ValueError,
        r"X does not fit in float32 after scaling.*Rescale the offending columns",
        id="X-beyond-float32",
    ),
    pytest.param(
        X,
        with_values(Y, (0, 1e308), (1, -1e308)),
        {},
        ValueError,
        r"y is too large to standardise.*Divide y by a constant",
        id="y-beyond-float64-variance",
    ),
    pytest.param(
        X,
        Y,
        {"hidden_layer_sizes": (8, 0)},
        ValueError,
        r"hidden_layer_sizes must be a tuple of positive integers, e\.g\.",
        id="zero-width-layer",
    ),
    pytest.param(
        X,
        Y,
        {"hidden_layer_sizes": "wide"},
        ValueError,
        r"'hidden_layer_sizes' parameter of NNRegressor must be a str among "
        r"\{'auto'\} or an array-like. Got 'wide' instead",
        id="unknown-layer-string",
    ),
    pytest.param(
        X,
        Y,
        {"device": "tpu"},
        ValueError,
        r"device must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'tpu'",
        id="unknown-device",
    ),
    pytest.param(
        X,
        Y,
        {"net_params": {"modul__n_inputs": 3}},
        ValueError,
        r"unexpected argument\(s\) modul__n_inputs",
        id="net-params-typo",
    ),
]


@pytest.mark.parametrize(("X", "y", "params", "error", "match"), FIT_ERRORS)
def test_fit_rejects_bad_input_and_names_the_fix(small_nn, X, y, params, error, match):
    with pytest.raises(error, match=match):
        small_nn(**params).fit(X, y)


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="needs a machine without CUDA"
)
def test_cuda_device_without_cuda_suggests_auto(small_nn):
    with pytest.raises(ValueError, match=r"sees no CUDA device.*device='auto'"):
        small_nn(device="cuda").fit(X, Y)


INVALID_PARAMS = [
    ("lr", 0.0),
    ("lr", -1e-3),
    ("max_epochs", 0),
    ("batch_size", 0),
    ("batch_size", "big"),
    ("activation", "swish"),
    ("optimizer", "rmsprop"),
    ("loss", "l2"),
    ("lr_schedule", "step"),
    ("validation_fraction", 1.0),
    ("patience", 0),
    ("grad_clip", 0.0),
    ("input_transform", "sqrt"),
    ("weight_decay", -0.1),
    ("n_threads", 0),
    ("precision", "float16"),
    ("net_params", [("lr", 1)]),
]


@pytest.mark.parametrize(("name", "value"), INVALID_PARAMS)
def test_invalid_parameter_value_is_rejected_at_fit(small_nn, name, value):
    model = small_nn(**{name: value})  # __init__ stores; validation waits for fit
    with pytest.raises(
        InvalidParameterError,
        match=rf"The '{name}' parameter of NNRegressor must be .* "
        rf"Got {re.escape(repr(value))} instead",
    ):
        model.fit(X, Y)
    # Callers that catch ValueError (as scikit-learn's own code does) catch it too.
    assert issubclass(InvalidParameterError, ValueError)


@pytest.mark.parametrize(
    ("typo", "suggestion"),
    [
        ("lrr", "lr"),
        ("max_epoch", "max_epochs"),
        ("hidden_layers_sizes", "hidden_layer_sizes"),
    ],
)
def test_set_params_with_unknown_name_suggests_the_close_one(
    small_nn, typo, suggestion
):
    with pytest.raises(
        ValueError, match=rf"Invalid parameter '{typo}'.*Did you mean '{suggestion}'\?"
    ):
        small_nn().set_params(**{typo: 1})


# ------------------------------------------------------------------------- predict


@pytest.fixture(scope="module")
def fitted(small_nn):
    return small_nn().fit(X, Y)


@pytest.fixture(scope="module")
def fitted_on_frame(small_nn):
    return small_nn().fit(FRAME, Y)


def test_predict_before_fit_raises_not_fitted(small_nn):
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit'"):
        small_nn().predict(X)


PREDICT_ERRORS = [
    pytest.param(
        X[:, :2],
        ValueError,
        r"X has 2 features, but NNRegressor is expecting 3 features",
        id="wrong-number-of-features",
    ),
    pytest.param(
        with_values(X, ((1, 2), np.nan)),
        ValueError,
        rf"X contains NaN.*row 1, column 2.*{FIX_NAN}",
        id="nan-at-predict",
    ),
    pytest.param(
        np.c_[X[:, :2], np.array(["x"] * 20, dtype=object)].astype(object),
        ValueError,
        rf"non-numeric values in column\(s\) \[2\].*{FIX_ENCODE}",
        id="strings-at-predict",
    ),
    pytest.param(
        X.reshape(20, 3, 1),
        ValueError,
        r"dim 3.*X\.reshape\(len\(X\), -1\)",
        id="3d-at-predict",
    ),
]


@pytest.mark.parametrize(("X_bad", "error", "match"), PREDICT_ERRORS)
def test_predict_rejects_bad_input_and_names_the_fix(fitted, X_bad, error, match):
    with pytest.raises(error, match=match):
        fitted.predict(X_bad)


def test_predict_with_reordered_columns_raises_like_scikit_learn(fitted_on_frame):
    with pytest.raises(ValueError, match="Feature names must be in the same order"):
        fitted_on_frame.predict(FRAME[["b", "a", "c"]])


def test_predict_with_renamed_column_names_it(fitted_on_frame):
    with pytest.raises(ValueError, match=r"Feature names unseen at fit time:\n- z"):
        fitted_on_frame.predict(FRAME.rename(columns={"c": "z"}))


def test_predict_with_string_column_names_it(fitted_on_frame):
    with pytest.raises(ValueError, match=rf"\['c'\].*{FIX_ENCODE}"):
        fitted_on_frame.predict(FRAME.assign(c="text"))


def test_nonpositive_value_in_a_replaced_log_column_at_predict(small_nn):
    Xw = np.c_[np.logspace(-12, 12, 20), X[:, 1]]
    model = small_nn(input_transform="log").fit(Xw, Y)
    with pytest.raises(ValueError, match=r"Column\(s\) \[0\] were log-transformed.*"):
        model.predict(np.c_[-Xw[:3, 0], Xw[:3, 1]])


def test_nonpositive_value_in_an_appended_log_column_floors_only_its_log(
    small_nn,
):
    # A count seen from 1 upwards in training, 0 at predict time (a real table).
    Xw = np.c_[np.logspace(0, 4, 20), X[:, 1]]
    model = small_nn().fit(Xw, Y)
    assert model.log_columns_ == [0]
    new = np.c_[[0.0, -5.0, 10.0], Xw[:3, 1]]
    with pytest.warns(ExtrapolationWarning, match=r"Column\(s\) \[0\].*2 row"):
        pred = model.predict(new)
    assert np.isfinite(pred).all()
    # The value itself still reaches the network: 0 and -5 differ.
    assert pred[0] != pred[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(pred[2:], model.predict(new[2:]))


def test_fits_other_rows_floor_an_appended_log_as_predict_does(small_nn):
    # X_val, the rows of warm_start and partial_fit, and rows of weight 0 may
    # hold a 0 in a count column that the training rows saw from 1 upwards.
    Xw = np.c_[np.logspace(0, 4, 20), X[:, 1]]
    zero = Xw.copy()
    zero[0, 0] = 0.0
    with pytest.warns(ExtrapolationWarning, match=r"\[0\].*1 row\(s\) of X_val"):
        model = small_nn(early_stopping=True).fit(Xw, Y, X_val=zero, y_val=Y)
    assert model.log_columns_ == [0]
    with pytest.warns(ExtrapolationWarning, match=r"\[0\].*1 row\(s\) of X hold"):
        model.partial_fit(zero, Y)
    warm = small_nn(warm_start=True).fit(Xw, Y)
    with pytest.warns(ExtrapolationWarning, match=r"\[0\].*1 row\(s\) of X hold"):
        warm.fit(zero, Y)
    # A row of weight 0 is absent: it neither stops the log nor sets the box.
    weights = np.ones(20)
    weights[0] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ExtrapolationWarning)
        weighted = small_nn().fit(zero, Y, sample_weight=weights)
    assert weighted.log_columns_ == [0] and weighted.x_min_[0] == Xw[1, 0]
    for fitted in (model, warm, weighted):
        assert np.isfinite(fitted.predict(Xw)).all()


# ---------------------------------------------------------------- fine after all


def test_constant_y_is_predicted_exactly(small_nn):
    model = small_nn().fit(X, np.full(20, 3.5))
    np.testing.assert_array_equal(model.predict(X), 3.5)
    assert model.y_scale_[0] == 0


def test_one_sample_fits_and_predicts_its_target(small_nn):
    model = small_nn().fit(X[:1], Y[:1])
    np.testing.assert_array_equal(model.predict(X[:1]), Y[:1])


def test_y_of_magnitude_1e30_is_standardised(small_nn):
    y = 1e30 * (3.0 + Y)
    big = small_nn().fit(X, y).predict(X)
    unit = small_nn().fit(X, 3.0 + Y).predict(X)
    assert np.isfinite(big).all()
    # Standardised targets: the same network up to float32 round-off, scaled back.
    np.testing.assert_allclose(big / 1e30, unit, rtol=1e-4)
    assert np.abs(big - y.mean()).max() < 5 * y.std()


def test_column_spanning_24_decades_is_log_transformed(small_nn):
    Xw = np.c_[np.logspace(-12, 12, 20), X[:, 1]]
    model = small_nn().fit(Xw, Y)
    assert model.log_columns_ == [0]
    Z = model.input_transformer_.transform(Xw)
    np.testing.assert_allclose(Z.std(axis=0), 1.0)
    assert np.isfinite(model.predict(Xw)).all()


def test_19_outputs_with_one_constant_output(small_nn):
    Y19 = np.column_stack([Y * (k + 1) for k in range(19)])
    Y19[:, 7] = -2.0
    pred = small_nn().fit(X, Y19).predict(X)
    assert pred.shape == (20, 19)
    assert np.isfinite(pred).all()
    np.testing.assert_array_equal(pred[:, 7], -2.0)


@pytest.mark.parametrize(
    "make_X",
    [
        pytest.param(lambda: X.astype(np.float32), id="float32"),
        pytest.param(lambda: (X * 10).astype(np.int64), id="int64"),
        pytest.param(lambda: X > 0, id="bool"),
        pytest.param(lambda: X.tolist(), id="list-of-lists"),
        pytest.param(
            lambda: FRAME.assign(a=pd.array(np.arange(20), dtype="Int64")),
            id="nullable-int-column",
        ),
    ],
)
def test_numeric_inputs_of_any_dtype_work(small_nn, make_X):
    pred = small_nn().fit(make_X(), Y).predict(make_X())
    assert pred.shape == (20,) and pred.dtype == np.float64
    assert np.isfinite(pred).all()


# ------------------------------------------------------- TargetTransformRegressor


@pytest.fixture
def targets():
    return pytest.importorskip("sknnfit.targets")


TARGET_ERRORS = [
    pytest.param(
        {"target": "log"},
        X,
        Y,
        ValueError,
        r"target='log' needs y > 0; got min\(y\) = .*Use target='asinh'",
        id="log-target-with-signed-y",
    ),
    pytest.param(
        {"target": "log1p"},
        X,
        Y - 10,
        ValueError,
        r"target='log1p' needs y > -1.*target='asinh'",
        id="log1p-target-below-minus-one",
    ),
    pytest.param(
        {"target": "log"},
        X,
        with_values(np.exp(Y), (4, np.nan)),
        ValueError,
        r"y contains NaN.*row 4.*Drop those rows",
        id="nan-target",
    ),
    pytest.param(
        {"target": "square"},
        X,
        Y,
        InvalidParameterError,
        r"The 'target' parameter of TargetTransformRegressor must be",
        id="unknown-target",
    ),
    pytest.param(
        {"target": "asinh"},
        OBJECT_X,
        Y,
        ValueError,
        rf"non-numeric values in column\(s\) \[1\].*{FIX_ENCODE}",
        id="strings-in-X-through-the-wrapper",
    ),
    pytest.param(
        {"target": "standard"},
        with_values(X, ((0, 0), np.inf)),
        Y,
        ValueError,
        rf"X contains infinity.*row 0, column 0.*{FIX_NAN}",
        id="inf-in-X-through-the-wrapper",
    ),
]


@pytest.mark.parametrize(("params", "X_", "y", "error", "match"), TARGET_ERRORS)
def test_target_transform_rejects_bad_input(
    small_nn, targets, params, X_, y, error, match
):
    model = targets.TargetTransformRegressor(small_nn(), **params)
    with pytest.raises(error, match=match):
        model.fit(X_, y)


def test_target_transform_predict_before_fit(small_nn, targets):
    with pytest.raises(NotFittedError):
        targets.TargetTransformRegressor(small_nn()).predict(X)


def test_target_transform_log_of_huge_positive_y_works(small_nn, targets):
    y = np.exp(40 * (1 + np.abs(Y)))  # up to ~1e100
    model = targets.TargetTransformRegressor(small_nn(), target="log").fit(X, y)
    pred = model.predict(X)
    assert np.isfinite(pred).all() and (pred > 0).all()


# ----------------------------------------------------------------- bench.compare

BENCH_ERRORS = [
    pytest.param(
        {"problems": "formula", "models": "nn"},
        ValueError,
        r"Unknown problem 'formula'\. Did you mean 'formula5'\?",
        id="unknown-problem",
    ),
    pytest.param(
        {"problems": "square", "models": "nnn"},
        ValueError,
        r"Unknown model 'nnn'\. Did you mean 'nn'\?",
        id="unknown-model",
    ),
    pytest.param(
        {"problems": "square", "models": []},
        ValueError,
        r"models is empty; pass at least one name or estimator",
        id="no-models",
    ),
    pytest.param(
        {"problems": "square", "models": [object()]},
        TypeError,
        r"not an estimator: pass a name from .* or an object with fit and predict",
        id="model-not-an-estimator",
    ),
    pytest.param(
        {"problems": (X, Y[:15]), "models": "nn"},
        ValueError,
        r"X has 20 rows but y has 15; pass one target row per input row",
        id="data-wrong-length",
    ),
    pytest.param(
        {"problems": "square", "models": "nn", "seeds": 0},
        ValueError,
        r"seeds as an int is a count and must be >= 1",
        id="zero-seeds",
    ),
    pytest.param(
        {"problems": "square", "models": "nn", "seeds": [1, 1]},
        ValueError,
        r"seeds must be distinct",
        id="repeated-seeds",
    ),
    pytest.param(
        {"problems": "square", "models": "nn", "problem_kwargs": {"n_trian": 5}},
        ValueError,
        r"problem_kwargs must map \['n_train', 'n_test'\].*e\.g\. \{'n_train': 500\}",
        id="problem-kwargs-typo",
    ),
]


@pytest.mark.parametrize(("kwargs", "error", "match"), BENCH_ERRORS)
def test_bench_compare_rejects_bad_arguments_before_fitting(kwargs, error, match):
    bench = pytest.importorskip("sknnfit.bench")
    with pytest.raises(error, match=match):
        bench.compare(progress=False, **kwargs)


def test_relative_loss_refuses_targets_mostly_zero(small_nn):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = np.where(X[:, 0] > 0, X[:, 1] ** 2 + 1, 0.0)  # about half are 0
    with pytest.raises(ValueError, match=r"loss='relative' divides by \|y\|.*'mae'"):
        small_nn(loss="relative").fit(X, y)


def test_relative_loss_warns_about_some_zero_targets(small_nn):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X[:, 1] ** 2 + 1
    y[:8] = 0.0  # 10% of the targets
    with pytest.warns(UserWarning, match=r"10\.0% of the targets of an output are 0"):
        small_nn(loss="relative").fit(X, y)
