"""Shared fixtures: a small NNRegressor factory and small data sets.

Fixtures here are plain and fast; a test module that needs other settings passes
them explicitly (``small_nn(hidden_layer_sizes=(16,), max_epochs=5)``) so each
test keeps its exact configuration visible at the call site.
"""

import numpy as np
import pytest

from sknnfit import NNRegressor

SMALL_NN_DEFAULTS = {
    "hidden_layer_sizes": (8,),
    "max_epochs": 3,
    "random_state": 0,
    # Mechanics, not model choice: no held-out rows, no guard (tests of those
    # ask for them).
    "early_stopping": False,
}


def make_small_nn(**kw):
    """A tiny seeded NNRegressor without held-out rows; ``kw`` overrides."""
    return NNRegressor(**{**SMALL_NN_DEFAULTS, **kw})


@pytest.fixture(scope="session")
def small_nn():
    """Factory of small, seeded regressors; keyword arguments override the defaults."""
    return make_small_nn


@pytest.fixture
def smooth_data():
    """120 x 3 uniform inputs in [-1, 1] and a smooth, nonlinear target."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(120, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    return X, y


@pytest.fixture(scope="module")
def normal_data():
    """64 x 2 standard-normal inputs, ``sin(x0) + x1``; per module: do not mutate."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 2))
    y = np.sin(X[:, 0]) + X[:, 1]
    return X, y


@pytest.fixture(autouse=True)
def _forget_earlier_interrupts():
    """Each test starts as if no fit had been cut short by Ctrl-C just before.

    A second interrupt within a few seconds of one that cut a fit short raises
    KeyboardInterrupt (sknnfit.training.stopping.note_interrupt); tests that
    simulate Ctrl-C follow each other faster than that.
    """
    from sknnfit.training import stopping

    stopping._last_interrupt["time"] = float("-inf")
