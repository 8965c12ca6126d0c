"""Tables too small to hold rows out: the default against a line and a polynomial.

Below 46 rows ``NNRegressor`` holds nothing out, and its guard weighs the
network by cross-validation (:mod:`sknnfit._crossval`). This benchmark draws
such tables from simple functions of one or two inputs on [-1, 1], noisy (noise
of a tenth of the function's standard deviation) or clean, and scores each
model on 2,000 new points against the noise-free function.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from .metrics import nrmse

#: name -> (inputs, function of X).
FUNCTIONS = {
    "line": (1, lambda X: 2 * X[:, 0] + 1),
    "sine": (1, lambda X: np.sin(3 * X[:, 0])),
    "quadratic": (1, lambda X: X[:, 0] ** 2),
    "plane": (2, lambda X: X[:, 0] - 2 * X[:, 1]),
    "pure noise": (1, lambda X: np.zeros(len(X))),
    "bump": (2, lambda X: np.exp(-4 * (X**2).sum(axis=1))),
}

#: Noise, as a share of the function's standard deviation on the test points
#: (of 1 for pure noise).
NOISE = 0.1

#: Points the models are scored on.
N_TEST = 2000


def draw(name, n, seed, noisy=True):
    """``(X, y, X_test, f_test, noise)``: a table of ``n`` rows and test points."""
    d, f = FUNCTIONS[name]
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d))
    X_test = rng.uniform(-1, 1, size=(N_TEST, d))
    f_test = f(X_test)
    noise = NOISE * (f_test.std() or 1.0)
    y = f(X)
    if noisy:
        y = y + rng.normal(0.0, noise, size=n)
    return X, y, X_test, f_test, noise


def default_models(seed):
    """``{label: unfitted model}``: the default, the polynomial baseline, a line."""
    from sknnfit import NNRegressor

    from .baselines import PolynomialRegressor

    return {
        "sknnfit": NNRegressor(random_state=seed),
        "poly": PolynomialRegressor(random_state=seed),
        "line": LinearRegression(),
    }


def run(names=None, sizes=(15, 30, 45), seeds=(0, 1), noisy=(True, False)):
    """One row per table and model.

    Columns: ``function``, ``noisy``, ``rows``, ``seed``, ``model``, ``nrmse``
    (RMSE against the noise-free function over its standard deviation; pure
    noise: over the noise), ``over_noise`` (RMSE over the noise's standard
    deviation), ``fit_s`` and, for sknnfit, ``network`` (whether it predicts
    with one).
    """
    records = []
    for name in names or list(FUNCTIONS):
        for is_noisy in noisy:
            if name == "pure noise" and not is_noisy:
                continue
            for n in sizes:
                for seed in seeds:
                    X, y, X_test, f_test, noise = draw(name, n, seed, is_noisy)
                    for label, model in default_models(seed).items():
                        records.append(
                            _score(model, X, y, X_test, f_test, noise)
                            | {
                                "function": name,
                                "noisy": is_noisy,
                                "rows": n,
                                "seed": seed,
                                "model": label,
                            }
                        )
    return pd.DataFrame.from_records(records)


def _score(model, X, y, X_test, f_test, noise):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
        fit_s = time.perf_counter() - start
        pred = model.predict(X_test)
    rmse = float(np.sqrt(np.mean((pred - f_test) ** 2)))
    scale = f_test.std()
    return {
        "nrmse": nrmse(f_test, pred) if scale > 0 else rmse / noise,
        "over_noise": rmse / noise,
        "fit_s": fit_s,
        "network": getattr(model, "use_network_", None),
    }


#: Errors below this share of the noise level count as exact (rounding): two
#: exact fits compare as equal, whatever their last digits.
EXACT = 1e-6


def summary(frame):
    """Per function, noise and model: the median ``over_noise`` and ``fit_s``,
    and how often sknnfit is within 1.1x of the better of poly and line (errors
    floored at :data:`EXACT`)."""
    keys = ["function", "noisy", "rows", "seed"]
    wide = frame.pivot_table(index=keys, columns="model", values="over_noise")
    best = wide[["poly", "line"]].min(axis=1).clip(lower=EXACT)
    wide["sknnfit / best"] = wide["sknnfit"].clip(lower=EXACT) / best
    table = wide.groupby(["function", "noisy"]).agg(
        sknnfit=("sknnfit", "median"),
        poly=("poly", "median"),
        line=("line", "median"),
        worst_ratio=("sknnfit / best", "max"),
        within_1_1x=("sknnfit / best", lambda r: f"{(r <= 1.1).sum()}/{len(r)}"),
    )
    time_s = frame[frame.model == "sknnfit"].groupby(["function", "noisy"])["fit_s"]
    table["sknnfit fit s (median)"] = time_s.median()
    return table.reset_index()
