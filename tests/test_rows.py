"""fit_rng and split_rows: the fit's random stream and its validation split."""

import numpy as np
import pytest

from sknnfit._rows import fit_rng, split_rows


def test_fit_rng_for_none_leaves_numpys_global_generator_alone():
    before = np.random.get_state()  # noqa: NPY002
    fit_rng(None).randint(100, size=5)
    after = np.random.get_state()  # noqa: NPY002
    np.testing.assert_array_equal(before[1], after[1])
    assert before[2:] == after[2:]


def test_fit_rng_for_an_int_is_reproducible():
    a = fit_rng(3).randint(1000, size=5)
    np.testing.assert_array_equal(a, fit_rng(3).randint(1000, size=5))


def test_split_rows_without_early_stopping_is_all_rows():
    train, valid = split_rows(10, fit_rng(0), False, 0.1)
    assert train == slice(None) and valid is None


def test_split_rows_holds_out_the_fraction_rounded_up():
    train, valid = split_rows(25, fit_rng(0), True, 0.1)
    assert len(valid) == 3 and len(train) == 22
    assert sorted(np.r_[train, valid]) == list(range(25))


def test_split_rows_refuses_to_leave_no_training_rows():
    with pytest.raises(ValueError, match="lower validation_fraction"):
        split_rows(1, fit_rng(0), True, 0.5)
