"""Preprocessing for raw tables, so every model of a benchmark gets the same table.

A real table comes as a pandas DataFrame with string or categorical columns and
missing values. :func:`with_preprocessing` puts the usual scikit-learn answer in
front of any regressor: a :class:`~sklearn.compose.ColumnTransformer` that
imputes numeric columns (median, plus a missing-indicator column for each
column that had missing values when fitted) and encodes the other columns,
chosen by dtype. It is a Pipeline, fitted on the training rows only, so nothing
leaks from the test rows.

Models that split on categories themselves get ordinal codes instead of one-hot
columns: scikit-learn's ``HistGradientBoostingRegressor`` and LightGBM, also
inside :class:`~sknnfit.bench.baselines.PerOutputRegressor` or
``MultiOutputRegressor``. Every other model (NNRegressor, the polynomial, the
forest, the MLP) gets one-hot columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder

from .baselines import PerOutputRegressor

__all__ = ["needs_preprocessing", "with_preprocessing"]

#: Categories kept per column for the native route; rarer ones share a code.
#: HistGradientBoostingRegressor accepts at most max_bins (255) categories.
_MAX_NATIVE_CATEGORIES = 255


def _categorical_columns(X):
    """Names of the columns :func:`with_preprocessing` encodes (non-numeric)."""
    return list(make_column_selector(dtype_exclude="number")(X))


def needs_preprocessing(X):
    """Whether ``X`` must be preprocessed before a numeric regressor sees it.

    Parameters
    ----------
    X : object
        Model inputs.

    Returns
    -------
    needed : bool
        True when ``X`` is a pandas DataFrame with a non-numeric column
        (strings, objects, categories, booleans) or a missing value in any
        column; False for everything else, NumPy arrays included.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sknnfit.bench.tabular import needs_preprocessing
    >>> needs_preprocessing(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
    True
    >>> needs_preprocessing(pd.DataFrame({"a": [1.0, np.nan]}))
    True
    >>> needs_preprocessing(pd.DataFrame({"a": [1.0, 2.0]}))
    False
    """
    if not isinstance(X, pd.DataFrame):
        return False
    return bool(_categorical_columns(X)) or bool(X.isna().to_numpy().any())


def _as_object(X):
    """Categories as strings with NaN for missing, whatever the dtype.

    pandas' string, boolean and categorical dtypes mark missing values with
    ``pd.NA``, and the encoders refuse a column mixing booleans with the
    ``"missing"`` category, so every value becomes its text.
    """
    frame = pd.DataFrame(X)
    present = frame.notna()
    return frame.astype(object).astype(str).where(present, np.nan)


def _core(estimator):
    """The estimator a per-output wrapper clones, or ``estimator`` itself."""
    if isinstance(estimator, (PerOutputRegressor, MultiOutputRegressor)):
        return estimator.estimator
    return estimator


def _native_categorical_param(estimator):
    """The parameter that names categorical columns, for models that split on
    categories themselves; None for every other model."""
    core = _core(estimator)
    if isinstance(core, HistGradientBoostingRegressor):
        return "categorical_features"
    if type(core).__module__.split(".")[0] == "lightgbm":
        # The alias, not "categorical_feature": LightGBM warns that the latter
        # is ignored in params (it is not), and the warning would be recorded.
        return "categorical_column"
    return None


def _encoder(native):
    """Imputer and encoder of the non-numeric columns."""
    to_object = FunctionTransformer(_as_object, feature_names_out="one-to-one")
    if native:
        # Missing and unseen categories become NaN, which both engines send
        # down their own missing-value branch.
        encode = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=_MAX_NATIVE_CATEGORIES,
        )
        return make_pipeline(to_object, encode)
    impute = SimpleImputer(strategy="constant", fill_value="missing")
    encode = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return make_pipeline(to_object, impute, encode)


def with_preprocessing(estimator, X):
    """Put imputation and categorical encoding in front of a regressor.

    Parameters
    ----------
    estimator : regressor
        Any regressor, wrappers included (wrap the whole model, not its core).
        It is cloned, not changed.

    X : pandas.DataFrame
        The table the model will be fitted on (any rows of it). Only its column
        dtypes are read: they decide which columns are categorical, and, for
        models that split on categories themselves, their positions.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        Unfitted, clonable: ``("preprocess", ColumnTransformer)`` then
        ``("model", clone(estimator))``. The ColumnTransformer applies, by
        dtype (:func:`~sklearn.compose.make_column_selector`):

        - non-numeric columns: for ``HistGradientBoostingRegressor`` and
          LightGBM (alone or in a per-output wrapper), an ``OrdinalEncoder``
          (missing and unseen categories as NaN, at most 255 categories a
          column) whose columns come first and are declared categorical to the
          model (``categorical_features`` / LightGBM's ``categorical_column``);
          for every other model, missing values as a ``"missing"`` category and
          a dense ``OneHotEncoder(handle_unknown="ignore")``.
        - numeric columns: ``SimpleImputer(strategy="median",
          add_indicator=True)``, which adds an indicator column for each column
          that had missing values in the training rows.

        The output is a float NumPy array, whatever
        ``sklearn.set_config(transform_output=...)`` says.

    Raises
    ------
    TypeError
        If ``X`` is not a pandas DataFrame.

    See Also
    --------
    needs_preprocessing : Whether a table needs this.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from sknnfit.bench.tabular import with_preprocessing
    >>> X = pd.DataFrame({"size": [1.0, 2.0, None, 4.0], "kind": ["a", "b", "a", None]})
    >>> model = with_preprocessing(LinearRegression(), X).fit(X, [1.0, 2.0, 3.0, 4.0])
    >>> model[0].transform(X).shape  # a, b, missing; size; size's indicator
    (4, 5)
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(
            "with_preprocessing reads the column dtypes of a pandas DataFrame; got "
            f"{type(X).__name__}. Arrays need no preprocessing: fit the model as is."
        )
    model = clone(estimator)
    param = _native_categorical_param(model)
    native = param is not None
    n_categorical = len(_categorical_columns(X))
    if native and n_categorical:
        indices = list(range(n_categorical))
        prefix = "estimator__" if _core(model) is not model else ""
        model.set_params(**{prefix + param: indices})
    preprocess = ColumnTransformer(
        [
            (
                "categorical",
                _encoder(native),
                make_column_selector(dtype_exclude="number"),
            ),
            (
                "numeric",
                SimpleImputer(strategy="median", add_indicator=True),
                make_column_selector(dtype_include="number"),
            ),
        ],
        sparse_threshold=0.0,
        verbose_feature_names_out=False,
    )
    # NumPy out even under set_config(transform_output="pandas"): the models
    # are given float arrays, as they are on every other problem.
    preprocess.set_output(transform="default")
    return Pipeline([("preprocess", preprocess), ("model", model)])
