"""fit_rng and split_rows: the fit's random stream and its validation split."""

import numpy as np
import pytest

from sknnfit._rows import Rows, fit_rng, holdout_size, split_rows


def test_fit_rng_for_none_leaves_numpys_global_generator_alone():
    before = np.random.get_state()  # noqa: NPY002
    fit_rng(None).randint(100, size=5)
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_fit_rng_for_an_int_is_reproducible():
    a = fit_rng(3).randint(1000, size=5)
    np.testing.assert_array_equal(a, fit_rng(3).randint(1000, size=5))


def test_split_rows_without_held_out_rows_is_all_rows():
    train, valid = split_rows(10, fit_rng(0), 0)
    assert train == slice(None) and valid is None


def test_split_rows_partitions_the_rows():
    train, valid = split_rows(25, fit_rng(0), 3)
    assert len(valid) == 3 and len(train) == 22
    assert sorted(np.r_[train, valid]) == list(range(25))


def test_split_rows_holds_out_only_rows_of_positive_weight():
    w = np.where(np.arange(50) % 5 == 0, 1.0, 0.0)  # 10 weighted rows
    train, valid = split_rows(50, np.random.RandomState(0), 4, w)
    assert len(valid) == 4 and (w[valid] > 0).all()
    assert sorted([*train, *valid]) == list(range(50))
    # All weights positive: the split without weights.
    plain = split_rows(50, np.random.RandomState(0), 4)
    same = split_rows(50, np.random.RandomState(0), 4, np.full(50, 2.0))
    assert all(np.array_equal(a, b) for a, b in zip(plain, same, strict=True))


def test_holdout_size_rounds_the_fraction_up():
    assert holdout_size(25, True, 0.1) == 3
    assert holdout_size(25, False, 0.1) == 0


@pytest.mark.parametrize(
    ("n", "expected"), [(45, 0), (46, 10), (1000, 200), (10**6, 5000)]
)
def test_holdout_size_auto(n, expected):
    # "auto": 20% up to 5,000 rows, only when at least 10 rows are held out.
    assert holdout_size(n, "auto", "auto") == expected


def test_holdout_size_auto_with_a_fraction_too_small_holds_nothing_out():
    assert holdout_size(60, "auto", 0.1) == 0


def test_holdout_size_refuses_to_leave_no_training_rows():
    with pytest.raises(ValueError, match="lower validation_fraction"):
        holdout_size(1, True, 0.5)


def test_rows_split_takes_the_chosen_rows():
    X, y = np.arange(10.0)[:, None], np.arange(10.0)[:, None] * 2
    w = np.arange(10.0) + 1
    rows = Rows.split(X, y, w, (np.array([0, 1, 2]), np.array([9])))
    assert rows.X.ravel().tolist() == [0, 1, 2]
    assert rows.y_valid.ravel().tolist() == [18]
    assert rows.w.tolist() == [1, 2, 3] and rows.w_valid.tolist() == [10]
    assert Rows.split(X, y, None, (slice(None), None)).X_valid is None
