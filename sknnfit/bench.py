"""Benchmark runner: compare regressors on reference problems or your own data.

:func:`compare` fits every model on every problem for every seed and returns
one tidy row per fit (problem, model, seed, every metric of
:func:`sknnfit.metrics.score_all`, fit and predict seconds, the warnings the fit
raised). :func:`summarize` reduces the rows to the median and the min-max range
over seeds. The command line (``sknnfit compare``) and the example scripts only
call these two functions.

Each fit is an independent task run through :mod:`joblib`, so the same code
runs in this process (``n_jobs=None``), on local worker processes
(``n_jobs=4``), or on a :mod:`dask.distributed` cluster (``backend="dask"``).
Every scaler lives inside the models (NNRegressor standardises inside ``fit``,
the baselines are pipelines), so nothing is fitted on test rows.
"""

from __future__ import annotations

import contextlib
import difflib
import time
import warnings
from collections import Counter
from numbers import Integral

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from sklearn.base import clone
from sklearn.model_selection import KFold, check_cv, train_test_split
from sklearn.utils import _safe_indexing
from tqdm.auto import tqdm

from .baselines import BASELINES, make_baseline
from .datasets import PROBLEMS, make_problem, problem_info
from .metrics import SCORE_KEYS, score_all

__all__ = [
    "MODELS",
    "SUMMARY_METRICS",
    "compare",
    "format_results",
    "make_model",
    "summarize",
]

MODELS = {
    "nn": "NNRegressor with its defaults (sknnfit.NNRegressor).",
    "nn-auto-target": (
        "NNRegressor inside TargetTransformRegressor(target='auto'): log or "
        "asinh of heavy-tailed targets, chosen from the training targets."
    ),
    **BASELINES,
}
"""Model names :func:`compare` accepts, with a one-line description each."""

SUMMARY_METRICS = (*SCORE_KEYS, "fit_seconds")
"""Columns :func:`summarize` reduces by default (those present in the frame)."""

_PROBLEM_KWARGS = ("n_train", "n_test")
_BACKENDS = ("local", "dask")
_ERRORS = ("raise", "record")
# Distinct warning messages kept per fit, and their length, in the frame.
_MAX_MESSAGES = 5
_MAX_MESSAGE_CHARS = 300


# ---------------------------------------------------------------------- models


def _unknown(kind, name, valid):
    close = difflib.get_close_matches(str(name), list(valid), n=1)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    names = ", ".join(repr(n) for n in valid)
    return ValueError(f"Unknown {kind} {name!r}.{hint} Valid {kind}s are: {names}.")


def make_model(name, *, random_state=0):
    """Build an unfitted model by the name :func:`compare` knows it by.

    Parameters
    ----------
    name : str
        One of the keys of :data:`MODELS`: ``"nn"`` (:class:`~sknnfit.NNRegressor`),
        ``"nn-auto-target"`` (an NNRegressor in
        :class:`~sknnfit.targets.TargetTransformRegressor` with ``target="auto"``),
        or a baseline of :func:`sknnfit.baselines.make_baseline` (``"poly"``,
        ``"hgb"``, ``"rf"``, ``"mlp"``, ``"lgbm"``, ``"xgb"``).
    random_state : int, default=0
        Seed of the model.

    Returns
    -------
    estimator : regressor
        An unfitted estimator.

    Raises
    ------
    ValueError
        If ``name`` is unknown; the message lists the valid names.
    ImportError
        If the model needs an optional package that is not installed.

    Examples
    --------
    >>> from sknnfit.bench import make_model
    >>> make_model("nn", random_state=3)
    NNRegressor(random_state=3)
    """
    if not isinstance(name, str) or name not in MODELS:
        raise _unknown("model", name, MODELS)
    from .estimators import NNRegressor

    if name == "nn":
        return NNRegressor(random_state=random_state)
    if name == "nn-auto-target":
        # Lazy: targets.py imports estimators, and keeps the bench importable
        # on its own.
        from .targets import TargetTransformRegressor

        return TargetTransformRegressor(
            NNRegressor(random_state=random_state), target="auto"
        )
    return make_baseline(name, random_state=random_state)


def _seeded(estimator, seed):
    """A clone of ``estimator`` with every ``random_state`` parameter set to seed."""
    estimator = clone(estimator)
    keys = [
        key
        for key in estimator.get_params(deep=True)
        if key == "random_state" or key.endswith("__random_state")
    ]
    if keys:
        estimator.set_params(**dict.fromkeys(keys, seed))
    return estimator


def _resolve_models(models):
    """``[(name, spec)]`` where spec is a model name or an estimator."""
    if isinstance(models, str) or hasattr(models, "fit"):
        models = [models]
    if isinstance(models, dict):
        items = list(models.items())
    else:
        items = []
        for model in models:
            name = model if isinstance(model, str) else type(model).__name__
            items.append((name, model))
    if not items:
        raise ValueError("models is empty; pass at least one name or estimator.")

    resolved, seen = [], Counter()
    for name, spec in items:
        if isinstance(spec, str):
            make_model(spec)  # unknown names and missing packages fail now
        elif not (hasattr(spec, "fit") and hasattr(spec, "predict")):
            raise TypeError(
                f"Model {name!r} is a {type(spec).__name__}, not an estimator: pass "
                f"a name from {sorted(MODELS)} or an object with fit and predict."
            )
        seen[name] += 1
        label = str(name) if seen[name] == 1 else f"{name}-{seen[name]}"
        resolved.append((label, spec))
    return resolved


# ---------------------------------------------------------------------- problems


def _is_data(obj):
    """Whether ``obj`` looks like an ``(X, y)`` pair rather than problem names."""
    return (
        isinstance(obj, tuple)
        and len(obj) == 2
        and not any(isinstance(part, str) for part in obj)
    )


def _resolve_problems(problems):
    """``[(label, spec)]``: spec is a reference problem name or an ``(X, y)`` pair."""
    if isinstance(problems, str) or _is_data(problems):
        problems = [problems]
    if isinstance(problems, dict):
        items = list(problems.items())
    else:
        problems = list(problems)
        n_data = sum(_is_data(p) for p in problems)
        items, i = [], 0
        for problem in problems:
            if _is_data(problem):
                items.append(("data" if n_data == 1 else f"data{i}", problem))
                i += 1
            else:
                items.append((problem, problem))
    if not items:
        raise ValueError("problems is empty; pass at least one name or (X, y).")

    resolved = []
    for label, spec in items:
        if isinstance(spec, str):
            if spec not in PROBLEMS:
                raise _unknown("problem", spec, PROBLEMS)
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
        resolved.append((str(label), spec))
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


def _splits(n_samples, X, y, seed, cv):
    """``[(fold, train_idx, test_idx)]``: one 80/20 split, or the folds of cv."""
    if cv is None:
        train, test = train_test_split(
            np.arange(n_samples), test_size=0.2, random_state=seed
        )
        return [(None, train, test)]
    if isinstance(cv, Integral):
        splitter = KFold(int(cv), shuffle=True, random_state=seed)
    else:
        splitter = check_cv(cv)
    return [
        (fold, train, test) for fold, (train, test) in enumerate(splitter.split(X, y))
    ]


# ---------------------------------------------------------------------- one fit


def _find_loss_curve(estimator, depth=4):
    """``loss_curve_`` of the estimator or of a model nested in it, else None."""
    if estimator is None or depth < 0:
        return None
    curve = getattr(estimator, "loss_curve_", None)
    if curve is not None:
        return [float(v) for v in curve]
    inner = [
        getattr(estimator, attr, None)
        for attr in ("regressor_", "best_estimator_", "pipeline_", "estimator_")
    ]
    steps = getattr(estimator, "steps", None)
    if steps:
        inner.append(steps[-1][1])
    for sub in inner:
        curve = _find_loss_curve(sub, depth - 1)
        if curve is not None:
            return curve
    return None


def _summarize_warnings(caught):
    counts = Counter(w.category.__name__ for w in caught)
    text = "; ".join(f"{name} x{n}" for name, n in counts.items())
    messages = []
    for w in caught:
        msg = f"{w.category.__name__}: {w.message}"[:_MAX_MESSAGE_CHARS]
        if msg not in messages:
            messages.append(msg)
    return text, " | ".join(messages[:_MAX_MESSAGES])


def _fit_one(task, X=None, y=None):
    """Fit and score one (problem, model, seed, fold); runs in a worker.

    Reference problems are generated here from their seed, so only the task
    travels to the worker; user data comes as the full ``X`` and ``y`` (which
    joblib memory-maps and Dask scatters once) plus the row indices.
    """
    problem = task["reference"]
    if problem is not None:
        X_train, y_train, X_test, y_test = make_problem(
            problem, task["seed"], **task["problem_kwargs"]
        )
        train_range = problem_info(problem)["train_range"]
    else:
        train_idx, test_idx = task["data"]
        X_train, X_test = _safe_indexing(X, train_idx), _safe_indexing(X, test_idx)
        y_train, y_test = _safe_indexing(y, train_idx), _safe_indexing(y, test_idx)
        train_range = None
        if np.ndim(X_train) == 2 and np.shape(X_train)[1] == 1:
            x = np.asarray(X_train, dtype=np.float64)[:, 0]
            train_range = (float(x.min()), float(x.max()))

    row = {
        "problem": task["problem"],
        "model": task["model"],
        "seed": task["seed"],
        "fold": task["fold"],
        "n_train": len(X_train),
        "n_test": len(X_test),
    }
    estimator = task["estimator"]
    # Record every warning, repeated ones included, instead of letting them
    # scroll past (or vanish in a worker's log); the counts go in the frame.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            y_pred = estimator.predict(X_test)
            predict_seconds = time.perf_counter() - start
            error = None
        except Exception as exc:
            if task["errors"] == "raise":
                raise
            error = f"{type(exc).__name__}: {exc}"[:_MAX_MESSAGE_CHARS]
    y_test = np.asarray(y_test, dtype=np.float64)
    X_test_arr = np.asarray(X_test, dtype=np.float64)
    if error is None:
        y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_test.shape)
        scores = score_all(y_test, y_pred, X_test=X_test_arr, problem=problem)
    else:
        y_pred, fit_seconds, predict_seconds, scores = None, np.nan, np.nan, {}
    row.update({key: scores.get(key, np.nan) for key in SCORE_KEYS})
    row["fit_seconds"] = fit_seconds
    row["predict_seconds"] = predict_seconds
    row["warnings"], row["warning_messages"] = _summarize_warnings(caught)
    if task["errors"] == "record":
        row["error"] = error or ""

    prediction = None
    if task["keep_predictions"]:
        prediction = {
            "X_test": X_test_arr,
            "y_test": y_test,
            "y_pred": y_pred,
            "loss_curve": _find_loss_curve(estimator) if error is None else None,
            "train_range": train_range,
        }
    return task["index"], row, prediction


# ---------------------------------------------------------------------- backends


@contextlib.contextmanager
def _dask_backend(scheduler, n_workers):
    """joblib's Dask backend on a client for ``scheduler``, closed if we made it."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(
            'backend="dask" needs dask.distributed, which is not installed. '
            'Install it with: pip install "sknnfit[dask]"'
        ) from exc

    owned = []
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler is None:
        # One thread per worker: the nets use one torch thread, and recording
        # warnings is not thread-safe.
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True
        )
        client = Client(cluster)
        owned = [client, cluster]
    elif isinstance(scheduler, str):
        client = Client(scheduler)
        owned = [client]
    else:
        raise TypeError(
            "scheduler must be None (start a LocalCluster), a scheduler address "
            "such as 'tcp://10.0.0.1:8786', or a dask.distributed.Client; got "
            f"{type(scheduler).__name__}."
        )
    try:
        with parallel_config(backend="dask", client=client):
            yield client
    finally:
        for obj in owned:
            obj.close()


# ---------------------------------------------------------------------- compare


def compare(
    problems,
    models,
    seeds=(0,),
    cv=None,
    *,
    backend="local",
    scheduler=None,
    n_jobs=None,
    problem_kwargs=None,
    progress=True,
    return_predictions=False,
    errors="raise",
):
    """Fit and score every model on every problem for every seed.

    Parameters
    ----------
    problems : str, (X, y) tuple, dict or list of them
        Reference problem names (see :data:`sknnfit.datasets.PROBLEMS`), your
        own data as ``(X, y)`` tuples (named ``"data"``, or ``"data0"``,
        ``"data1"``, ... when there are several), or a dict mapping a name to a
        reference problem name or to ``(X, y)``. A reference problem is generated
        with ``make_problem(name, random_state=seed)`` and scored on its own
        test set. Your data is split with
        ``train_test_split(test_size=0.2, random_state=seed)``, or into the
        folds of ``cv``.
    models : str, estimator, dict or list of them
        Names from :data:`MODELS` (``"nn"``, ``"nn-auto-target"``, ``"poly"``,
        ``"hgb"``, ``"rf"``, ``"mlp"``, ``"lgbm"``, ``"xgb"``), estimators
        (named by their class), or a dict mapping a name to either. Estimators
        are cloned for every fit and every parameter named ``random_state`` or
        ending in ``__random_state`` is set to the seed.
    seeds : int or iterable of int, default=(0,)
        Seeds; an int ``n`` means ``range(n)``. The seed drives the problem's
        data (or the split of your data) and the model.
    cv : int, cross-validation generator or None, default=None
        For ``(X, y)`` problems only: score on the folds of ``cv`` instead of
        one 80/20 split, giving one row per fold. An int ``k`` means
        ``KFold(k, shuffle=True, random_state=seed)``; a splitter is used as
        given. The frame then has a ``fold`` column (missing for reference
        problems, which keep their own test set).
    backend : {"local", "dask"}, default="local"
        ``"local"`` runs the fits with joblib in this process (``n_jobs=None``)
        or in ``n_jobs`` worker processes. ``"dask"`` sends them through joblib's
        Dask backend to a :mod:`dask.distributed` cluster (needs
        ``pip install "sknnfit[dask]"``; the workers need sknnfit installed).
    scheduler : str, dask.distributed.Client or None, default=None
        With ``backend="dask"``: a scheduler address (``"tcp://host:8786"``) or a
        client. None starts a ``LocalCluster`` of ``n_jobs`` single-threaded
        worker processes (one per core when ``n_jobs`` is None) for this call.
    n_jobs : int or None, default=None
        Fits run at once. None runs them one after the other locally (or inside
        an enclosing ``joblib.parallel_config``), and on every Dask worker.
        Parallel fits share the CPU, so their ``fit_seconds`` are longer.
    problem_kwargs : dict or None, default=None
        Passed to :func:`~sknnfit.datasets.make_problem`: ``{"n_train": 500}``
        for every reference problem, or per problem, e.g.
        ``{"formula5": {"n_train": 5000}, "square": {}}``.
    progress : bool, default=True
        Show a tqdm progress bar over all fits.
    return_predictions : bool, default=False
        Also return the test predictions, for plots.
    errors : {"raise", "record"}, default="raise"
        What a fit that raises does: stop the run, or record
        ``"ExceptionType: message"`` in an ``error`` column with NaN metrics.

    Returns
    -------
    results : pandas.DataFrame
        One row per (problem, model, seed) (and fold with ``cv``), in that
        order, with columns ``problem``, ``model``, ``seed``, (``fold``),
        ``n_train``, ``n_test``, every key of :data:`sknnfit.metrics.SCORE_KEYS`
        (NaN where the metric does not apply), ``fit_seconds``,
        ``predict_seconds``, ``warnings`` (each warning category raised during
        fit and predict with its count, e.g. ``"ConvergenceWarning x1"``; empty
        when none) and ``warning_messages`` (the distinct messages), and
        ``error`` with ``errors="record"``.
    predictions : dict
        Only with ``return_predictions=True``. Maps ``(problem, model, seed)``
        (plus ``fold`` with ``cv``) to a dict with ``"X_test"``, ``"y_test"``,
        ``"y_pred"`` (float64 arrays), ``"loss_curve"`` (list of the training
        loss per epoch when the model or a regressor inside it has
        ``loss_curve_``, else None) and ``"train_range"`` (``(low, high)`` of
        the training inputs of 1-D problems, else None).

    Raises
    ------
    ValueError
        For unknown problem or model names (the message lists the valid ones)
        and malformed arguments.
    ImportError
        When a named model or the Dask backend needs a package that is missing.

    See Also
    --------
    summarize : Median and range over seeds.
    sknnfit.plots.save_plots : Plots of the predictions.

    Notes
    -----
    Warnings are recorded with :func:`warnings.catch_warnings`, which is not
    thread-safe: run parallel fits in processes (the default here), not
    threads.

    Examples
    --------
    >>> from sknnfit.bench import compare
    >>> df = compare(
    ...     "square", ["poly", "rf"], seeds=2, problem_kwargs={"n_train": 100},
    ...     progress=False,
    ... )
    >>> df[["problem", "model", "seed"]].values.tolist()
    [['square', 'poly', 0], ['square', 'poly', 1], ['square', 'rf', 0], \
['square', 'rf', 1]]
    """
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}; got {backend!r}.")
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {_ERRORS}; got {errors!r}.")
    if scheduler is not None and backend != "dask":
        raise ValueError(
            'scheduler is only used with backend="dask"; pass backend="dask" too.'
        )
    problems = _resolve_problems(problems)
    models = _resolve_models(models)
    seeds = _seeds(seeds)
    kwargs_for = _problem_kwargs_for(
        problem_kwargs, [label for label, spec in problems if isinstance(spec, str)]
    )

    tasks, arrays = [], []
    for problem, spec in problems:
        reference = spec if isinstance(spec, str) else None
        data = None if reference else spec
        if reference:
            splits = {seed: [(None, None)] for seed in seeds}
        else:
            X, y = data
            splits = {
                seed: [
                    (fold, (tr, te)) for fold, tr, te in _splits(len(X), X, y, seed, cv)
                ]
                for seed in seeds
            }
        for model, spec in models:
            for seed in seeds:
                for fold, idx in splits[seed]:
                    estimator = (
                        make_model(spec, random_state=seed)
                        if isinstance(spec, str)
                        else _seeded(spec, seed)
                    )
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
                            "keep_predictions": return_predictions,
                            "errors": errors,
                        }
                    )
                    arrays.append(data or (None, None))

    if backend == "dask":
        context = _dask_backend(scheduler, n_jobs)
        n_jobs_run = -1 if n_jobs is None else n_jobs
    else:
        context = contextlib.nullcontext()
        n_jobs_run = n_jobs

    rows, predictions = [None] * len(tasks), {}
    with (
        context,
        tqdm(
            total=len(tasks), disable=not progress, desc="sknnfit compare", unit="fit"
        ) as bar,
    ):
        parallel = Parallel(n_jobs=n_jobs_run, return_as="generator_unordered")
        results = parallel(
            delayed(_fit_one)(task, X, y)
            for task, (X, y) in zip(tasks, arrays, strict=True)
        )
        for index, row, prediction in results:
            rows[index] = row
            key = (row["problem"], row["model"], row["seed"])
            if cv is not None:
                key = (*key, row["fold"])
            if return_predictions:
                predictions[key] = prediction
            bar.set_postfix_str(f"{row['problem']} {row['model']} seed {row['seed']}")
            bar.update()

    df = pd.DataFrame(rows)
    if cv is None:
        df = df.drop(columns="fold")
    else:
        df["fold"] = df["fold"].astype("Int64")
    if return_predictions:
        order = [
            (r["problem"], r["model"], r["seed"])
            + ((r["fold"],) if cv is not None else ())
            for r in rows
        ]
        predictions = {key: predictions[key] for key in order}
        return df, predictions
    return df


# ---------------------------------------------------------------------- summarize


def summarize(df, metrics=None):
    """Median and range over seeds (and folds) of each (problem, model).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows from :func:`compare`.
    metrics : list of str or None, default=None
        Columns to reduce. None uses those of :data:`SUMMARY_METRICS` that are
        in ``df`` and not NaN everywhere.

    Returns
    -------
    summary : pandas.DataFrame
        One row per (problem, model), in the order they first appear, with
        columns ``problem``, ``model``, ``n_runs`` (rows reduced: seeds times
        folds), ``n_warnings`` (runs that raised at least one warning) and, for
        each metric ``m``, ``m_median``, ``m_min`` and ``m_max``. With a handful
        of seeds the min-max range is the honest spread; quartiles of three
        values would pretend to more.

    Examples
    --------
    >>> import pandas as pd
    >>> from sknnfit.bench import summarize
    >>> df = pd.DataFrame({"problem": "p", "model": "m", "seed": [0, 1, 2],
    ...                    "nrmse": [0.1, 0.3, 0.2]})
    >>> summarize(df)[["n_runs", "nrmse_median", "nrmse_min", "nrmse_max"]]
       n_runs  nrmse_median  nrmse_min  nrmse_max
    0       3           0.2        0.1        0.3
    """
    missing = {"problem", "model"} - set(df.columns)
    if missing:
        raise ValueError(
            f"summarize needs the frame from compare(); columns {sorted(missing)} "
            "are missing."
        )
    if metrics is None:
        metrics = [
            m for m in SUMMARY_METRICS if m in df.columns and df[m].notna().any()
        ]
    else:
        unknown = [m for m in metrics if m not in df.columns]
        if unknown:
            raise ValueError(
                f"Metric column(s) {unknown} are not in the frame; available: "
                f"{list(df.columns)}."
            )
    groups = df.groupby(["problem", "model"], sort=False)
    out = groups.size().rename("n_runs").to_frame()
    if "warnings" in df.columns:
        out["n_warnings"] = groups["warnings"].agg(
            lambda s: int((s.fillna("") != "").sum())
        )
    for m in metrics:
        values = groups[m]
        out[f"{m}_median"] = values.median()
        out[f"{m}_min"] = values.min()
        out[f"{m}_max"] = values.max()
    return out.reset_index()


def format_results(df, columns):
    """The chosen columns of a :func:`compare` frame as text, then its warnings.

    Parameters
    ----------
    df : pandas.DataFrame
        From :func:`compare`.
    columns : list of str
        Columns to show, in order.

    Returns
    -------
    text : str
        The table (4 significant digits), followed by one ``warning: ...`` line
        per distinct warning message recorded during the fits.
    """
    import pandas as pd

    with pd.option_context("display.width", 120):
        lines = [df[columns].to_string(index=False, float_format="{:.4g}".format)]
    messages = {
        m for text in df.get("warning_messages", []) if text for m in text.split(" | ")
    }
    lines += [f"warning: {m}" for m in sorted(messages)]
    return "\n".join(lines)
