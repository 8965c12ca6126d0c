"""The public benchmark suite: the default against the baselines on every problem.

:func:`run_suite` fits models on the problems of
:data:`sknnfit.datasets.SUITE` (formulas in four variants, real tables, the
reference problems) for several seeds, one fit at a time through
:func:`~sknnfit.bench.compare`, and returns compare's tidy rows with the
problem's group and the library versions and thread counts of the run.
:func:`suite_report` turns those rows into the Markdown of
``benchmarks/results/suite.md``: per problem the median nRMSE of every model
and the median fit seconds, the ratio of the default to the best baseline, and
per group how often the default is at or below the best baseline.
``benchmarks/suite.py`` is the command line over both.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from importlib.metadata import PackageNotFoundError, version

import numpy as np
import pandas as pd

from .._validation import did_you_mean
from ..datasets import PROBLEMS, SUITE, TABLES, load_table
from .compare import compare
from .report import format_number, markdown_table

__all__ = [
    "CHECK_GROUPS",
    "DEFAULT_MODELS",
    "SUITE_PROBLEM_KWARGS",
    "TABLE_TEST_SIZE",
    "default_models",
    "run_suite",
    "suite_problems",
    "suite_report",
]

#: Models run by default: the default model first, then the baselines, then
#: pytabkit's RealMLP when pytabkit is installed.
DEFAULT_MODELS = ("nn", "poly", "hgb", "rf", "mlp", "lgbm")

#: Reference problems run below their default size, to keep a suite run to
#: hours (steep25x19's 200,000 rows and formula5's 100,000 take the baselines
#: minutes a fit).
SUITE_PROBLEM_KWARGS = {
    "steep25x19": {"n_train": 20_000, "n_test": 20_000},
    "formula5": {"n_train": 20_000, "n_test": 20_000},
    "identity25": {"n_train": 20_000, "n_test": 5_000},
}

#: Groups measured but never used to choose a default: left out of the
#: summary's "all" row, so that it shows what the defaults were chosen on.
CHECK_GROUPS = ("real-check",)

#: Share of a real table's rows held out for the test, split by seed.
TABLE_TEST_SIZE = 0.25

_KEY = ["problem", "model", "seed"]
_VERSIONED = ("sknnfit", "numpy", "pandas", "scikit-learn", "torch", "lightgbm")


def _realmlp_available():
    return importlib.util.find_spec("pytabkit") is not None


def default_models():
    """:data:`DEFAULT_MODELS`, plus ``"realmlp"`` when pytabkit is importable."""
    return [*DEFAULT_MODELS, *(("realmlp",) if _realmlp_available() else ())]


def _model_spec(name):
    """A name compare knows, or the estimator of a suite-only model."""
    if name == "realmlp":
        try:
            tabkit = importlib.import_module("pytabkit")
        except ImportError as exc:
            raise ImportError(
                "Model 'realmlp' needs pytabkit, which is not installed. Install "
                "it with: pip install pytabkit (it pins its own torch build)."
            ) from exc
        return tabkit.RealMLP_TD_Regressor(random_state=0)
    return name


def suite_problems(groups=None, problems=None):
    """``[(group, name)]`` of the problems a suite run covers, in suite order.

    Parameters
    ----------
    groups : list of str or None, default=None
        Keys of :data:`sknnfit.datasets.SUITE`; None means all of them.
    problems : list of str or None, default=None
        Problem or table names; only these are kept (each must be in a group
        run). None keeps every problem of the groups.

    Returns
    -------
    items : list of tuple of (str, str)
        ``(group, problem)`` pairs.

    Examples
    --------
    >>> from sknnfit.bench.suite import suite_problems
    >>> suite_problems(["formulas"], ["I.14.3", "II.3.24"])
    [('formulas', 'I.14.3'), ('formulas', 'II.3.24')]
    """
    groups = list(SUITE) if groups is None else list(groups)
    for group in groups:
        if group not in SUITE:
            raise did_you_mean("suite group", group, SUITE)
    items = [(group, name) for group in groups for name in SUITE[group]]
    if problems is None:
        return items
    known = {name for _, name in items}
    for name in problems:
        if name not in known:
            valid = {**PROBLEMS, **TABLES}
            if name not in valid:
                raise did_you_mean("problem", name, valid)
            raise ValueError(
                f"Problem {name!r} is not in the groups {groups}; add its group "
                "with --groups, or leave --groups out."
            )
    wanted = set(problems)
    return [(group, name) for group, name in items if name in wanted]


def _thread_counts():
    """Threads of the run: OMP_NUM_THREADS and the largest thread pool."""
    from threadpoolctl import threadpool_info

    pools = [info.get("num_threads", 0) for info in threadpool_info()]
    torch = importlib.import_module("torch") if _installed("torch") else None
    return {
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
        "pool_threads": max(pools, default=0),
        "torch_threads": torch.get_num_threads() if torch is not None else np.nan,
    }


def _installed(package):
    try:
        version(package)
    except PackageNotFoundError:
        return False
    return True


def _versions():
    return {
        f"version_{pkg}": version(pkg) if _installed(pkg) else "" for pkg in _VERSIONED
    }


def _planned(items, models, seeds):
    return pd.DataFrame(
        [
            (name, model, seed)
            for _, name in items
            for model in models
            for seed in seeds
        ],
        columns=_KEY,
    )


def run_suite(
    groups=None,
    problems=None,
    models=None,
    seeds=(0, 1, 2),
    *,
    reuse=None,
    resume=False,
    problem_kwargs=None,
    progress=True,
    callback=None,
):
    """Fit models on the suite's problems for several seeds.

    Parameters
    ----------
    groups : list of str or None, default=None
        Groups of :data:`sknnfit.datasets.SUITE` to run; None runs all.
    problems : list of str or None, default=None
        Only these problems or tables of the groups; None runs them all.
    models : list of str or None, default=None
        Model names of :data:`sknnfit.bench.MODELS`, or ``"realmlp"``
        (pytabkit's ``RealMLP_TD_Regressor``). None runs
        :func:`default_models`.
    seeds : iterable of int, default=(0, 1, 2)
        Seeds. For a formula or reference problem the seed draws its data; for a
        table, its 75/25 split. It also seeds the model.
    reuse : pandas.DataFrame or None, default=None
        Rows of an earlier run (``suite.csv``). Its rows for (problem, model,
        seed) this run does not fit are kept, so re-running ``"nn"`` replaces
        only nn's rows and the baselines need not be run again.
    resume : bool, default=False
        With ``reuse``: also skip the planned fits that ``reuse`` already holds
        without an error (to finish a run that was stopped).
    problem_kwargs : dict or None, default=None
        ``{problem: {"n_train": ..., "n_test": ...}}`` for generated problems;
        None uses :data:`SUITE_PROBLEM_KWARGS` (cut reference problems; the
        formulas at their default 7,500 / 2,500 rows).
    progress : bool, default=True
        Print one line per (problem, model) as it finishes.
    callback : callable or None, default=None
        Called with the frame so far after each (problem, model), e.g. to save
        partial results of a run of hours.

    Returns
    -------
    results : pandas.DataFrame
        Compare's columns (``errors="record"``: a failed fit has an ``error``
        and NaN metrics) plus ``group``, ``omp_num_threads``, ``pool_threads``
        (largest native thread pool, from threadpoolctl), ``torch_threads`` and
        ``version_<package>`` for sknnfit, numpy, pandas, scikit-learn, torch
        and lightgbm. Kept rows of ``reuse`` come first.

    Examples
    --------
    >>> from sknnfit.bench.suite import run_suite
    >>> df = run_suite(["reference"], ["square"], ["poly"], seeds=[0],
    ...                problem_kwargs={"square": {"n_train": 50}}, progress=False)
    >>> df[["group", "problem", "model", "seed", "n_train"]].values.tolist()
    [['reference', 'square', 'poly', 0, 50]]
    """
    items = suite_problems(groups, problems)
    models = default_models() if models is None else list(models)
    specs = {model: _model_spec(model) for model in models}
    seeds = [int(s) for s in seeds]
    problem_kwargs = SUITE_PROBLEM_KWARGS if problem_kwargs is None else problem_kwargs
    planned = _planned(items, models, seeds)

    kept = reuse.iloc[0:0] if reuse is not None else None
    done = set()
    if reuse is not None:
        old_keys = reuse[_KEY].apply(tuple, axis=1)
        new_keys = set(planned.apply(tuple, axis=1))
        kept = reuse[~old_keys.isin(new_keys)]
        if resume:
            ok = reuse["error"].fillna("").eq("") if "error" in reuse else True
            ok = ok & reuse["nrmse"].notna()
            resumed = reuse[old_keys.isin(new_keys) & ok]
            kept = pd.concat([kept, resumed], ignore_index=True)
            done = set(resumed[_KEY].apply(tuple, axis=1))

    extra = {**_thread_counts(), **_versions()}
    frames = [kept] if kept is not None and len(kept) else []
    tables = {}
    for group, name in items:
        for model in models:
            todo = [s for s in seeds if (name, model, s) not in done]
            if not todo:
                continue
            if group in ("real", *CHECK_GROUPS):
                if name not in tables:
                    tables[name] = load_table(name)
                spec, kwargs = tables[name], None
            else:
                spec, kwargs = name, problem_kwargs.get(name)
            df = compare(
                {name: spec},
                {model: specs[model]},
                seeds=todo,
                problem_kwargs={name: kwargs} if kwargs else None,
                test_size=TABLE_TEST_SIZE,
                errors="record",
                progress=False,
            )
            df.insert(0, "group", group)
            df = df.assign(**extra)
            frames.append(df)
            if progress:
                print(
                    f"{group:>16} {name:>18} {model:>6}: nRMSE "
                    f"{format_number(df['nrmse'].median())}, fit "
                    f"{df['fit_seconds'].median():.1f} s",
                    flush=True,
                )
            if callback is not None:
                callback(pd.concat(frames, ignore_index=True))
    if not frames:
        return planned.iloc[0:0]
    return pd.concat(frames, ignore_index=True)


#: Both the default and the best baseline at or below this nRMSE: each fits to
#: float64 rounding, and their order is the rounding's, so it counts as a tie.
ROUNDING_NRMSE = 1e-9


def _ratio_counts(ratios):
    finite = ratios.dropna()
    return {
        "problems": int(ratios.size),
        "at or below best": int((finite <= 1.0).sum()),
        "within 1.05x": int((finite <= 1.05).sum()),
        "within 1.1x": int((finite <= 1.1).sum()),
    }


def _slowest(df, model, groups):
    """The longest single fit of ``model`` in ``groups`` (any seed), in seconds."""
    rows = df[(df["model"] == model) & df["group"].isin(groups)]
    return float(rows["fit_seconds"].max())


def suite_report(df, default="nn"):
    """The Markdown of ``suite.md``: per group, per problem and a summary.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`run_suite`.
    default : str, default="nn"
        The model compared with the best of the others (the baselines).

    Returns
    -------
    text : str
        A summary table over groups (problems where the default's median nRMSE
        is at or below the best baseline's, within 1.05x and 1.1x of it, the
        median and max of the default's median fit seconds, and its slowest
        single fit of any seed; where both reach
        :data:`ROUNDING_NRMSE` the problem counts as at or below), then per group a
        table of the median nRMSE over seeds of every model with the ratio
        ``default / best baseline``, and a table of the median fit seconds.
        Cells are ``-`` where a model has no finished fit. The summary's
        "all" row counts every group but :data:`CHECK_GROUPS`, which has a row
        of its own.
    """
    medians = (
        df.groupby(["group", "problem", "model"], sort=False)[
            ["nrmse", "fit_seconds", "n_train", "n_test"]
        ]
        .median()
        .reset_index()
    )
    models = list(dict.fromkeys(df["model"]))
    baselines = [m for m in models if m != default]
    has_default = default in models
    summary_rows, sections, all_ratios, all_seconds = [], [], [], []
    for group, sub in medians.groupby("group", sort=False):
        nrmse = sub.pivot(index="problem", columns="model", values="nrmse")
        seconds = sub.pivot(index="problem", columns="model", values="fit_seconds")
        order = list(dict.fromkeys(sub["problem"]))
        nrmse, seconds = nrmse.reindex(order), seconds.reindex(order)
        sizes = sub.groupby("problem", sort=False)[["n_train", "n_test"]].first()
        table = pd.DataFrame({"problem": order})
        table["n_train"] = sizes.loc[order, "n_train"].astype(int).to_numpy()
        table["n_test"] = sizes.loc[order, "n_test"].astype(int).to_numpy()
        for model in models:
            table[model] = nrmse.get(model, pd.Series(np.nan, index=order)).to_numpy()
        base_nrmse = nrmse[[m for m in baselines if m in nrmse]]
        best = base_nrmse.min(axis=1)
        # A problem no baseline has finished on names none.
        table["best baseline"] = (
            base_nrmse.apply(
                lambda row: row.idxmin() if row.notna().any() else "", axis=1
            ).to_numpy()
            if baselines
            else ""
        )
        # A group the default has not run in yet shows the baselines only.
        if has_default and default in nrmse:
            ratio = (nrmse[default] / best).to_numpy()
            table[f"{default} / best"] = ratio
            default_seconds = seconds.get(default)
            exact = (nrmse[default] <= ROUNDING_NRMSE) & (best <= ROUNDING_NRMSE)
            counted = pd.Series(np.where(exact, np.minimum(ratio, 1.0), ratio))
            if group not in CHECK_GROUPS:
                all_ratios.append(counted)
                all_seconds.append(default_seconds)
            summary_rows.append(
                {
                    "group": group,
                    **_ratio_counts(counted),
                    f"median {default} fit s": float(default_seconds.median()),
                    f"max {default} fit s": float(default_seconds.max()),
                    f"slowest {default} fit s": _slowest(df, default, [group]),
                }
            )
        time_table = pd.DataFrame({"problem": order})
        for model in models:
            time_table[model] = seconds.get(
                model, pd.Series(np.nan, index=order)
            ).to_numpy()
        sections.append(
            f"### {group}: median nRMSE over seeds\n\n"
            + markdown_table(table, formats=dict.fromkeys(models, format_number))
            + f"\n\n### {group}: median fit seconds\n\n"
            + markdown_table(time_table, floatfmt=".3g")
        )
    parts = []
    tuned = [row["group"] for row in summary_rows if row["group"] not in CHECK_GROUPS]
    if len(tuned) > 1:
        every = pd.concat(all_seconds)
        summary_rows.append(
            {
                "group": "all",
                **_ratio_counts(pd.concat(all_ratios, ignore_index=True)),
                f"median {default} fit s": float(every.median()),
                f"max {default} fit s": float(every.max()),
                f"slowest {default} fit s": _slowest(df, default, tuned),
            }
        )
    if summary_rows:
        parts.append(
            f"## Summary: {default} against the best baseline per problem\n\n"
            + markdown_table(pd.DataFrame(summary_rows), floatfmt=".3g")
        )
    else:
        parts.append(
            f"No {default!r} rows yet: the tables show the baselines only; the "
            f"ratio columns appear once {default!r} is run (with --reuse)."
        )
    parts.append("## Per problem\n\n" + "\n\n".join(sections))
    return "\n\n".join(parts) + "\n"
