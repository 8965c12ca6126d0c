"""The ``sknnfit`` command line: compare models on reference problems or a CSV file.

A thin layer over :func:`sknnfit.bench.compare`, :func:`sknnfit.bench.summarize`
and :func:`sknnfit.bench.plots.save_plots`: it parses arguments, loads a CSV,
prints the summary table (:mod:`sknnfit.bench.report`) and writes the files. The
harness is imported inside the commands that use it.

Examples
--------
``sknnfit compare --problem formula5``
    The default comparison; see ``sknnfit compare --help`` for its settings.
``sknnfit compare --csv data.csv --target y --seeds 3``
    Your data: every other column is a feature, 20% of the rows are held out.
``sknnfit problems``
    The reference problems.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main"]

#: ``--models`` default.
DEFAULT_MODELS = "nn-auto-target,poly,hgb,rf"
#: ``--n-train`` default: training rows per reference problem, at most this many
#: (formula5's full training set, 100,000 rows, takes minutes per network on a CPU).
DEFAULT_MAX_TRAIN = 10_000


class CLIError(Exception):
    """A usage error; printed without a traceback, exit status 2."""


# ---------------------------------------------------------------------- parsing


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _n_train(text):
    if text == "full":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or 'full', got {text!r}"
        ) from None


def _names(text):
    return [part.strip() for part in text.split(",") if part.strip()]


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sknnfit",
        description=(
            "Compare sknnfit's neural networks with polynomial and tree baselines "
            "on reference problems or on your own CSV file."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    cmp = sub.add_parser(
        "compare",
        help="fit models on a problem or a CSV file; print a table, write CSV and PNG",
        description=(
            "Fit every model for every seed, print the median and the min-max "
            "range over seeds of the test metrics, and write results.csv (one "
            "row per fit), summary.csv and PNG plots to --out. Defaults: "
            f"--problem formula5 --models {DEFAULT_MODELS} --seeds 1 and at most "
            f"{DEFAULT_MAX_TRAIN} training rows per problem (formula5 has "
            "100,000; pass --n-train full for all of them), which takes about "
            "two minutes on a 2-core CPU, most of it in the polynomial's degree "
            "search."
        ),
    )
    _add_data_arguments(cmp)
    _add_run_arguments(cmp)
    _add_output_arguments(cmp)
    cmp.set_defaults(handler=_compare)

    probs = sub.add_parser("problems", help="list the reference problems")
    probs.set_defaults(handler=_problems)
    mods = sub.add_parser("models", help="list the model names --models accepts")
    mods.set_defaults(handler=_models)
    return parser


def _add_data_arguments(cmp):
    from .datasets import PROBLEMS

    data = cmp.add_argument_group("data (a reference problem or a CSV file)")
    data.add_argument(
        "--problem",
        type=_names,
        default=None,
        metavar="NAME[,NAME...]",
        help=(
            f"reference problem(s): {', '.join(PROBLEMS)} "
            "[default: formula5 unless --csv]"
        ),
    )
    data.add_argument(
        "--csv",
        type=Path,
        metavar="FILE",
        help="your data; every column but the targets is a numeric feature",
    )
    data.add_argument(
        "--target",
        action="append",
        metavar="COLUMN",
        help="target column of --csv; repeat for several targets",
    )
    data.add_argument(
        "--n-train",
        type=_n_train,
        default=None,
        metavar="N",
        help=(
            "training rows of each reference problem, or 'full' for the problem's "
            f"default size [default: the smaller of {DEFAULT_MAX_TRAIN} and the "
            "problem's size]"
        ),
    )
    data.add_argument(
        "--n-test",
        type=_positive_int,
        default=None,
        metavar="N",
        help="test rows of each reference problem [default: the problem's size]",
    )
    data.add_argument(
        "--cv",
        type=_positive_int,
        default=None,
        metavar="K",
        help="with --csv: K-fold cross-validation instead of one 80/20 split",
    )


def _add_run_arguments(cmp):
    from .bench import MODELS

    run = cmp.add_argument_group("models and runs")
    run.add_argument(
        "--models",
        type=_names,
        default=_names(DEFAULT_MODELS),
        metavar="NAME[,NAME...]",
        help=f"models: {', '.join(MODELS)} [default: {DEFAULT_MODELS}]",
    )
    run.add_argument(
        "--seeds",
        type=_positive_int,
        default=1,
        metavar="N",
        help=(
            "run seeds 0..N-1; each seed draws new data (or a new split) and new "
            "initial weights [default: 1]"
        ),
    )
    run.add_argument(
        "--backend",
        choices=("local", "dask"),
        default="local",
        help=(
            "run the fits here, or on a Dask cluster (pip install 'sknnfit[dask]') "
            "[default: local]"
        ),
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help=(
            "with --backend dask: scheduler address, e.g. tcp://10.0.0.1:8786 "
            "[default: start a local cluster]"
        ),
    )
    run.add_argument(
        "--n-jobs",
        type=_positive_int,
        default=None,
        metavar="N",
        help=(
            "fits at once: worker processes here, or local Dask workers "
            "[default: one at a time here; every worker with dask]"
        ),
    )


def _add_output_arguments(cmp):
    out = cmp.add_argument_group("output")
    out.add_argument(
        "--out",
        type=Path,
        default=Path("sknnfit-out"),
        metavar="DIR",
        help="folder for results.csv, summary.csv and the PNG plots "
        "[default: sknnfit-out]",
    )
    out.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    out.add_argument("--no-progress", action="store_true", help="hide the progress bar")


# ---------------------------------------------------------------------- data


def load_csv(path, targets):
    """Read a CSV file into ``(X, y)``: the target columns and all the others.

    Parameters
    ----------
    path : str or path-like
        CSV file with a header row.
    targets : list of str
        Target column names.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), dtype float64
        Every column but the targets, in file order.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets), dtype float64
        The target(s); 1-D for a single target.
    feature_names : list of str
        The feature columns.

    Raises
    ------
    CLIError
        When the file is missing, a target column is missing (the message lists
        the columns), a feature or target is not numeric (named), or values are
        missing.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    path = Path(path)
    if not path.is_file():
        raise CLIError(f"CSV file {str(path)!r} does not exist.")
    if not targets:
        raise CLIError(
            "--csv needs the target column: add --target COLUMN (repeat it for "
            "several targets)."
        )
    df = pd.read_csv(path)
    columns = [str(c) for c in df.columns]
    df.columns = columns
    missing = [t for t in targets if t not in columns]
    if missing:
        raise CLIError(
            f"Target column(s) {missing} not found in {path.name}. Available "
            f"columns: {columns}. Pass one of them with --target."
        )
    if len(set(targets)) != len(targets):
        raise CLIError(f"--target was given the same column twice: {targets}.")
    features = [c for c in columns if c not in targets]
    if not features:
        raise CLIError(
            f"{path.name} has no feature columns besides the target(s) {targets}."
        )
    for kind, cols in (("Feature", features), ("Target", targets)):
        bad = [c for c in cols if not (is_numeric_dtype(df[c]) or is_bool_dtype(df[c]))]
        if bad:
            example = df[bad[0]].dropna().iloc[0] if df[bad[0]].notna().any() else ""
            raise CLIError(
                f"{kind} column(s) {bad} of {path.name} are not numeric (e.g. "
                f"{bad[0]}={example!r}). sknnfit compare uses every column except "
                "the targets as a numeric feature: encode text columns as numbers "
                "or drop them from the file (or pass them as --target)."
            )
    n_missing = df[features + list(targets)].isna().sum()
    n_missing = n_missing[n_missing > 0]
    if len(n_missing):
        counts = ", ".join(f"{c}: {n}" for c, n in n_missing.items())
        raise CLIError(
            f"{path.name} has missing values ({counts}). Drop or impute those rows "
            "first."
        )
    X = df[features].to_numpy(dtype=np.float64)
    y = df[list(targets)].to_numpy(dtype=np.float64)
    return X, (y[:, 0] if len(targets) == 1 else y), features


# ---------------------------------------------------------------------- commands


def _problems(args):
    from .datasets import PROBLEMS, problem_info

    for name, description in PROBLEMS.items():
        info = problem_info(name)
        print(
            f"{name:<12} {info['n_features']} inputs, {info['n_outputs']} "
            f"output(s), {info['n_train']} train / {info['n_test']} test rows"
        )
        print(f"{'':<12} {description}")
    return 0


def _models(args):
    from .bench import MODELS

    for name, description in MODELS.items():
        print(f"{name:<15} {description}")
    return 0


def _check_args(args):
    if args.csv is not None and args.problem is not None:
        raise CLIError("Pass either --problem or --csv, not both.")
    if args.csv is None:
        if args.target:
            raise CLIError("--target goes with --csv FILE.")
        if args.cv is not None:
            raise CLIError(
                "--cv applies to --csv data; reference problems are scored on "
                "their own test set."
            )
    elif args.n_train is not None or args.n_test is not None:
        raise CLIError(
            "--n-train and --n-test size reference problems; with --csv, 20% of "
            "the rows are held out (or use --cv K)."
        )
    if args.scheduler is not None and args.backend != "dask":
        raise CLIError("--scheduler needs --backend dask.")


def _problem_plan(args):
    """``(problems, problem_kwargs, description lines)`` for the reference problems."""
    from .datasets import problem_info

    names = args.problem or ["formula5"]
    kwargs, lines = {}, []
    for name in names:
        info = problem_info(name)  # unknown names fail here, listing the valid ones
        if args.n_train == "full":
            n_train = info["n_train"]
        elif args.n_train is None:
            n_train = min(info["n_train"], DEFAULT_MAX_TRAIN)
        else:
            n_train = args.n_train
        n_test = args.n_test or info["n_test"]
        kwargs[name] = {"n_train": n_train, "n_test": n_test}
        note = ""
        if n_train < info["n_train"]:
            note = f" (of its {info['n_train']}; --n-train full for all)"
        lines.append(f"{name}: {n_train} training rows{note}, {n_test} test rows")
    return names, kwargs, lines


def _csv_plan(args):
    """``(problems, problem_kwargs, description lines)`` for --csv data."""
    X, y, features = load_csv(args.csv, args.target)
    label = args.csv.stem
    split = f"{args.cv}-fold CV" if args.cv else "80/20 train/test split per seed"
    plan = [
        f"{label}: {len(X)} rows, {len(features)} features -> "
        f"{', '.join(args.target)}; {split}"
    ]
    return {label: (X, y)}, None, plan


def _print_plan(args, plan, seeds):
    where = (
        f"dask ({args.scheduler or 'local cluster'})"
        if args.backend == "dask"
        else f"local, {args.n_jobs or 1} job(s) at a time"
    )
    print("sknnfit compare")
    for line in plan:
        print(f"  {line}")
    print(f"  models: {', '.join(args.models)}")
    print(f"  seeds: {seeds}   backend: {where}   output: {args.out}/")
    sys.stdout.flush()


def _write_files(args, df, summary, predictions):
    """Write results.csv, summary.csv and the plots; the paths written."""
    args.out.mkdir(parents=True, exist_ok=True)
    written = [args.out / "results.csv", args.out / "summary.csv"]
    df.to_csv(written[0], index=False)
    summary.to_csv(written[1], index=False)
    # A fit cut short by Ctrl-C has no predictions to draw.
    predictions = {k: v for k, v in predictions.items() if v["y_pred"] is not None}
    if predictions and not args.no_plots:
        from .bench.plots import save_plots

        written += save_plots(predictions, args.out)
    return written


def _print_report(args, df, summary, elapsed, written):
    from .bench.report import (
        format_interrupted,
        format_summary,
        format_warnings,
        mark_interrupted,
    )

    spread = (
        "median ±half the min-max range over seeds"
        if args.seeds > 1
        else "one seed (--seeds N for medians and ranges)"
    )
    print(f"\nTest metrics, {spread}.")
    print("nrmse is the RMSE over the std of y: 0 is perfect, 1 predicts the mean.\n")
    print(format_summary(mark_interrupted(summary, df)))
    warned = format_warnings(df)
    if warned:
        print(f"\n{warned}")
    interrupted = format_interrupted(df)
    if interrupted:
        print(f"\n{interrupted}")
    print(f"\n{len(df)} fits in {elapsed:.0f} s. Wrote:")
    for path in written:
        print(f"  {path}")


def _compare(args):
    from .bench import compare, summarize

    _check_args(args)
    if args.csv is not None:
        problems, problem_kwargs, plan = _csv_plan(args)
    else:
        problems, problem_kwargs, plan = _problem_plan(args)
    seeds = list(range(args.seeds))
    _print_plan(args, plan, seeds)

    start = time.perf_counter()
    df, predictions = compare(
        problems,
        args.models,
        seeds=seeds,
        cv=args.cv,
        backend=args.backend,
        scheduler=args.scheduler,
        n_jobs=args.n_jobs,
        problem_kwargs=problem_kwargs,
        progress=not args.no_progress,
        return_predictions=True,
    )
    elapsed = time.perf_counter() - start
    if not df.empty:
        summary = summarize(df)
        written = _write_files(args, df, summary, predictions)
        _print_report(args, df, summary, elapsed, written)
    if df.attrs.get("interrupted"):  # Ctrl-C: compare kept what finished
        if df.empty:
            print("\nNo fit finished; nothing written.")
        print("sknnfit compare: interrupted by the user", file=sys.stderr)
        return 130
    return 0


def main(argv=None):
    """Run the ``sknnfit`` command line.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 on a usage or input error (printed without a traceback),
        130 when Ctrl-C stopped the command. ``sknnfit compare`` then prints
        and writes the fits that finished, marking the one cut short with
        ``*``, and says "interrupted by the user".
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (CLIError, ValueError, ImportError) as exc:
        print(f"sknnfit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nsknnfit {args.command}: interrupted by the user", file=sys.stderr)
        return 130
