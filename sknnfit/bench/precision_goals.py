"""The precision goals of issue 14, measured: stages, float64 and their cost.

Three functions fit :class:`~sknnfit.NNRegressor` and return tidy frames:

- :func:`stage_curves`: the test error of the model summed up to each stage of
  ``n_stages``, beside the held-out RMSE ``stages_`` records and the seconds of
  each stage;
- :func:`precision_goals`: one row per fit of the problems the goals are stated
  on (clean sin by default and in float64, formula5, noisy problems with
  ``n_stages="auto"`` against ``n_stages=1``); :func:`goal_table` reduces it to
  the issue's goal table;
- :func:`epoch_cost`: seconds per epoch of float32, bfloat16 and float64
  training, as a ratio to float32.

:func:`plot_stage_curves` draws the first frame. ``benchmarks/precision_goals.py``
calls them and writes ``benchmarks/results/precision_goals.*``.
"""

from __future__ import annotations

import copy
import math
import time
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from .. import NNRegressor, TargetTransformRegressor
from ..datasets import make_problem
from .metrics import median_relative_error, nrmse, r2

__all__ = [
    "GOALS",
    "NOISY_PROBLEMS",
    "clean_sin",
    "epoch_cost",
    "goal_table",
    "load_problem",
    "plot_stage_curves",
    "precision_goals",
    "stage_curves",
]

#: Training rows of formula5 here (its reference size is 100,000): a fifth,
#: so that three seeds of up to three stages fit in a benchmark session.
FORMULA5_N_TRAIN = 20_000

#: Noisy problems on which ``n_stages="auto"`` must keep no extra stage.
NOISY_PROBLEMS = ("noisy_sin", "I.40.1-noise10")

#: A noisy problem's nRMSE with ``n_stages="auto"`` counts as no loss of
#: accuracy when it is at most this factor times that of ``n_stages=1``.
NO_LOSS_FACTOR = 1.01

#: ``(problem, setting, metric, today, goal, direction, value)`` of issue 14:
#: ``value`` is the goal as a number (None: not measured here, ``goal`` says
#: why) and ``today`` the figure the issue starts from.
GOALS = [
    ("clean_sin", "default", "rmse", "2.1e-3", "<= 1e-5", "<=", 1e-5),
    ("clean_sin", "float64", "rmse", "2.1e-3", "<= 1e-8", "<=", 1e-8),
    (
        "noise-free formulas",
        "default / float64",
        "median nrmse",
        "-",
        "<= 1e-5 and <= poly on every one (float64 <= 1e-7)",
        "see",
        "see suite.md (benchmarks/suite.py)",
    ),
    ("formula5", "target=auto", "median_rel_error", "2.2e-3", "<= 1e-4", "<=", 1e-4),
    ("formula5", "target=auto", "r2", "0.9999", ">= 0.99999", ">=", 0.99999),
    (
        "steep25x19",
        "default",
        "nrmse (peak_nmae)",
        "0.0098 (0.027)",
        "<= 0.005 (<= 0.015) under 3 minutes",
        "see",
        "not run here: 200k rows",
    ),
    *(
        (
            problem,
            "auto vs n_stages=1",
            "stages kept; nrmse",
            "-",
            "no extra stage, no loss of accuracy",
            "noisy",
            None,
        )
        for problem in NOISY_PROBLEMS
    ),
]


def clean_sin(random_state=0, *, n_train=1_000, n_test=2_001):
    """y = sin(x) without noise: uniform training points, an even test grid.

    Parameters
    ----------
    random_state : int, default=0
        Seeds the training points (the grid does not depend on it).
    n_train : int, default=1_000
        Training points, uniform on [-pi, pi].
    n_test : int, default=2_001
        Points of the even test grid on [-pi, pi], both ends included.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        ``X`` of shape ``(n, 1)``, ``y`` of shape ``(n,)``, float64.

    Examples
    --------
    >>> X, y, X_test, y_test = clean_sin(0, n_train=5)
    >>> X.shape, X_test.shape, float(y_test[1000])
    ((5, 1), (2001, 1), 0.0)
    """
    rng = np.random.default_rng(random_state)
    x = rng.uniform(-math.pi, math.pi, size=n_train)
    grid = np.linspace(-math.pi, math.pi, n_test)
    return x[:, None], np.sin(x), grid[:, None], np.sin(grid)


def load_problem(problem, seed, *, n_train=None, n_test=None):
    """``(X_train, y_train, X_test, y_test)`` of ``"clean_sin"`` or a reference problem.

    Parameters
    ----------
    problem : str
        ``"clean_sin"`` (:func:`clean_sin`) or a name of
        :func:`sknnfit.datasets.make_problem`.
    seed : int
        Seeds the data.
    n_train, n_test : int or None, default=None
        Sizes; None takes the problem's own.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
    """
    if problem == "clean_sin":
        sizes = {"n_train": n_train, "n_test": n_test}
        return clean_sin(seed, **{k: v for k, v in sizes.items() if v is not None})
    return make_problem(problem, random_state=seed, n_train=n_train, n_test=n_test)


def _scores(y_test, y_pred):
    return {
        "rmse": float(np.sqrt(np.mean((y_pred - y_test) ** 2))),
        "nrmse": nrmse(y_test, y_pred),
        "median_rel_error": median_relative_error(y_test, y_pred),
        "r2": r2(y_test, y_pred),
    }


def _summarize_warnings(caught):
    """``"Category xN; ..."``: every warning of a fit, counted, none hidden."""
    counts = Counter(w.category.__name__ for w in caught)
    return "; ".join(f"{name} x{n}" for name, n in counts.items())


def _fit(problem, seed, params, n_train=None, n_test=None):
    """Fit one NNRegressor on one problem: ``(model, data, seconds, warnings)``.

    A ``"target"`` among ``params`` wraps it in a TargetTransformRegressor.
    """
    data = load_problem(problem, seed, n_train=n_train, n_test=n_test)
    params = dict(params)
    target = params.pop("target", None)
    model = NNRegressor(random_state=seed, **params)
    if target is not None:
        model = TargetTransformRegressor(model, target=target)
    # Recorded, not silenced: a ConvergenceWarning or the guard's
    # NetworkNotUsedWarning explains a figure of the table.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        model.fit(data[0], data[1])
        seconds = time.perf_counter() - start
    return model, data, seconds, _summarize_warnings(caught)


def _params_key(params):
    """NNRegressor parameters as sorted text, to match fits across frames."""
    return repr(dict(sorted(params.items())))


def _network(model):
    """The fitted NNRegressor of ``model`` (itself, or a wrapper's)."""
    return model.regressor_ if isinstance(model, TargetTransformRegressor) else model


def _up_to_stage(model, k):
    """A shallow copy of ``model`` that predicts with its first ``k`` stages.

    The nets are shared, not copied; only the copy's lists of later stages
    (``stage_nets_``, ``stage_scales_``) are cut. A TargetTransformRegressor
    gets a copy of its ``ttr_`` around the cut NNRegressor.
    """
    if isinstance(model, TargetTransformRegressor):
        part = copy.copy(model)
        part.ttr_ = copy.copy(model.ttr_)
        part.ttr_.regressor_ = _up_to_stage(model.ttr_.regressor_, k)
        return part
    part = copy.copy(model)
    part.stage_nets_ = list(model.stage_nets_[: k - 1])
    part.stage_scales_ = list(model.stage_scales_[: k - 1])
    return part


def stage_curves(
    problem, seeds=(0, 1, 2), *, n_stages=3, n_train=None, n_test=None, **nn_params
):
    """Test error of the model summed up to each stage, per seed.

    Fits ``NNRegressor(n_stages=n_stages, random_state=seed, **nn_params)`` on
    ``problem`` (data seeded by ``seed`` too) and scores, for each stage ``k``
    kept, the model that adds the first ``k`` stages (the same fitted nets,
    the later stages left out).

    Parameters
    ----------
    problem : str
        ``"clean_sin"`` or a name of :func:`sknnfit.datasets.make_problem`.
    seeds : iterable of int, default=(0, 1, 2)
        One fit per seed.
    n_stages : "auto" or int, default=3
        As in NNRegressor; an int shows every stage, ``"auto"`` those kept.
    n_train, n_test : int or None, default=None
        Problem sizes; None takes the problem's own.
    **nn_params
        Further NNRegressor parameters (``precision="float64"``, ...);
        ``target`` wraps the model in ``TargetTransformRegressor(model,
        target=target)``.

    Returns
    -------
    curves : pandas.DataFrame
        One row per seed and stage: ``problem``, ``params`` (``nn_params``
        as text), ``precision`` (the one used), ``n_stages`` (as given),
        ``seed``, ``n_train``, ``stage`` (1-based),
        ``rmse``, ``nrmse``, ``median_rel_error``, ``r2`` (on the test set, of
        the sum up to this stage), ``validation_rmse`` (from ``stages_``, in
        standard deviations of y), ``stage_seconds``, ``epochs``,
        ``fit_seconds`` (the whole fit), ``use_network`` and ``warnings``.
        When the guard left the network out (``use_network`` False), every
        stage predicts with the closed-form model.
    """
    rows = []
    for seed in seeds:
        model, data, seconds, caught = _fit(
            problem, seed, {"n_stages": n_stages, **nn_params}, n_train, n_test
        )
        _, _, X_test, y_test = data
        net = _network(model)
        for k, stage in enumerate(net.stages_, start=1):
            y_pred = _up_to_stage(model, k).predict(X_test)
            rows.append(
                {
                    "problem": problem,
                    "params": _params_key(nn_params),
                    "precision": net.precision_,
                    "n_stages": str(n_stages),
                    "seed": seed,
                    "n_train": len(data[0]),
                    "stage": k,
                    **_scores(y_test, y_pred),
                    "validation_rmse": stage["validation_rmse"],
                    "stage_seconds": stage["seconds"],
                    "epochs": stage["epochs"],
                    "fit_seconds": seconds,
                    "use_network": bool(net.use_network_),
                    "warnings": caught,
                }
            )
    return pd.DataFrame(rows)


def _goal_settings(formula5_n_train):
    """``(problem, setting, params, n_train)`` of every fit of the goals."""
    settings = [
        ("clean_sin", "default", {}, None),
        ("clean_sin", "float64", {"precision": "float64"}, None),
        # As goals.py (issue 4) measures it: the figure of today is that of
        # the default wrapped in TargetTransformRegressor(target="auto").
        ("formula5", "target=auto", {"target": "auto"}, formula5_n_train),
    ]
    for problem in NOISY_PROBLEMS:
        settings += [
            (problem, "n_stages=auto", {"n_stages": "auto"}, None),
            (problem, "n_stages=1", {"n_stages": 1}, None),
        ]
    return settings


def _from_curves(curves, problem, params, n_train, seed):
    """The goal row of a fit :func:`stage_curves` made, or None.

    Only a fit with ``n_stages="auto"`` (the default), the same other
    parameters, seed and size is the fit the goal asks for: its last stage is
    the model ``fit`` returns.
    """
    if curves is None or params.get("n_stages", "auto") != "auto":
        return None
    key = _params_key({k: v for k, v in params.items() if k != "n_stages"})
    sub = curves[
        (curves["problem"] == problem)
        & (curves["n_stages"] == "auto")
        & (curves["params"] == key)
        & (curves["seed"] == seed)
    ]
    if n_train is not None:
        sub = sub[sub["n_train"] == n_train]
    if sub.empty:
        return None
    last = sub.sort_values("stage").iloc[-1]
    return {
        "n_train": int(last["n_train"]),
        **{k: float(last[k]) for k in ("rmse", "nrmse", "median_rel_error", "r2")},
        "stages_kept": int(last["stage"]),
        "use_network": bool(last["use_network"]),
        "precision": last["precision"],
        "fit_seconds": float(last["fit_seconds"]),
        "warnings": last["warnings"],
        "source": "stage_curves",
    }


def precision_goals(
    seeds=(0, 1, 2),
    *,
    formula5_seeds=None,
    formula5_n_train=FORMULA5_N_TRAIN,
    problems=None,
    curves=None,
    **nn_params,
):
    """Fit the problems the goals of issue 14 are stated on: one row per fit.

    Clean sin (:func:`clean_sin`) with the defaults and with
    ``precision="float64"``; formula5 at ``formula5_n_train`` rows with the
    defaults inside ``TargetTransformRegressor(target="auto")``, the model
    whose figures the issue starts from (``benchmarks/goals.py``); each of
    :data:`NOISY_PROBLEMS` with ``n_stages="auto"`` (the default) and with
    ``n_stages=1``.
    :func:`goal_table` reduces the rows to the goal table.

    Parameters
    ----------
    seeds : iterable of int, default=(0, 1, 2)
        Seeds of every problem but formula5 (data and model).
    formula5_seeds : iterable of int or None, default=None
        Seeds of formula5; None: ``seeds``; empty: formula5 is not fitted.
    formula5_n_train : int, default=20_000
        Training rows of formula5 (its reference size is 100,000).
    problems : iterable of str or None, default=None
        Only these problems (None: all of them).
    curves : pandas.DataFrame or None, default=None
        Rows of :func:`stage_curves`: a fit made there with
        ``n_stages="auto"`` and the same parameters, seed and size is the same
        fit (the same seed gives the same model on the CPU), and is taken from
        them instead of being fitted again.
    **nn_params
        NNRegressor parameters set in every fit, under the settings'.

    Returns
    -------
    fits : pandas.DataFrame
        One row per fit: ``problem``, ``setting``, ``seed``, ``n_train``,
        ``rmse``, ``nrmse``, ``median_rel_error``, ``r2`` (test set),
        ``stages_kept`` (``len(stages_)``), ``use_network``, ``precision``
        (the one used), ``fit_seconds``, ``warnings`` and ``source``
        (``"fit"`` or ``"stage_curves"``).
    """
    seeds = list(seeds)
    formula5_seeds = seeds if formula5_seeds is None else list(formula5_seeds)
    rows = []
    for problem, setting, params, n_train in _goal_settings(formula5_n_train):
        if problems is not None and problem not in problems:
            continue
        params = {**nn_params, **params}
        for seed in formula5_seeds if problem == "formula5" else seeds:
            head = {"problem": problem, "setting": setting, "seed": seed}
            row = _from_curves(curves, problem, params, n_train, seed)
            if row is not None:
                rows.append({**head, **row})
                continue
            model, data, seconds, caught = _fit(problem, seed, params, n_train)
            X_train, _, X_test, y_test = data
            rows.append(
                {
                    **head,
                    "n_train": len(X_train),
                    **_scores(y_test, model.predict(X_test)),
                    "stages_kept": len(_network(model).stages_),
                    "use_network": bool(_network(model).use_network_),
                    "precision": _network(model).precision_,
                    "fit_seconds": seconds,
                    "warnings": caught,
                    "source": "fit",
                }
            )
    return pd.DataFrame(rows)


def _number(value):
    return f"{value:.3g}"


def _per_seed(values):
    return ", ".join(_number(v) for v in values)


def _noisy_row(fits, problem, head):
    """The goal row of a noisy problem: stages kept and nRMSE, auto against 1."""
    auto = fits[(fits["problem"] == problem) & (fits["setting"] == "n_stages=auto")]
    one = fits[(fits["problem"] == problem) & (fits["setting"] == "n_stages=1")]
    if auto.empty or one.empty:
        return None
    pair = auto.merge(one, on="seed", suffixes=("_auto", "_one"))
    kept = pair["stages_kept_auto"].to_numpy()
    ratio = (pair["nrmse_auto"] / pair["nrmse_one"]).to_numpy()
    met = (kept == 1).all() and (ratio <= NO_LOSS_FACTOR).all()
    return {
        **head,
        "measured": (
            f"stages kept {', '.join(map(str, kept))}; nrmse "
            f"{_number(pair['nrmse_auto'].median())} vs "
            f"{_number(pair['nrmse_one'].median())} (n_stages=1)"
        ),
        "per seed": "auto/1 nrmse " + _per_seed(ratio),
        "met": "yes" if met else "no",
        "median fit s": (
            f"{pair['fit_seconds_auto'].median():.1f} vs "
            f"{pair['fit_seconds_one'].median():.1f}"
        ),
        "seeds": ", ".join(map(str, pair["seed"])),
    }


def goal_table(fits):
    """The goal table of issue 14 from the rows of :func:`precision_goals`.

    Parameters
    ----------
    fits : pandas.DataFrame
        Rows of :func:`precision_goals`.

    Returns
    -------
    table : pandas.DataFrame
        One row per goal of :data:`GOALS`: ``problem``, ``setting``,
        ``metric``, ``today`` (the issue's figure), ``goal``, ``measured``
        (median over seeds), ``per seed``, ``met`` ("yes" when every seed
        meets it; a noisy problem meets it when ``n_stages="auto"`` keeps one
        stage and its nRMSE is at most :data:`NO_LOSS_FACTOR` times that of
        ``n_stages=1`` on every seed), ``median fit s`` and ``seeds``. Goals
        not measured here, or without rows, say so in ``measured``.
    """
    rows = []
    for problem, setting, metric, today, goal, op, value in GOALS:
        head = {
            "problem": problem,
            "setting": setting,
            "metric": metric,
            "today": today,
            "goal": goal,
        }
        if op == "noisy":
            row = _noisy_row(fits, problem, head)
            if row is not None:
                rows.append(row)
                continue
            op, value = "see", "not measured in this run"
        sub = fits[(fits["problem"] == problem) & (fits["setting"] == setting)]
        if op == "see" or sub.empty:
            text = value if op == "see" else "not measured in this run"
            rows.append(
                {
                    **head,
                    "measured": text,
                    "per seed": "",
                    "met": "-",
                    "median fit s": "",
                    "seeds": "",
                }
            )
            continue
        values = sub[metric].to_numpy()
        met = (values <= value).all() if op == "<=" else (values >= value).all()
        note = f" (n_train={sub['n_train'].iloc[0]:,})" if problem == "formula5" else ""
        rows.append(
            {
                **head,
                "measured": _number(float(np.median(values))) + note,
                "per seed": _per_seed(values),
                "met": "yes" if met else "no",
                "median fit s": f"{sub['fit_seconds'].median():.1f}",
                "seeds": ", ".join(map(str, sub["seed"])),
            }
        )
    return pd.DataFrame(rows)


def epoch_cost(
    precisions=("float32", "bfloat16", "float64"),
    *,
    problem="formula5",
    n_train=10_000,
    epochs=10,
    repeats=1,
    random_state=0,
    **nn_params,
):
    """Seconds per epoch of the default network in each precision.

    Fits ``NNRegressor(precision=p, optimizer="adamw", max_epochs=epochs,
    early_stopping=False, **nn_params)`` on ``n_train`` rows of ``problem``
    (formula5: 5 inputs), ``repeats`` times per precision, alternating the
    precisions, and takes the median of skorch's epoch durations.

    Parameters
    ----------
    precisions : iterable of str, default=("float32", "bfloat16", "float64")
        Precisions to time; the ratio is to ``"float32"``, which is timed as
        well if missing.
    problem : str, default="formula5"
        A name of :func:`sknnfit.datasets.make_problem`.
    n_train : int, default=10_000
        Training rows.
    epochs : int, default=10
        Epochs of each fit.
    repeats : int, default=1
        Fits per precision.
    random_state : int, default=0
        Seeds the data and the model.
    **nn_params
        Further NNRegressor parameters (``hidden_layer_sizes``, ``n_threads``).

    Returns
    -------
    cost : pandas.DataFrame
        One row per precision: ``precision``, ``seconds_per_epoch`` (median
        over epochs and repeats), ``ratio_to_float32``, ``native_bfloat16``
        (whether this CPU computes bfloat16 in hardware,
        :func:`sknnfit.modules.native_bfloat16`), ``hidden_layer_sizes``,
        ``n_params``, ``n_train``, ``batch_size``, ``epochs``, ``repeats`` and
        ``warnings`` (an emulated bfloat16 warns).
    """
    from ..modules import native_bfloat16

    precisions = list(dict.fromkeys(["float32", *precisions]))
    X, y = make_problem(problem, random_state=random_state, n_train=n_train)[:2]
    durations = {p: [] for p in precisions}
    caught_by = {p: [] for p in precisions}
    fitted = {}
    params = {
        "optimizer": "adamw",
        "max_epochs": epochs,
        "early_stopping": False,
        "random_state": random_state,
        **nn_params,
    }
    for _ in range(repeats):
        for precision in precisions:
            model = NNRegressor(precision=precision, **params)
            with warnings.catch_warnings(record=True) as caught:
                # Short timing fits stop "still improving" by design; the
                # warnings are counted in the frame all the same.
                warnings.simplefilter("always")
                model.fit(X, y)
            durations[precision] += [row["dur"] for row in model.net_.history]
            caught_by[precision] += caught
            fitted[precision] = model
    base = float(np.median(durations["float32"]))
    native = native_bfloat16("cpu")
    rows = []
    for precision in precisions:
        model = fitted[precision]
        seconds = float(np.median(durations[precision]))
        rows.append(
            {
                "precision": precision,
                "seconds_per_epoch": seconds,
                "ratio_to_float32": seconds / base,
                "native_bfloat16": native,
                "hidden_layer_sizes": str(tuple(model.hidden_layer_sizes_)),
                "n_params": sum(p.numel() for p in model.net_.module_.parameters()),
                "n_train": n_train,
                "batch_size": model.batch_size_,
                "epochs": epochs,
                "repeats": repeats,
                "warnings": _summarize_warnings(caught_by[precision]),
            }
        )
    return pd.DataFrame(rows)


def plot_stage_curves(curves):
    """Test nRMSE (and held-out RMSE) against stage, one panel per fit setting.

    Parameters
    ----------
    curves : pandas.DataFrame
        Rows of :func:`stage_curves`, of one or more problems and settings.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Log y axis; solid lines and dots: test nRMSE of the sum up to each
        stage, one line per seed; dashed: the held-out RMSE ``stages_``
        records, in standard deviations of the target the network learns (of
        the transformed target inside a TargetTransformRegressor). A seed whose
        network the guard left out says so in the legend: a polynomial
        predicts instead.
    """
    from .plots import _figure

    groups = list(curves.groupby(["problem", "precision", "params"], sort=False))
    fig, axes = _figure(len(groups))
    for ax, ((problem, precision, params), sub) in zip(axes, groups, strict=True):
        for i, (seed, line) in enumerate(sub.groupby("seed")):
            color = f"C{i}"
            guard = "" if line["use_network"].all() else " (guard: polynomial)"
            ax.plot(
                line["stage"],
                line["nrmse"],
                "o-",
                color=color,
                label=f"seed {seed}: test{guard}",
            )
            if line["validation_rmse"].notna().any():
                ax.plot(
                    line["stage"],
                    line["validation_rmse"],
                    "x--",
                    color=color,
                    alpha=0.6,
                    label=f"seed {seed}: held out",
                )
        target = "target=auto, " if "'target'" in params else ""
        ax.set_yscale("log")
        ax.set_xticks(sorted(sub["stage"].unique()))
        ax.set_xlabel("stages summed")
        ax.set_ylabel("RMSE / std(y)")
        ax.set_title(
            f"{problem} ({target}{precision}, n={sub['n_train'].iloc[0]:,})",
            fontsize="medium",
        )
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    return fig
