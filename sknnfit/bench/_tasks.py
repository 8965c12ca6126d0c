"""From :func:`~sknnfit.bench.compare`'s arguments to its list of fit tasks.

Every argument is checked here, before the first fit, so a typo fails in a
second rather than after an hour of fitting.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.model_selection import KFold, check_cv, train_test_split

from .._validation import did_you_mean
from ..datasets import PROBLEMS
from .models import _make_estimator
from .tabular import needs_preprocessing, with_preprocessing

_PROBLEM_KWARGS = ("n_train", "n_test")


def _is_data(obj):
    """Whether ``obj`` looks like an ``(X, y)`` pair rather than problem names."""
    return (
        isinstance(obj, tuple)
        and len(obj) == 2
        and not any(isinstance(part, str) for part in obj)
    )


def _problem_items(problems):
    """``[(label, spec)]`` as given: names label themselves, data is ``data<i>``."""
    if isinstance(problems, str) or _is_data(problems):
        problems = [problems]
    if isinstance(problems, dict):
        return list(problems.items())
    problems = list(problems)
    n_data = sum(_is_data(p) for p in problems)
    items, i = [], 0
    for problem in problems:
        if _is_data(problem):
            items.append(("data" if n_data == 1 else f"data{i}", problem))
            i += 1
        else:
            items.append((problem, problem))
    return items


def _check_problem(label, spec):
    if isinstance(spec, str):
        if spec not in PROBLEMS:
            raise did_you_mean("problem", spec, PROBLEMS)
    elif _is_data(spec):
        X, y = spec
        if len(X) != len(y):
            raise ValueError(
                f"Problem {label!r}: X has {len(X)} rows but y has {len(y)}; "
                "pass one target row per input row."
            )
    else:
        raise TypeError(
            f"Problem {label!r} must be a reference problem name "
            f"({', '.join(PROBLEMS)}) or an (X, y) tuple; got "
            f"{type(spec).__name__}."
        )


def _resolve_problems(problems):
    """``[(label, spec)]``: spec is a reference problem name or an ``(X, y)`` pair."""
    items = _problem_items(problems)
    if not items:
        raise ValueError("problems is empty; pass at least one name or (X, y).")
    for label, spec in items:
        _check_problem(label, spec)
    resolved = [(str(label), spec) for label, spec in items]
    labels = [label for label, _ in resolved]
    if len(set(labels)) != len(labels):
        raise ValueError(f"Problem names must be unique; got {labels}.")
    return resolved


def _problem_kwargs_for(problem_kwargs, labels):
    """``{label: kwargs for make_problem}`` from a flat or per-problem dict."""
    if not problem_kwargs:
        return {label: {} for label in labels}
    keys = set(problem_kwargs)
    if keys <= set(_PROBLEM_KWARGS):
        return {label: dict(problem_kwargs) for label in labels}
    if keys <= set(labels):
        out = {label: dict(problem_kwargs.get(label) or {}) for label in labels}
        for label, kwargs in out.items():
            bad = set(kwargs) - set(_PROBLEM_KWARGS)
            if bad:
                raise ValueError(
                    f"problem_kwargs[{label!r}] has unknown key(s) {sorted(bad)}; "
                    f"make_problem accepts {list(_PROBLEM_KWARGS)}."
                )
        return out
    raise ValueError(
        f"problem_kwargs must map {list(_PROBLEM_KWARGS)} to values (for every "
        "reference problem), or reference problem names to such dicts, e.g. "
        "{'n_train': 500} or {'formula5': {'n_train': 500}}; got keys "
        f"{sorted(map(str, keys))} for the reference problems {labels}."
    )


def _seeds(seeds):
    if isinstance(seeds, Integral) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(
                f"seeds as an int is a count and must be >= 1; got {seeds}."
            )
        return list(range(int(seeds)))
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty; pass e.g. seeds=(0, 1, 2) or seeds=3.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct; got {seeds}.")
    return seeds


def _test_size(test_size):
    if isinstance(test_size, bool) or not (
        (isinstance(test_size, float) and 0.0 < test_size < 1.0)
        or (isinstance(test_size, Integral) and test_size >= 1)
    ):
        raise ValueError(
            "test_size must be a fraction in (0, 1) or a row count >= 1, e.g. "
            f"test_size=0.25; got {test_size!r}."
        )
    return test_size


def _splits(n_samples, X, y, seed, cv, test_size=0.2):
    """``[(fold, train_idx, test_idx)]``: one split, or the folds of cv."""
    if cv is None:
        train, test = train_test_split(
            np.arange(n_samples), test_size=test_size, random_state=seed
        )
        return [(None, train, test)]
    if isinstance(cv, Integral):
        splitter = KFold(int(cv), shuffle=True, random_state=seed)
    else:
        splitter = check_cv(cv)
    return [
        (fold, train, test) for fold, (train, test) in enumerate(splitter.split(X, y))
    ]


def _folds_per_seed(spec, seeds, cv, test_size):
    """``{seed: [(fold, (train_idx, test_idx))]}``; one fold of None for a
    reference problem, which brings its own test set."""
    if isinstance(spec, str):
        return {seed: [(None, None)] for seed in seeds}
    X, y = spec
    return {
        seed: [
            (fold, (tr, te))
            for fold, tr, te in _splits(len(X), X, y, seed, cv, test_size)
        ]
        for seed in seeds
    }


def make_tasks(
    problems,
    models,
    seeds,
    cv,
    kwargs_for,
    *,
    keep_predictions,
    errors,
    test_size=0.2,
):
    """One task per (problem, model, seed, fold), in that order.

    Every model of a problem whose ``X`` is a DataFrame that
    :func:`~sknnfit.bench.tabular.needs_preprocessing` is wrapped in
    :func:`~sknnfit.bench.tabular.with_preprocessing`.

    Returns
    -------
    tasks : list of dict
        What a worker needs to fit and score one model; ``"index"`` is the
        position in this list.
    arrays : list of tuple
        ``(X, y)`` of the user data each task splits, or ``(None, None)``; kept
        apart from the tasks so joblib can memory-map (and Dask scatter) them.
    """
    tasks, arrays = [], []
    for problem, spec in problems:
        reference = spec if isinstance(spec, str) else None
        data = None if reference else spec
        folds = _folds_per_seed(spec, seeds, cv, test_size)
        table = data is not None and needs_preprocessing(data[0])
        for model, model_spec in models:
            for seed in seeds:
                for fold, idx in folds[seed]:
                    estimator = _make_estimator(model_spec, seed)
                    if table:
                        estimator = with_preprocessing(estimator, data[0])
                    tasks.append(
                        {
                            "index": len(tasks),
                            "problem": problem,
                            "reference": reference,
                            "model": model,
                            "seed": seed,
                            "fold": fold,
                            "estimator": estimator,
                            "data": idx,
                            "problem_kwargs": kwargs_for.get(problem, {}),
                            "keep_predictions": keep_predictions,
                            "errors": errors,
                        }
                    )
                    arrays.append(data or (None, None))
    return tasks, arrays
