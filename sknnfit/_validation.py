"""Input checks and the messages that name the fix, one copy of each.

scikit-learn's :func:`~sklearn.utils.validation.validate_data` does the
checking; this module turns its terse messages into ones that say what to do,
and holds the few checks it does not make (where the first NaN is, which
DataFrame columns are not numbers, a typo's nearest valid name, whether a
sparse X fits in memory once dense).
"""

from __future__ import annotations

import difflib
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import validate_data

#: Sparse formats validate_data keeps as they are; others become CSR first.
SPARSE_FORMATS = ("csr", "csc")

#: Without psutil, a sparse X is densified only up to this many bytes (4 GiB).
DENSE_LIMIT_BYTES = 4 * 2**30

#: With psutil, up to this share of the memory available at the time: a fit
#: holds the dense float64 X, its transformed float64 copy and a float32 copy.
DENSE_SHARE_OF_AVAILABLE = 1 / 3


def did_you_mean(kind, name, valid):
    """A ValueError for an unknown name, suggesting the closest valid one.

    Parameters
    ----------
    kind : str
        What the name names (``"problem"``, ``"baseline"``, ``"parameter"``).
    name : object
        What was given.
    valid : iterable of str
        The valid names, in the order to list them.

    Returns
    -------
    error : ValueError

    Examples
    --------
    >>> print(did_you_mean("problem", "sqare", ["square", "sin"]))
    Unknown problem 'sqare'. Did you mean 'square'? Valid problems are: 'square', 'sin'.
    """
    valid = list(valid)
    names = ", ".join(repr(n) for n in valid)
    return ValueError(
        f"Unknown {kind} {name!r}.{closest_hint(name, valid)} Valid {kind}s are: "
        f"{names}."
    )


def closest_hint(name, valid):
    """``" Did you mean 'x'?"`` for the valid name closest to ``name``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(valid), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


def check_finite(A, name):
    """Raise a ValueError naming how many values of ``A`` are NaN or infinite.

    Parameters
    ----------
    A : ndarray
        Numeric array, 1-D or 2-D.
    name : str
        How to call it in the message (``"X"`` or ``"y"``).
    """
    A = np.asarray(A)
    if A.dtype.kind not in "fc":
        return
    finite = np.isfinite(A)
    if finite.all():
        return
    bad = ~finite
    n_nan = int(np.isnan(A).sum())
    n_inf = int(bad.sum()) - n_nan
    A2 = bad.reshape(len(A), -1)
    row, col = (int(i) for i in np.argwhere(A2)[0])
    where = f"row {row}" if A.ndim == 1 else f"row {row}, column {col}"
    kinds = " and ".join(s for s, n in (("NaN", n_nan), ("infinity", n_inf)) if n)
    raise ValueError(
        f"Input {name} contains {kinds}: {n_nan} NaN and {n_inf} infinite value(s), "
        f"the first at {where}. Remove those rows or impute the values (e.g. "
        "sklearn.impute.SimpleImputer in a Pipeline) before fitting."
    )


def check_numeric_frame(X, name="X"):
    """Reject DataFrames with non-numeric columns with a message naming them."""
    if not (hasattr(X, "dtypes") and hasattr(X, "columns")):
        return
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    bad = [
        str(col)
        for col, dt in zip(X.columns, X.dtypes, strict=False)
        if not (is_numeric_dtype(dt) or is_bool_dtype(dt))
    ]
    if bad:
        raise ValueError(
            f"{name} has non-numeric column(s) {bad[:5]}"
            f"{'...' if len(bad) > 5 else ''}."
            " NNRegressor needs numbers: encode categories first, e.g. "
            "ColumnTransformer([('cat', OneHotEncoder(), cat_columns)], "
            "remainder='passthrough') in a Pipeline."
        )


def _first_non_numeric(A):
    """``(columns, value)``: columns of ``A`` that float() cannot read, and a value."""
    try:
        A = np.asarray(A, dtype=object)
    except ValueError:  # ragged nested lists
        return [], None
    if A.ndim == 0:
        A = A.reshape(1)
    A2 = A.reshape(len(A), -1)
    cols, example = [], None
    for j in range(A2.shape[1]):
        for value in A2[:, j]:
            try:
                float(value)
            except (TypeError, ValueError):
                cols.append(j)
                example = value if example is None else example
                break
    return cols, example


def explain_input_error(exc, X, y=None):
    """A ValueError that adds the fix to a scikit-learn validation message, or None.

    scikit-learn's messages name the problem but not what to do about it in
    NNRegressor's terms; keep them as the start of the new message so that
    code matching on them still works.
    """
    msg = str(exc).rstrip(".")
    if "could not convert" in msg or "non-numeric" in msg:
        cols, value = _first_non_numeric(X)
        if cols:
            return ValueError(
                f"X has non-numeric values in column(s) {cols[:5]}"
                f"{'...' if len(cols) > 5 else ''} (for example {value!r}). "
                "NNRegressor needs numbers: encode categories first, e.g. "
                "ColumnTransformer([('cat', OneHotEncoder(), cat_columns)], "
                "remainder='passthrough') in a Pipeline."
            )
        y_cols, y_value = _first_non_numeric(y) if y is not None else ([], None)
        if y_cols:
            return ValueError(
                f"y has non-numeric values (for example {y_value!r})."
                " NNRegressor needs numeric targets: convert them with "
                "np.asarray(y, dtype=float), or use a classifier for class labels."
            )
        return ValueError(
            f"{msg}. NNRegressor needs numeric X and y: encode text or "
            "categories first (e.g. OneHotEncoder in a ColumnTransformer)."
        )
    if msg.startswith("Complex data not supported"):
        name = "y" if y is not None and not np.iscomplexobj(X) else "X"
        return ValueError(
            f"Complex data not supported: {name} contains complex numbers. "
            "NNRegressor needs real values: put "
            "the real and imaginary parts in separate columns, e.g. "
            f"np.column_stack([{name}.real, {name}.imag])."
        )
    if "0 sample(s)" in msg or "0 feature(s)" in msg:
        return ValueError(
            f"{msg}. Pass at least one row, with at least one column in X and one "
            "target column in y."
        )
    if "inconsistent numbers of samples" in msg:
        return ValueError(
            f"{msg}. X and y need one row per sample: check that y was not "
            "filtered, shuffled or transposed separately from X."
        )
    if "while dim <= 2 is required" in msg:
        name = "y" if y is not None and np.ndim(X) <= 2 else "X"
        return ValueError(
            f"{msg}. Flatten the extra axes of {name} first, e.g. "
            f"{name}.reshape(len({name}), -1)."
        )
    return None


def dense_limit_bytes():
    """Most bytes a sparse X may take once densified to float64.

    A third of the memory available now (:data:`DENSE_SHARE_OF_AVAILABLE`), when
    psutil is installed to say how much that is; else a fixed 4 GiB
    (:data:`DENSE_LIMIT_BYTES`).
    """
    try:
        import psutil
    except ImportError:
        return DENSE_LIMIT_BYTES
    return int(psutil.virtual_memory().available * DENSE_SHARE_OF_AVAILABLE)


def _size(n_bytes):
    """``n_bytes`` in the largest binary unit that keeps it at least 1."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes} bytes"


def densify(X, name="X"):
    """A sparse ``X`` as a dense float64 array; other inputs unchanged.

    The network trains on dense arrays, as scikit-learn's MLPRegressor computes
    on them; a ValueError naming the size and the fix replaces the MemoryError
    (or swapping) of a matrix too large for that.

    Parameters
    ----------
    X : sparse matrix or array, or array-like
        Validated input.
    name : str, default="X"
        How to call it in the message.

    Returns
    -------
    X : ndarray or the input
        Dense float64 when ``X`` was sparse.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> densify(sp.csr_matrix([[0.0, 2.0], [1.0, 0.0]]))
    array([[0., 2.],
           [1., 0.]])
    """
    if not sp.issparse(X):
        return X
    n_rows, n_cols = X.shape
    need, limit = n_rows * n_cols * 8, dense_limit_bytes()
    if need > limit:
        raise ValueError(
            f"{name} is a sparse {n_rows} x {n_cols} matrix; NNRegressor trains on "
            f"dense arrays, and as dense float64 it would take {_size(need)}, more "
            f"than the {_size(limit)} allowed (a third of the available memory, or "
            "4 GiB without psutil). Reduce the columns first, e.g. "
            "sklearn.decomposition.TruncatedSVD(n_components=100) in a Pipeline, "
            "or fit on fewer rows."
        )
    return X.toarray().astype(np.float64, copy=False)


def validate_xy(estimator, X, y):
    """``(X, y)`` as float64 arrays, checked, with messages that name the fix.

    Sets ``n_features_in_`` (and ``feature_names_in_``) on ``estimator`` as
    :func:`~sklearn.utils.validation.validate_data` does. ``X`` comes back
    C-contiguous, so arrays and DataFrames give bit-identical fits. A sparse
    ``X`` (CSR or CSC; other formats via CSR) is densified, up to the size
    :func:`densify` allows; a sparse ``y`` too.
    """
    check_numeric_frame(X)
    if sp.issparse(y):
        y = densify(y, "y")
    # validate_data rejects non-finite y with a terse message; say where.
    y_arr = np.asarray(y) if y is not None else None
    if y_arr is not None and y_arr.dtype.kind in "fc":
        check_finite(y_arr, "y")
    try:
        X, y = validate_data(
            estimator,
            X,
            y,
            accept_sparse=SPARSE_FORMATS,
            multi_output=True,
            y_numeric=True,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
        )
    except ValueError as exc:
        better = explain_input_error(exc, X, y)
        if better is None:
            raise
        raise better from exc
    X = densify(X)
    if y.dtype.kind not in "fiub":
        # validate_data lets NumPy string targets through (only object y is
        # converted); catch them here rather than in a bare astype.
        raise explain_input_error(ValueError("non-numeric y"), X, y)
    check_finite(X, "X")
    check_finite(y, "y")
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError("y has 0 columns; pass at least one target.")
    return X, y


def validate_x(estimator, X):
    """``X`` for predict: float64, C-contiguous, finite, with the fitted columns.

    A sparse ``X`` is densified as in :func:`validate_xy`.
    """
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float64, np.float32)
        and len(X) > 0
        and X.shape[1] == getattr(estimator, "n_features_in_", -1)
        and not hasattr(estimator, "feature_names_in_")
    ):
        # What validate_data would check and return for a plain float array of
        # the fitted width, without its 0.1 ms per call (most of a one-row
        # predict). Anything else, and every error message, goes through it.
        check_finite(X, "X")
        return np.ascontiguousarray(X, dtype=np.float64)
    check_numeric_frame(X)
    try:
        X = validate_data(
            estimator,
            X,
            reset=False,
            accept_sparse=SPARSE_FORMATS,
            dtype=[np.float64, np.float32],
            ensure_all_finite=False,
        )
    except ValueError as exc:
        better = explain_input_error(exc, X)
        if better is None:
            raise
        raise better from exc
    X = densify(X)
    check_finite(X, "X")
    return np.ascontiguousarray(X, dtype=np.float64)


def check_hidden_layer_sizes(sizes):
    """``"auto"`` or the widths as a tuple of positive ints; else a ValueError."""
    given = sizes
    if isinstance(sizes, str) and sizes == "auto":
        return sizes
    if isinstance(sizes, numbers.Integral):
        sizes = (sizes,)
    sizes = tuple(sizes)
    if not all(isinstance(s, numbers.Integral) and s > 0 for s in sizes):
        raise ValueError(
            "hidden_layer_sizes must be a tuple of positive integers, e.g. "
            f"(128, 128, 128), or 'auto'; got {given!r}."
        )
    return tuple(int(s) for s in sizes)


def to_float32(A, name):
    """``A`` as C-contiguous float32; a ValueError if a value does not fit."""
    with np.errstate(over="ignore", invalid="ignore"):
        A32 = np.asarray(A, dtype=np.float32)
    if not np.isfinite(A32).all():
        raise ValueError(
            f"{name} does not fit in float32 after scaling (values beyond "
            "3.4e38 or NaN after the input transform). Rescale the offending "
            "columns, or use input_transform='log' for positive columns that "
            "span many decades."
        )
    return np.ascontiguousarray(A32)
