"""The rows a fit trains on and holds out, and the random stream that decides.

Everything random in a fit (the validation split, each network's seed) draws
from the one RandomState :func:`fit_rng` returns.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils import check_random_state


def fit_rng(random_state):
    """The fit's RandomState; for None one seeded from the OS, not NumPy's global.

    scikit-learn's ``check_random_state(None)`` hands out NumPy's global
    generator, which drawing from would advance; a fit must leave it alone.
    """
    if random_state is None:
        return np.random.RandomState(np.random.SeedSequence().generate_state(4))
    return check_random_state(random_state)


def split_rows(n, rng, early_stopping, validation_fraction):
    """``(train_rows, valid_rows)``: all rows and None without early stopping."""
    if not early_stopping:
        return slice(None), None  # a view, not a copy of the training data
    n_valid = math.ceil(validation_fraction * n)
    if n < 2 or n - n_valid < 1:
        raise ValueError(
            f"early_stopping=True holds out validation_fraction="
            f"{validation_fraction} of the rows, which leaves no training "
            f"rows from n_samples={n}. Pass at least 2 samples, lower "
            "validation_fraction, or set early_stopping=False."
        )
    perm = rng.permutation(n)
    return perm[n_valid:], perm[:n_valid]
