"""The rows a fit trains on and holds out, and the random stream that decides.

Everything random in a fit (the validation split, each network's seed) draws
from the one RandomState :func:`fit_rng` returns.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from sklearn.utils import check_random_state

#: early_stopping="auto" holds rows out when at least this many would be held
#: out: fewer cannot tell a better epoch from noise.
MIN_VALID_ROWS = 10

#: validation_fraction="auto": this share of the rows ...
AUTO_FRACTION = 0.2

#: ... but at most this many rows: beyond them the validation loss is precise
#: enough, and the rows are worth more in training.
MAX_AUTO_VALID_ROWS = 5_000


def fit_rng(random_state):
    """The fit's RandomState; for None one seeded from the OS, not NumPy's global.

    scikit-learn's ``check_random_state(None)`` hands out NumPy's global
    generator, which drawing from would advance; a fit must leave it alone.
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(4))
    return check_random_state(random_state)


def holdout_size(n, early_stopping, validation_fraction):
    """Rows to hold out of ``n``: 0 for none.

    ``early_stopping="auto"`` holds out when ``validation_fraction`` of the rows
    is at least :data:`MIN_VALID_ROWS`; ``validation_fraction="auto"`` is
    :data:`AUTO_FRACTION` of the rows, at most :data:`MAX_AUTO_VALID_ROWS`.

    Examples
    --------
    >>> holdout_size(1000, "auto", "auto"), holdout_size(40, "auto", "auto")
    (200, 0)
    >>> holdout_size(100_000, "auto", "auto"), holdout_size(100, False, 0.1)
    (5000, 0)
    """
    if early_stopping is False:
        return 0
    if validation_fraction == "auto":
        n_valid = min(math.ceil(AUTO_FRACTION * n), MAX_AUTO_VALID_ROWS)
    else:
        n_valid = math.ceil(validation_fraction * n)
    if early_stopping == "auto":
        return n_valid if n_valid >= MIN_VALID_ROWS and n - n_valid >= 1 else 0
    if n < 2 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping=True holds out validation_fraction="
            f"{validation_fraction} of the rows, which leaves no training "
            f"rows from n_samples={n}. Pass at least 2 samples, lower "
            "validation_fraction, or set early_stopping=False."
        )
    return n_valid


def split_rows(n, rng, n_valid, weights=None):
    """``(train_rows, valid_rows)``: all rows and None when ``n_valid`` is 0.

    With ``weights``, the held-out rows are drawn from the rows of positive
    weight only (rows of weight 0 count for nothing, and held-out rows of
    total weight 0 could score nothing); the rows of weight 0 train. Where
    every weight is positive the split is the one without weights.
    """
    if not n_valid:
        return slice(None), None  # a view, not a copy of the training data
    if weights is None or (weights > 0).all():
        perm = rng.permutation(n)
        return perm[n_valid:], perm[:n_valid]
    positive = np.flatnonzero(weights > 0)
    valid = positive[rng.permutation(len(positive))[:n_valid]]
    train = np.setdiff1d(np.arange(n), valid, assume_unique=True)
    return train, valid


@dataclasses.dataclass(frozen=True)
class Rows:
    """A fit's float64 training rows and held-out rows (None without them).

    ``X`` holds the transformed inputs, ``y`` the 2-D targets in the user's
    units, ``w`` the sample weights (None: all 1).
    """

    X: np.ndarray
    y: np.ndarray
    w: np.ndarray | None = None
    X_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    w_valid: np.ndarray | None = None

    @classmethod
    def split(cls, X, y, w, rows):
        """The rows of ``X``, ``y`` and ``w`` that :func:`split_rows` chose."""
        train_rows, valid_rows = rows
        if valid_rows is None:
            return cls(X, y, w)
        w_train, w_valid = (None, None) if w is None else (w[train_rows], w[valid_rows])
        return cls(
            X[train_rows], y[train_rows], w_train, X[valid_rows], y[valid_rows], w_valid
        )
