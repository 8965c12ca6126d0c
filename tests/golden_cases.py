"""Configurations whose predictions must not change when the code is reshaped.

``python -m tests.golden_cases`` (run once, at commit 9f589f6, before the reshape
of issue 12) wrote ``tests/data/golden_predictions.npz`` and the saved models in
``tests/data/golden_*.sknnfit``; ``tests/test_golden.py`` refits every case and
compares. Do not rerun it to make a failing comparison pass: a difference means
the behaviour changed.
"""

from __future__ import annotations

import numpy as np

# name -> (estimator factory name, keyword arguments, data kind)
CASES = {
    "default": ({}, "one"),
    "default_multi": ({}, "multi"),
    "adam": ({"optimizer": "adam", "max_epochs": 8}, "one"),
    "adamw": ({"optimizer": "adamw", "max_epochs": 8}, "one"),
    "sgd": ({"optimizer": "sgd", "max_epochs": 8}, "one"),
    "lbfgs": ({"optimizer": "lbfgs", "max_epochs": 8}, "one"),
    "signagree": ({"optimizer": "signagree", "max_epochs": 8}, "one"),
    "base_linear": ({"base": "linear", "max_epochs": 8}, "one"),
    "base_poly2": ({"base": "poly2", "max_epochs": 8}, "one"),
    "base_poly3": ({"base": "poly3", "max_epochs": 8}, "one"),
    "base_none": ({"base": "none", "max_epochs": 8}, "one"),
    "separate": ({"multi_output": "separate", "max_epochs": 8}, "multi"),
    "ensemble": ({"n_ensemble": 2, "max_epochs": 8}, "one"),
    "early_stopping": (
        {
            "early_stopping": True,
            "optimizer": "adamw",
            "max_epochs": 30,
            "patience": 3,
            # The settings of 9f589f6, which issue 13's "auto" values changed:
            # 10% held out, the base of the rows-per-coefficient rule, no guard,
            # and (issue 13's n_ensemble="auto") one network.
            "validation_fraction": 0.1,
            "base": "linear",
            "guard": False,
            "n_ensemble": 1,
        },
        "one",
    ),
    "loss_peak": ({"loss": "peak", "optimizer": "adam", "max_epochs": 8}, "one"),
    "loss_relative": (
        {"loss": "relative", "optimizer": "adam", "max_epochs": 8},
        "pos",
    ),
    "loss_mae": ({"loss": "mae", "optimizer": "adam", "max_epochs": 8}, "one"),
    "loss_huber": ({"loss": "huber", "optimizer": "adam", "max_epochs": 8}, "one"),
    "batch_growth": (
        {"batch_growth": True, "optimizer": "adam", "max_epochs": 12, "batch_size": 32},
        "one",
    ),
    "cosine": ({"lr_schedule": "cosine", "optimizer": "adam", "max_epochs": 8}, "one"),
    "plateau": ({"lr_schedule": "plateau", "optimizer": "sgd", "max_epochs": 8}, "one"),
    "grad_clip": ({"grad_clip": 0.5, "optimizer": "adam", "max_epochs": 8}, "one"),
    "linear_skip_tanh": (
        {"linear_skip": True, "activation": "tanh", "max_epochs": 8},
        "one",
    ),
    "sin_activation": ({"activation": "sin", "max_epochs": 8}, "one"),
    "input_log": ({"input_transform": "log", "max_epochs": 8}, "pos"),
    "input_standard": ({"input_transform": "standard", "max_epochs": 8}, "pos"),
    "input_auto_decades": ({"max_epochs": 8}, "pos"),
    "hidden_small": ({"hidden_layer_sizes": (16, 8), "max_epochs": 8}, "one"),
    "bfloat16": (
        {"precision": "bfloat16", "optimizer": "adam", "max_epochs": 8},
        "one",
    ),
    "target_standard": ({"target": "standard", "max_epochs": 8}, "pos"),
    "target_log": ({"target": "log", "max_epochs": 8}, "pos"),
    "target_log1p": ({"target": "log1p", "max_epochs": 8}, "pos"),
    "target_asinh": ({"target": "asinh", "max_epochs": 8}, "one"),
    "target_rank": ({"target": "rank", "max_epochs": 8}, "one"),
    "target_rank_normal": ({"target": "rank_normal", "max_epochs": 8}, "one"),
    "target_auto": ({"target": "auto"}, "pos"),
}

#: Cases also saved with sknnfit.save, to check that old files still load.
SAVED = ("default", "separate", "ensemble", "target_auto", "base_poly2")


def make_data(kind):
    """``(X, y, X_test)`` for a data kind, from a fixed seed."""
    rng = np.random.default_rng(12)
    n = 160
    if kind == "pos":
        X = np.column_stack(
            [10 ** rng.uniform(-2, 2, n), rng.uniform(1, 3, n), rng.normal(size=n)]
        )
        y = X[:, 0] * X[:, 1] + np.exp(0.3 * X[:, 2])
    else:
        X = rng.uniform(-2, 2, size=(n, 3))
        y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
        if kind == "multi":
            y = np.column_stack([y, np.cos(X[:, 0]) - X[:, 2] ** 2])
    return X[:120], y[:120], X[120:]


def make_model(name):
    """The estimator of case ``name`` (unfitted)."""
    from sknnfit import NNRegressor, TargetTransformRegressor

    params, _ = CASES[name]
    params = dict(params)
    target = params.pop("target", None)
    # Since issue 13 the default holds rows out (early_stopping="auto"); the
    # cases pin the training before it, on every row.
    params.setdefault("early_stopping", False)
    model = NNRegressor(random_state=3, **params)
    if target is not None:
        model = TargetTransformRegressor(model, target=target)
    return model


def fit_case(name):
    """Fit case ``name``; return ``(model, predictions on its test rows)``."""
    import warnings

    _, kind = CASES[name]
    X, y, X_test = make_data(kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_model(name).fit(X, y)
        return model, model.predict(X_test)


def main():  # pragma: no cover - run once by hand, see the module docstring
    from pathlib import Path

    from sknnfit import save

    here = Path(__file__).parent / "data"
    here.mkdir(exist_ok=True)
    out = {}
    for name in CASES:
        model, pred = fit_case(name)
        out[name] = pred
        if name in SAVED:
            save(model, here / f"golden_{name}.sknnfit")
        print(name, pred.ravel()[:3])
    np.savez(here / "golden_predictions.npz", **out)


if __name__ == "__main__":
    main()
