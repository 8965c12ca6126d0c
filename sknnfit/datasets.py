"""Reference regression problems, generated from a seed.

Every problem is a pure function of ``random_state``: nothing is downloaded and
NumPy's global random state is never touched. Each problem draws its hidden
parameters, its training set and its test set from three independent streams
derived from ``random_state``, so the training and test sets always share the
same underlying function, and changing ``n_train`` leaves the test set
unchanged.

The problems are chosen to expose the ways neural-network regressors fail:

- ``identity25``: inputs spanning six decades of scale (input scaling).
- ``steep25x19``: narrow bumps on top of a linear map (peaks get smoothed away).
- ``formula5``: a physical formula with heavy-tailed targets (target scaling).
- ``square``: extrapolation outside the training range.
- ``noisy_sin``: noisy targets (overfitting creates spurious wiggles).
"""

import numpy as np
from sklearn.utils import check_random_state

from ._validation import did_you_mean

__all__ = ["PROBLEMS", "make_problem", "problem_info"]

PROBLEMS = {
    "identity25": (
        "y = X for 25 inputs, column j uniform on [-s_j, s_j] with "
        "s = logspace(-3, 3, 25); 25 outputs."
    ),
    "steep25x19": (
        "19 outputs: a narrow 2-D bump (width 0.03-0.12) on inputs (0, 1) or "
        "(2, 3) plus a random linear map of 25 inputs on [0, 1]."
    ),
    "formula5": (
        "y = x5/x2 - (x1 - x2) / (2 x3 x4) * x2/x1 for 5 inputs spanning "
        "different decades; heavy-tailed 1-D target."
    ),
    "square": (
        "y = x^2, trained on x in [-2, 2], tested on an even grid over [-4, 4] "
        "(extrapolation)."
    ),
    "noisy_sin": (
        "y = sin(x)/2.5 + N(0, 0.05^2) noise for x in [-1, 9], tested on an "
        "even grid against the noise-free curve."
    ),
}

_DEFAULT_SIZES = {
    "identity25": (20_000, 5_000),
    "steep25x19": (200_000, 20_000),
    "formula5": (100_000, 20_000),
    "square": (1_000, 2_001),
    "noisy_sin": (4_000, 4_001),
}


def _info(
    n_features,
    n_outputs,
    *,
    one_d=False,
    train_range=None,
    test_range=None,
    test_grid=False,
    extrapolation=False,
    noise_sd=0.0,
):
    """The fixed facts of a problem, in the order :func:`problem_info` lists them."""
    return {
        "n_features": n_features,
        "n_outputs": n_outputs,
        "one_d": one_d,
        "train_range": train_range,
        "test_range": test_range,
        "test_grid": test_grid,
        "extrapolation": extrapolation,
        "noise_sd": noise_sd,
    }


_INFO = {
    "identity25": _info(25, 25),
    "steep25x19": _info(25, 19),
    "formula5": _info(5, 1),
    "square": _info(
        1,
        1,
        one_d=True,
        train_range=(-2.0, 2.0),
        test_range=(-4.0, 4.0),
        test_grid=True,
        extrapolation=True,
    ),
    "noisy_sin": _info(
        1,
        1,
        one_d=True,
        train_range=(-1.0, 9.0),
        test_range=(-1.0, 9.0),
        test_grid=True,
        noise_sd=0.05,
    ),
}


def _check_name(name):
    if name not in PROBLEMS:
        raise did_you_mean("problem", name, PROBLEMS)


def _check_size(value, default, what):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"{what} must be a positive integer or None (for the default "
            f"{default}); got {value!r}."
        )
    return int(value)


def _identity25(params_rng, train_rng, test_rng, n_train, n_test):
    scales = np.logspace(-3, 3, 25)

    def sample(rng, n):
        X = rng.uniform(-scales, scales, size=(n, scales.size))
        return X, X.copy()

    return (*sample(train_rng, n_train), *sample(test_rng, n_test))


def _steep25x19(params_rng, train_rng, test_rng, n_train, n_test):
    n_features, n_outputs = 25, 19
    W = params_rng.normal(0.0, 0.3, size=(n_features, n_outputs))
    centres = params_rng.uniform(0.2, 0.8, size=(n_outputs, 2))
    widths = params_rng.uniform(0.03, 0.12, size=n_outputs)
    # Outputs 0-9 peak in the (x0, x1) plane, outputs 10-18 in (x2, x3).
    first = np.where(np.arange(n_outputs) < 10, 0, 2)
    w2 = widths**2

    def sample(rng, n):
        X = rng.uniform(0.0, 1.0, size=(n, n_features))
        xa, xb = X[:, first], X[:, first + 1]
        dist2 = (xa - centres[:, 0]) ** 2 + (xb - centres[:, 1]) ** 2
        y = 10.0 * w2 / (w2 + dist2) + X @ W
        return X, y

    return (*sample(train_rng, n_train), *sample(test_rng, n_test))


def _formula5(params_rng, train_rng, test_rng, n_train, n_test):
    def sample(rng, n):
        x1 = rng.uniform(500.0, 1000.0, size=n)
        x2 = rng.uniform(1.0, x1)
        x3 = rng.uniform(1000.0, 50000.0, size=n)
        x4 = rng.uniform(1e-6, 1e-3, size=n)
        x5 = rng.uniform(1.0, 10000.0, size=n)
        y = x5 / x2 - (x1 - x2) / (2.0 * x3 * x4) * x2 / x1
        return np.column_stack([x1, x2, x3, x4, x5]), y

    return (*sample(train_rng, n_train), *sample(test_rng, n_test))


def _square(params_rng, train_rng, test_rng, n_train, n_test):
    x_train = train_rng.uniform(-2.0, 2.0, size=n_train)
    x_test = np.linspace(-4.0, 4.0, n_test)
    return x_train[:, None], x_train**2, x_test[:, None], x_test**2


def _noisy_sin(params_rng, train_rng, test_rng, n_train, n_test):
    x_train = train_rng.uniform(-1.0, 9.0, size=n_train)
    y_train = np.sin(x_train) / 2.5 + train_rng.normal(0.0, 0.05, size=n_train)
    x_test = np.linspace(-1.0, 9.0, n_test)
    return x_train[:, None], y_train, x_test[:, None], np.sin(x_test) / 2.5


_GENERATORS = {
    "identity25": _identity25,
    "steep25x19": _steep25x19,
    "formula5": _formula5,
    "square": _square,
    "noisy_sin": _noisy_sin,
}


def make_problem(name, random_state=0, *, n_train=None, n_test=None):
    """Generate the training and test sets of a reference problem.

    Parameters
    ----------
    name : str
        One of the keys of :data:`PROBLEMS`: ``"identity25"``, ``"steep25x19"``,
        ``"formula5"``, ``"square"`` or ``"noisy_sin"``.

    random_state : int, RandomState instance or None, default=0
        Seed of the problem. Hidden parameters (for ``steep25x19``), training
        rows and test rows come from three independent streams derived from
        it, so the test set does not depend on ``n_train``.

    n_train : int, default=None
        Number of training rows; None uses the problem's default (20,000 for
        ``identity25``, 200,000 for ``steep25x19``, 100,000 for ``formula5``,
        1,000 for ``square``, 4,000 for ``noisy_sin``). Small values make fast
        tests.

    n_test : int, default=None
        Number of test rows; None uses the default (5,000, 20,000, 20,000,
        2,001 and 4,001). For ``square`` and ``noisy_sin`` the test inputs are
        ``n_test`` evenly spaced points of the test range, in increasing order.

    Returns
    -------
    X_train : ndarray of shape (n_train, n_features), dtype float64
        Training inputs.

    y_train : ndarray of shape (n_train,) or (n_train, n_outputs), dtype float64
        Training targets: 1-D for single-output problems, 2-D otherwise.

    X_test : ndarray of shape (n_test, n_features), dtype float64
        Test inputs.

    y_test : ndarray of shape (n_test,) or (n_test, n_outputs), dtype float64
        Noise-free test targets.

    See Also
    --------
    problem_info : Shapes, ranges and flags of a problem.

    Examples
    --------
    >>> from sknnfit.datasets import make_problem
    >>> X_train, y_train, X_test, y_test = make_problem("square", n_train=100)
    >>> X_train.shape, y_train.shape, X_test.shape, y_test.shape
    ((100, 1), (100,), (2001, 1), (2001,))
    >>> float(X_test[0, 0]), float(X_test[-1, 0])
    (-4.0, 4.0)
    """
    _check_name(name)
    default_train, default_test = _DEFAULT_SIZES[name]
    n_train = _check_size(n_train, default_train, "n_train")
    n_test = _check_size(n_test, default_test, "n_test")

    rng = check_random_state(random_state)
    seeds = rng.randint(np.iinfo(np.int32).max, size=3)
    params_rng, train_rng, test_rng = (np.random.RandomState(s) for s in seeds)
    arrays = _GENERATORS[name](params_rng, train_rng, test_rng, n_train, n_test)
    return tuple(np.ascontiguousarray(a, dtype=np.float64) for a in arrays)


def problem_info(name):
    """Describe a reference problem without generating it.

    Parameters
    ----------
    name : str
        One of the keys of :data:`PROBLEMS`.

    Returns
    -------
    info : dict
        A new dict with keys:

        - ``"name"`` (str) and ``"description"`` (str).
        - ``"n_features"``, ``"n_outputs"`` (int).
        - ``"n_train"``, ``"n_test"`` (int): default sizes.
        - ``"one_d"`` (bool): a single input, so predictions can be read as a
          curve over the test grid.
        - ``"train_range"``, ``"test_range"`` (tuple of two floats or None):
          interval of the single input in training and test, for 1-D problems.
        - ``"test_grid"`` (bool): the test inputs are an ordered even grid.
        - ``"extrapolation"`` (bool): the test range extends past the training
          range, so inside and outside errors are worth scoring apart.
        - ``"noise_sd"`` (float): standard deviation of the noise added to the
          training targets (test targets are always noise-free).

    Examples
    --------
    >>> from sknnfit.datasets import problem_info
    >>> info = problem_info("square")
    >>> info["train_range"], info["one_d"], info["n_outputs"]
    ((-2.0, 2.0), True, 1)
    """
    _check_name(name)
    n_train, n_test = _DEFAULT_SIZES[name]
    return {
        "name": name,
        "description": PROBLEMS[name],
        "n_train": n_train,
        "n_test": n_test,
        **_INFO[name],
    }
