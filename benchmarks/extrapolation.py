"""How often predict's ExtrapolationWarning fires, for candidate rules.

A row is outside when, in some column, it passes the training box by more than
``slack`` x the column's training range; predict warns when more than
``min_share`` of the rows are outside. In-distribution splits (a random 25% of
one sample held out, 20 splits per case) should not warn; real extrapolation
(seed 002: train on [-2, 2], predict on [-4, 4]; or a column shifted by two
standard deviations) should.

    python benchmarks/extrapolation.py

writes benchmarks/results/extrapolation.md.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd

from sknnfit._inference import outside_box
from sknnfit.bench.report import markdown_table
from sknnfit.features import log_columns_rule

RULES = [(0.01, 0.0), (0.1, 0.0), (0.1, 0.01), (0.25, 0.0), (0.25, 0.01)]


def _samples(kind, n, d, rng):
    if kind == "gaussian":
        return rng.normal(size=(n, d))
    if kind == "uniform":
        return rng.uniform(-1, 1, size=(n, d))
    return rng.lognormal(size=(n, d))  # heavy right tail


def _share(X_train, X_test, slack):
    lo, hi = X_train.min(axis=0), X_train.max(axis=0)
    logs = log_columns_rule(X_train)
    return outside_box(X_test, lo, hi, slack=slack, log_columns=logs).mean()


def in_distribution(n_splits=20, seed=0):
    """Share of random 75/25 splits on which each rule warns."""
    rng = np.random.default_rng(seed)
    rows = []
    for kind in ("gaussian", "uniform", "lognormal"):
        for n in (200, 1000, 5000):
            for d in (1, 5, 20):
                shares = []
                for _ in range(n_splits):
                    X = _samples(kind, n, d, rng)
                    cut = int(0.75 * n)
                    shares.append([_share(X[:cut], X[cut:], s) for s, _ in RULES])
                shares = np.array(shares)
                row = {"case": f"{kind} n={n} d={d}"}
                for k, (slack, share) in enumerate(RULES):
                    row[_name(slack, share)] = (shares[:, k] > share).mean()
                rows.append(row)
    return pd.DataFrame(rows)


def extrapolation(seed=0):
    """Share of rows flagged on data that does leave the training box."""
    rng = np.random.default_rng(seed)
    cases = {
        "seed 002: [-2, 2] -> [-4, 4]": (
            rng.uniform(-2, 2, (1000, 1)),
            rng.uniform(-4, 4, (1000, 1)),
        ),
    }
    X = rng.normal(size=(1000, 5))
    shifted = rng.normal(size=(1000, 5))
    shifted[:, 0] += 2.0
    cases["gaussian d=5, column 0 shifted by 2 sd"] = (X, shifted)
    rows = []
    for name, (train, test) in cases.items():
        row = {"case": name}
        for slack, share in RULES:
            flagged = _share(train, test, slack)
            row[_name(slack, share)] = flagged if flagged > share else 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def _name(slack, share):
    return f"slack {slack:g}, > {share:.0%} rows"


def main():
    false = in_distribution()
    true = extrapolation()
    text = [
        "# ExtrapolationWarning: candidate rules",
        "",
        "Share of in-distribution 75/25 splits that warn (20 splits per case;",
        "lower is better):",
        "",
        markdown_table(false),
        "",
        "Share of rows flagged where the data does extrapolate (0 = no warning):",
        "",
        markdown_table(true),
        "",
    ]
    out = pathlib.Path(__file__).parent / "results" / "extrapolation.md"
    out.write_text("\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
