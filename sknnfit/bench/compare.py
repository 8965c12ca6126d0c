"""Benchmark runner: compare regressors on reference problems or your own data.

:func:`compare` fits every model on every problem for every seed and returns
one tidy row per fit (problem, model, seed, every metric of
:func:`sknnfit.bench.metrics.score_all`, fit and predict seconds, the warnings the
fit raised). :func:`~sknnfit.bench.summarize` reduces the rows to the median and
the min-max range over seeds. The command line (``sknnfit compare``) and the
example scripts only call these two functions.

Each fit is an independent task run through :mod:`joblib`, so the same code
runs in this process (``n_jobs=None``), on local worker processes
(``n_jobs=4``), or on a :mod:`dask.distributed` cluster (``backend="dask"``).
Every scaler lives inside the models (NNRegressor standardises inside ``fit``,
the baselines are pipelines), so nothing is fitted on test rows.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections import Counter

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, parallel_config
from tqdm.auto import tqdm

from .._compat import _safe_indexing
from ..datasets import make_problem, problem_info
from ._interrupt import fit_was_interrupted
from ._tasks import (
    _problem_kwargs_for,
    _resolve_problems,
    _seeds,
    _test_size,
    make_tasks,
)
from .metrics import SCORE_KEYS, score_all
from .models import _resolve_models
from .report import MESSAGE_SEP
from .tabular import needs_preprocessing

__all__ = ["compare"]

_BACKENDS = ("local", "dask")
_ERRORS = ("raise", "record")
# Distinct warning messages kept per fit, and their length, in the frame.
_MAX_MESSAGES = 5
_MAX_MESSAGE_CHARS = 300


# ---------------------------------------------------------------------- one fit


def _find_loss_curve(estimator, depth=4, attribute="loss_curve_"):
    """``attribute`` of the estimator or of a model nested in it, else None."""
    if estimator is None or depth < 0:
        return None
    curve = getattr(estimator, attribute, None)
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
        curve = _find_loss_curve(sub, depth - 1, attribute)
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
    return text, MESSAGE_SEP.join(messages[:_MAX_MESSAGES])


def _task_data(task, X, y):
    """``(X_train, y_train, X_test, y_test, train_range)`` of one task.

    ``train_range`` is ``(low, high)`` of the training inputs of a 1-D problem,
    else None.
    """
    problem = task["reference"]
    if problem is not None:
        X_train, y_train, X_test, y_test = make_problem(
            problem, task["seed"], **task["problem_kwargs"]
        )
        train_range = problem_info(problem)["train_range"]
        return X_train, y_train, X_test, y_test, train_range
    train_idx, test_idx = task["data"]
    X_train, X_test = _safe_indexing(X, train_idx), _safe_indexing(X, test_idx)
    y_train, y_test = _safe_indexing(y, train_idx), _safe_indexing(y, test_idx)
    train_range = None
    if (
        np.ndim(X_train) == 2
        and np.shape(X_train)[1] == 1
        and not needs_preprocessing(X_train)
    ):
        x = np.asarray(X_train, dtype=np.float64)[:, 0]
        train_range = (float(x.min()), float(x.max()))
    return X_train, y_train, X_test, y_test, train_range


def _fit_predict(task, X_train, y_train, X_test):
    """Fit the task's estimator and predict, timed, recording every warning.

    Returns a dict: ``y_pred``, ``fit_seconds``, ``predict_seconds``,
    ``error`` (``"ExceptionType: message"`` when the fit failed under
    ``errors="record"``, else None), ``caught`` (the warnings) and
    ``interrupted``: True when Ctrl-C cut the fit short (a
    ``KeyboardInterrupt`` out of fit or predict, or a fit that kept its weights
    and said so, see :func:`fit_was_interrupted`); such a model is not asked
    to predict.
    """
    estimator = task["estimator"]
    out = dict.fromkeys(("y_pred", "fit_seconds", "predict_seconds", "error"))
    out["interrupted"] = False
    # Record every warning, repeated ones included, instead of letting them
    # scroll past (or vanish in a worker's log); the counts go in the frame.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            start = time.perf_counter()
            estimator.fit(X_train, y_train)
            out["fit_seconds"] = time.perf_counter() - start
            out["interrupted"] = fit_was_interrupted(estimator, caught)
            if not out["interrupted"]:
                start = time.perf_counter()
                out["y_pred"] = estimator.predict(X_test)
                out["predict_seconds"] = time.perf_counter() - start
        except KeyboardInterrupt:
            out["interrupted"] = True
        except Exception as exc:
            if task["errors"] == "raise":
                raise
            out["error"] = f"{type(exc).__name__}: {exc}"[:_MAX_MESSAGE_CHARS]
    out["caught"] = caught
    return out


def _fit_one(task, X=None, y=None):
    """Fit and score one (problem, model, seed, fold); runs in a worker.

    Reference problems are generated here from their seed, so only the task
    travels to the worker; user data comes as the full ``X`` and ``y`` (which
    joblib memory-maps and Dask scatters once) plus the row indices.
    """
    X_train, y_train, X_test, y_test, train_range = _task_data(task, X, y)
    row = {
        "problem": task["problem"],
        "model": task["model"],
        "seed": task["seed"],
        "fold": task["fold"],
        "n_train": len(X_train),
        "n_test": len(X_test),
    }
    out = _fit_predict(task, X_train, y_train, X_test)
    y_pred, error, interrupted = out["y_pred"], out["error"], out["interrupted"]
    y_test = np.asarray(y_test, dtype=np.float64)
    # A raw table's test inputs are not numbers; scores need them only for
    # 1-D curves, which a table is not.
    X_test_arr = (
        X_test if needs_preprocessing(X_test) else np.asarray(X_test, np.float64)
    )
    scored = error is None and not interrupted
    if scored:
        y_pred = np.asarray(y_pred, dtype=np.float64).reshape(y_test.shape)
        scores = score_all(
            y_test,
            y_pred,
            X_test=None if needs_preprocessing(X_test) else X_test_arr,
            problem=task["reference"],
        )
        fit_seconds, predict_seconds = out["fit_seconds"], out["predict_seconds"]
    else:  # failed or cut short: no metrics, no timings
        y_pred, fit_seconds, predict_seconds, scores = None, np.nan, np.nan, {}
    row.update({key: scores.get(key, np.nan) for key in SCORE_KEYS})
    row["fit_seconds"] = fit_seconds
    row["predict_seconds"] = predict_seconds
    row["warnings"], row["warning_messages"] = _summarize_warnings(out["caught"])
    if task["errors"] == "record":
        row["error"] = error or ""
    row["interrupted"] = interrupted

    prediction = None
    if task["keep_predictions"]:
        prediction = {
            "X_test": X_test_arr,
            "y_test": y_test,
            "y_pred": y_pred,
            "loss_curve": (_find_loss_curve(task["estimator"]) if scored else None),
            "validation_curve": (
                _find_loss_curve(task["estimator"], attribute="validation_loss_curve_")
                if scored
                else None
            ),
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


def _run(tasks, arrays, *, backend, scheduler, n_jobs, progress):
    """Run the tasks until all are done or Ctrl-C stops the run.

    Returns ``(rows, predictions, interrupted)``, rows and predictions in task
    order with None for the tasks that did not finish. The run stops at the
    first row of a fit cut short by Ctrl-C (no further task starts; parallel
    ones still running are abandoned) or at a ``KeyboardInterrupt`` in this
    process (joblib then stops its workers).
    """
    if backend == "dask":
        context = _dask_backend(scheduler, n_jobs)
        n_jobs = -1 if n_jobs is None else n_jobs
    else:
        context = contextlib.nullcontext()

    rows, predictions = [None] * len(tasks), [None] * len(tasks)
    interrupted = False
    with (
        context,
        tqdm(
            total=len(tasks), disable=not progress, desc="sknnfit compare", unit="fit"
        ) as bar,
    ):
        parallel = Parallel(n_jobs=n_jobs, return_as="generator_unordered")
        results = parallel(
            delayed(_fit_one)(task, X, y)
            for task, (X, y) in zip(tasks, arrays, strict=True)
        )
        try:
            for index, row, prediction in results:
                rows[index], predictions[index] = row, prediction
                bar.set_postfix_str(
                    f"{row['problem']} {row['model']} seed {row['seed']}"
                )
                bar.update()
                if row["interrupted"]:
                    interrupted = True
                    break
        except KeyboardInterrupt:
            interrupted = True
        finally:
            with warnings.catch_warnings():  # joblib: "N tasks ... cancelled"
                warnings.simplefilter("ignore")
                results.close()  # start nothing more; cancel what is queued
    return rows, predictions, interrupted


# ---------------------------------------------------------------------- compare


def _columns(errors):
    """The columns of compare's frame, before ``fold`` is dropped."""
    return [
        *("problem", "model", "seed", "fold", "n_train", "n_test"),
        *SCORE_KEYS,
        *("fit_seconds", "predict_seconds", "warnings", "warning_messages"),
        *(("error",) if errors == "record" else ()),
        "interrupted",
    ]


def _check_options(backend, errors, scheduler):
    if backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}; got {backend!r}.")
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {_ERRORS}; got {errors!r}.")
    if scheduler is not None and backend != "dask":
        raise ValueError(
            'scheduler is only used with backend="dask"; pass backend="dask" too.'
        )


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
    test_size=0.2,
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
        ``train_test_split(test_size=test_size, random_state=seed)``, or into
        the folds of ``cv``. ``X`` may be a raw pandas DataFrame (string or
        categorical columns, missing values, e.g. from
        :func:`~sknnfit.datasets.load_table`): then every model is fitted
        inside :func:`~sknnfit.bench.tabular.with_preprocessing`, which
        imputes and encodes the training rows only.
    models : str, estimator, dict or list of them
        Names from :data:`~sknnfit.bench.MODELS` (``"nn"``,
        ``"nn-auto-target"``, ``"poly"``, ``"hgb"``, ``"rf"``, ``"mlp"``,
        ``"lgbm"``, ``"xgb"``), estimators
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
    test_size : float or int, default=0.2
        For ``(X, y)`` problems without ``cv``: the test share of the rows (a
        fraction in (0, 1)) or their number.

    Returns
    -------
    results : pandas.DataFrame
        One row per (problem, model, seed) (and fold with ``cv``), in that
        order, with columns ``problem``, ``model``, ``seed``, (``fold``),
        ``n_train``, ``n_test``, every key of :data:`sknnfit.bench.metrics.SCORE_KEYS`
        (NaN where the metric does not apply), ``fit_seconds``,
        ``predict_seconds``, ``warnings`` (each warning category raised during
        fit and predict with its count, e.g. ``"ConvergenceWarning x1"``; empty
        when none) and ``warning_messages`` (the distinct messages),
        ``error`` with ``errors="record"``, and ``interrupted``: True for a fit
        cut short by Ctrl-C, whose metrics and timings are NaN. After a Ctrl-C
        the frame holds only the fits that finished (see Notes) and
        ``df.attrs`` has ``"interrupted": True`` and ``"n_fits"``, the number
        of fits planned.
    predictions : dict
        Only with ``return_predictions=True``. Maps ``(problem, model, seed)``
        (plus ``fold`` with ``cv``) to a dict with ``"X_test"``, ``"y_test"``,
        ``"y_pred"`` (float64 arrays), ``"loss_curve"`` (list of the training
        loss per epoch when the model or a regressor inside it has
        ``loss_curve_``, else None), ``"validation_curve"`` (the held-out loss
        per epoch, from ``validation_loss_curve_``, else None) and
        ``"train_range"`` (``(low, high)`` of
        the training inputs of 1-D problems, else None); ``"y_pred"`` is None
        for a fit that failed or was cut short.

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
    sknnfit.bench.plots.save_plots : Plots of the predictions.

    Notes
    -----
    Warnings are recorded with :func:`warnings.catch_warnings`, which is not
    thread-safe: run parallel fits in processes (the default here), not
    threads.

    **Ctrl-C stops the run** and returns the fits that finished instead of
    raising. A fit cut short (an NNRegressor that kept its weights, warned
    :class:`~sknnfit.exceptions.FitInterruptedWarning` or set
    ``interrupted_``, itself or inside a wrapper's ``regressor_``; or any
    ``KeyboardInterrupt`` out of fit or predict) gets a row with
    ``interrupted=True`` and NaN metrics: a truncated model is not that
    model's result, and NaN keeps it out of :func:`summarize`'s medians. No
    later fit starts. With ``n_jobs`` worker processes or Dask, the
    ``KeyboardInterrupt`` in this process stops the run at once: joblib stops
    its local workers, the LocalCluster compare started is closed, and the
    fits that were running leave no row (on a cluster you passed, which the
    terminal's Ctrl-C does not reach, fits already sent may run on unseen).

    **Grid searches** (:class:`~sklearn.model_selection.GridSearchCV`) call
    ``fit`` once per candidate and fold. One Ctrl-C cuts the current
    NNRegressor fit short; the search then scores that truncated model like
    any other, so that candidate's results are unreliable. A second Ctrl-C
    within a few seconds raises ``KeyboardInterrupt`` and stops the search.
    With ``n_jobs>1`` the joblib workers get the signal too.

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
    _check_options(backend, errors, scheduler)
    test_size = _test_size(test_size)
    problems = _resolve_problems(problems)
    models = _resolve_models(models)
    seeds = _seeds(seeds)
    kwargs_for = _problem_kwargs_for(
        problem_kwargs, [label for label, spec in problems if isinstance(spec, str)]
    )
    tasks, arrays = make_tasks(
        problems,
        models,
        seeds,
        cv,
        kwargs_for,
        keep_predictions=return_predictions,
        errors=errors,
        test_size=test_size,
    )
    rows, predictions, interrupted = _run(
        tasks,
        arrays,
        backend=backend,
        scheduler=scheduler,
        n_jobs=n_jobs,
        progress=progress,
    )
    done = [i for i, row in enumerate(rows) if row is not None]
    rows, predictions = [rows[i] for i in done], [predictions[i] for i in done]

    df = pd.DataFrame(rows, columns=_columns(errors))
    if cv is None:
        df = df.drop(columns="fold")
    else:
        df["fold"] = df["fold"].astype("Int64")
    df["interrupted"] = df["interrupted"].astype(bool)
    if interrupted:
        df.attrs.update(interrupted=True, n_fits=len(tasks))
    if return_predictions:
        keys = [
            (r["problem"], r["model"], r["seed"])
            + ((r["fold"],) if cv is not None else ())
            for r in rows
        ]
        return df, dict(zip(keys, predictions, strict=True))
    return df
