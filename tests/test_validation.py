"""sknnfit._validation: the input checks and the messages that name the fix."""

import re
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning

from sknnfit import _validation
from sknnfit._validation import (
    DENSE_LIMIT_BYTES,
    check_finite,
    check_hidden_layer_sizes,
    check_numeric_frame,
    did_you_mean,
    explain_input_error,
    to_float32,
    validate_x,
    validate_xy,
)
from sknnfit.estimators import NNRegressor

# ------------------------------------------------------------------ check_finite


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, bool])
def test_check_finite_passes_finite_and_integer_arrays(dtype):
    assert check_finite((np.arange(6) % 2).astype(dtype).reshape(3, 2), "X") is None


def test_check_finite_names_the_first_bad_cell_of_a_2d_array():
    A = np.zeros((5, 3))
    A[4, 0] = np.inf
    A[2, 1] = np.nan
    A[3, 2] = -np.inf
    with pytest.raises(
        ValueError,
        match=r"^Input X contains NaN and infinity: 1 NaN and 2 infinite value\(s\), "
        r"the first at row 2, column 1\. .*SimpleImputer",
    ):
        check_finite(A, "X")


@pytest.mark.parametrize(
    ("bad", "kinds", "counts"),
    [(np.nan, "NaN", "1 NaN and 0 infinite"), (-np.inf, "infinity", "0 NaN and 1")],
)
def test_check_finite_gives_only_the_row_of_a_1d_array(bad, kinds, counts):
    y = np.arange(10.0)
    y[7] = bad
    with pytest.raises(
        ValueError, match=rf"y contains {kinds}: {counts}.* at row 7\. "
    ):
        check_finite(y, "y")


def test_check_finite_handles_complex_values():
    with pytest.raises(ValueError, match=r"1 NaN and 0 infinite.*row 0, column 1"):
        check_finite(np.array([[1 + 0j, complex(np.nan, 0)]]), "X")


# ------------------------------------------------------------------ check_numeric_frame


def test_check_numeric_frame_accepts_numbers_and_booleans():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "c": [True, False]})
    assert check_numeric_frame(frame) is None
    assert check_numeric_frame(np.array([["x"]])) is None  # arrays are not its job


def test_check_numeric_frame_names_the_non_numeric_columns():
    frame = pd.DataFrame(
        {"a": [1.0, 2.0], "city": ["x", "y"], "size": pd.Categorical(["S", "M"])}
    )
    with pytest.raises(
        ValueError,
        match=r"^X has non-numeric column\(s\) \['city', 'size'\]\. .*OneHot",
    ):
        check_numeric_frame(frame)


def test_check_numeric_frame_lists_at_most_five():
    frame = pd.DataFrame({f"c{i}": ["x"] for i in range(7)})
    with pytest.raises(ValueError, match=r"\['c0', 'c1', 'c2', 'c3', 'c4'\]\.\.\."):
        check_numeric_frame(frame, name="X_test")


# ------------------------------------------------------------------ did_you_mean


def test_did_you_mean_suggests_the_closest_name():
    error = did_you_mean("parameter", "max_epoch", ["lr", "max_epochs", "patience"])
    assert isinstance(error, ValueError)
    assert str(error) == (
        "Unknown parameter 'max_epoch'. Did you mean 'max_epochs'? "
        "Valid parameters are: 'lr', 'max_epochs', 'patience'."
    )


def test_did_you_mean_without_a_close_name_only_lists():
    error = did_you_mean("model", "zzz", iter(["nn", "poly"]))
    assert str(error) == "Unknown model 'zzz'. Valid models are: 'nn', 'poly'."


# ------------------------------------------------------------------ explain_input_error


@pytest.mark.parametrize(
    ("message", "X", "y", "match"),
    [
        pytest.param(
            "could not convert string to float: 'red'",
            np.array([[1.0, "red"], [2.0, "blue"]], dtype=object),
            None,
            r"^X has non-numeric values in column\(s\) \[1\] \(for example 'red'\)",
            id="strings-in-X",
        ),
        pytest.param(
            "could not convert string to float: 'cheap'",
            np.zeros((2, 2)),
            np.array(["cheap", "dear"]),
            r"^y has non-numeric values \(for example 'cheap'\).*classifier",
            id="strings-in-y",
        ),
        pytest.param(
            "non-numeric data",
            np.zeros((2, 2)),
            np.zeros(2),
            r"^non-numeric data\. NNRegressor needs numeric X and y",
            id="non-numeric-elsewhere",
        ),
        pytest.param(
            "Complex data not supported",
            np.zeros((2, 2)) + 1j,
            None,
            r"X contains complex numbers.*np\.column_stack\(\[X\.real, X\.imag\]\)",
            id="complex-X",
        ),
        pytest.param(
            "Complex data not supported",
            np.zeros((2, 2)),
            np.zeros(2) + 1j,
            r"y contains complex numbers.*np\.column_stack\(\[y\.real, y\.imag\]\)",
            id="complex-y",
        ),
        pytest.param(
            "Found array with 0 sample(s) (shape=(0, 3)) while a minimum of 1 is "
            "required.",
            np.zeros((0, 3)),
            None,
            r"^Found array with 0 sample\(s\).*required\. Pass at least one row",
            id="empty",
        ),
        pytest.param(
            "Found input variables with inconsistent numbers of samples: [3, 2]",
            np.zeros((3, 1)),
            np.zeros(2),
            r"samples: \[3, 2\]\. X and y need one row per sample",
            id="lengths",
        ),
        pytest.param(
            "Found array with dim 3. None expected <= 2. while dim <= 2 is required",
            np.zeros((2, 2, 2)),
            np.zeros(2),
            r"Flatten the extra axes of X first, e\.g\. X\.reshape\(len\(X\), -1\)",
            id="3d-X",
        ),
        pytest.param(
            "Found array with dim 3. None expected <= 2. while dim <= 2 is required",
            np.zeros((2, 2)),
            np.zeros((2, 1, 1)),
            r"Flatten the extra axes of y first, e\.g\. y\.reshape\(len\(y\), -1\)",
            id="3d-y",
        ),
    ],
)
def test_explain_input_error_keeps_the_message_and_adds_the_fix(message, X, y, match):
    better = explain_input_error(ValueError(message), X, y)
    assert isinstance(better, ValueError)
    assert re.search(match, str(better), flags=re.DOTALL), str(better)


def test_explain_input_error_leaves_other_messages_alone():
    assert explain_input_error(ValueError("something else"), np.zeros((2, 2))) is None


# ------------------------------------------------------------------ hidden_layer_sizes


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("auto", "auto"),
        (8, (8,)),
        (np.int64(8), (8,)),
        ([16, 8], (16, 8)),
        ((np.int32(4), 2), (4, 2)),
        ((), ()),
    ],
)
def test_check_hidden_layer_sizes_gives_a_tuple_of_ints(given, expected):
    sizes = check_hidden_layer_sizes(given)
    assert sizes == expected
    assert all(type(s) is int for s in sizes if sizes != "auto")


@pytest.mark.parametrize("given", [(8, 0), (-1,), (8.0,), ("8",), 0, "wide"])
def test_check_hidden_layer_sizes_rejects_non_positive_or_non_integers(given):
    with pytest.raises(
        ValueError,
        match=rf"positive integers, e\.g\. \(128, 128, 128\), or 'auto'; "
        rf"got {re.escape(repr(given))}\.",
    ):
        check_hidden_layer_sizes(given)


# ------------------------------------------------------------------ to_float32


def test_to_float32_gives_a_contiguous_float32_copy():
    A = np.arange(12.0).reshape(3, 4)[:, ::2]
    A32 = to_float32(A, "X")
    assert A32.dtype == np.float32 and A32.flags.c_contiguous
    np.testing.assert_array_equal(A32, A)


@pytest.mark.parametrize("value", [1e39, -1e300, np.nan])
def test_to_float32_refuses_what_float32_cannot_hold(value):
    with pytest.raises(ValueError, match=r"^Z does not fit in float32 after scaling"):
        to_float32(np.array([[1.0, value]]), "Z")


# ------------------------------------------------------------------ sparse X


class _Holder(BaseEstimator):
    """Something for validate_data to record n_features_in_ on."""


def _sparse_data():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 5))
    X[X < 0.6] = 0.0
    return X, X @ np.arange(1.0, 6.0)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "lil"])
@pytest.mark.parametrize("container", ["matrix", "array"])
def test_validate_xy_densifies_sparse_x(fmt, container):
    X, y = _sparse_data()
    S = getattr(sp, f"{fmt}_{container}")(X.astype(np.float32))
    X_out, y_out = validate_xy(_Holder(), S, y)
    assert type(X_out) is np.ndarray and X_out.dtype == np.float64
    assert X_out.flags.c_contiguous
    np.testing.assert_array_equal(X_out, X.astype(np.float32))
    np.testing.assert_array_equal(y_out, y)


def test_validate_x_densifies_and_checks_the_fitted_columns():
    X, y = _sparse_data()
    holder = _Holder()
    validate_xy(holder, X, y)
    np.testing.assert_array_equal(validate_x(holder, sp.csr_matrix(X)), X)
    with pytest.raises(ValueError, match="5 features"):
        validate_x(holder, sp.csr_matrix(X[:, :3]))


def test_sparse_y_is_densified():
    X, y = _sparse_data()
    _, y_out = validate_xy(_Holder(), X, sp.csr_matrix(y[:, None]))
    assert type(y_out) is np.ndarray
    np.testing.assert_array_equal(y_out, y[:, None])


def test_non_finite_sparse_x_is_located():
    X, y = _sparse_data()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*row 3, column 2"):
        validate_xy(_Holder(), sp.csr_matrix(X), y)


def test_sparse_x_too_large_to_densify_names_the_size_and_the_fix(monkeypatch):
    # A 10^6 x 10^5 matrix with three non-zeros: 745 GiB once dense.
    S = sp.csr_matrix(
        ([1.0, 2.0, 3.0], ([0, 1, 999_999], [0, 5, 99_999])), shape=(10**6, 10**5)
    )
    with pytest.raises(
        ValueError,
        match=r"X is a sparse 1000000 x 100000 matrix.*745 GiB.*TruncatedSVD",
    ):
        validate_xy(_Holder(), S, np.zeros(10**6))
    # The limit is what dense_limit_bytes says: one byte short of the array.
    X, y = _sparse_data()
    monkeypatch.setattr(_validation, "dense_limit_bytes", lambda: X.nbytes - 1)
    with pytest.raises(
        ValueError, match=r"take 1\.56 KiB, more than the 1\.56 KiB allowed"
    ):
        validate_xy(_Holder(), sp.csr_matrix(X), y)
    monkeypatch.setattr(_validation, "dense_limit_bytes", lambda: X.nbytes)
    validate_xy(_Holder(), sp.csr_matrix(X), y)


def test_dense_limit_is_a_share_of_available_memory_or_4_gib(monkeypatch):
    psutil = pytest.importorskip("psutil")

    class Memory:
        available = 12 * 2**30

    monkeypatch.setattr(psutil, "virtual_memory", lambda: Memory)
    assert _validation.dense_limit_bytes() == 4 * 2**30 == DENSE_LIMIT_BYTES
    Memory.available = 3 * 2**30
    assert _validation.dense_limit_bytes() == 2**30
    monkeypatch.setitem(sys.modules, "psutil", None)  # import psutil fails
    assert _validation.dense_limit_bytes() == DENSE_LIMIT_BYTES


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_nnregressor_predicts_the_same_from_sparse_and_dense_x(fmt):
    X, y = _sparse_data()
    S = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    params = {"hidden_layer_sizes": (8,), "max_epochs": 3, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = NNRegressor(**params).fit(X, y)
        sparse = NNRegressor(**params).fit(S, y)
    np.testing.assert_array_equal(sparse.predict(S), dense.predict(X))
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(S))
