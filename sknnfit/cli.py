"""The ``sknnfit`` command line: compare models, fit one, predict with it.

A thin layer over :func:`sknnfit.bench.compare`, :func:`sknnfit.bench.summarize`,
:func:`sknnfit.bench.plots.save_plots`, :func:`sknnfit.save` and
:func:`sknnfit.load`: it parses arguments, reads CSV files (text columns and
missing values included), prints the tables (:mod:`sknnfit.bench.report`) and
writes the files. The harness is imported inside the commands that use it.

Examples
--------
``sknnfit compare --problem formula5``
    The default comparison; see ``sknnfit compare --help`` for its settings.
``sknnfit compare --csv data.csv --target y --seeds 3``
    Your data: every other column is a feature, 20% of the rows are held out.
    Text columns are one-hot encoded and missing values imputed inside each
    model (:mod:`sknnfit.bench.tabular`).
``sknnfit fit --csv data.csv --target y -o model.sknnfit``
    Fit one model on every row and save it (:func:`sknnfit.save`).
``sknnfit predict model.sknnfit new.csv -o predictions.csv``
    Predict the rows of another file with the same feature columns.
``sknnfit problems``
    The reference problems.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main"]

#: ``--models`` default.
DEFAULT_MODELS = "nn-auto-target,poly,hgb,rf"
#: ``sknnfit fit --model`` default.
DEFAULT_FIT_MODEL = "nn-auto-target"
#: ``--n-train`` default: training rows per reference problem, at most this many
#: (formula5's full training set, 100,000 rows, takes minutes per network on a CPU).
DEFAULT_MAX_TRAIN = 10_000


class CLIError(Exception):
    """A usage error; printed without a traceback, exit status 2."""


# ---------------------------------------------------------------------- parsing


def _folds(text):
    """``--cv K``: an int of at least 2 (one fold would leave nothing to test)."""
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(
            f"K-fold cross-validation needs K >= 2 folds, got {value}; leave --cv "
            "out for one 80/20 split"
        )
    return value


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


SEP_HELP = (
    "column delimiter of the CSV file, e.g. ';' or '\\t' for tabs [default: "
    "guessed from the file]"
)


def _separator(text):
    return {"\\t": "\t", "tab": "\t"}.get(text, text)


def _add_csv_arguments(parser, what):
    parser.add_argument(
        "--csv", type=Path, required=True, metavar="FILE", help=f"your data; {what}"
    )
    parser.add_argument(
        "--target",
        action="append",
        metavar="COLUMN",
        help="target column; repeat for several targets",
    )
    parser.add_argument(
        "--sep", type=_separator, default=None, metavar="SEP", help=SEP_HELP
    )


def _build_parser():
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="sknnfit",
        description=(
            "Compare sknnfit's neural networks with polynomial and tree baselines "
            "on reference problems or on your own CSV file; fit a model on a CSV "
            "file and predict with it."
        ),
    )
    parser.add_argument("--version", action="version", version=f"sknnfit {__version__}")
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

    fit = sub.add_parser(
        "fit",
        help="fit one model on every row of a CSV file and save it",
        description=(
            "Fit one model on every row of --csv and save it with sknnfit.save "
            "(a data-only file: loading it runs no code from the file). Text "
            "columns are one-hot encoded and missing values imputed inside the "
            "saved model. Score models first with sknnfit compare."
        ),
    )
    _add_csv_arguments(fit, "every column but the targets is a feature")
    fit.add_argument(
        "--model",
        default=DEFAULT_FIT_MODEL,
        metavar="NAME",
        help=f"nn or nn-auto-target [default: {DEFAULT_FIT_MODEL}]",
    )
    fit.add_argument(
        "--seed", type=int, default=0, metavar="N", help="random seed [default: 0]"
    )
    fit.add_argument(
        "-o",
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="model file to write, e.g. model.sknnfit",
    )
    fit.set_defaults(handler=_fit)

    pred = sub.add_parser(
        "predict",
        help="predict the rows of a CSV file with a model saved by sknnfit fit",
        description=(
            "Load a model written by sknnfit fit (or sknnfit.save), predict every "
            "row of CSV and write the predictions, one column per target, with "
            "the target names as header. CSV needs the model's feature columns "
            "(others, such as the target, are ignored)."
        ),
    )
    pred.add_argument("model", type=Path, metavar="MODEL", help="the model file")
    pred.add_argument("csv", type=Path, metavar="CSV", help="rows to predict")
    pred.add_argument(
        "--sep", type=_separator, default=None, metavar="SEP", help=SEP_HELP
    )
    pred.add_argument(
        "-o",
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="CSV file to write the predictions to",
    )
    pred.set_defaults(handler=_predict)

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
        help=(
            "your data; every column but the targets is a feature (text columns "
            "are one-hot encoded and missing values imputed inside each model)"
        ),
    )
    data.add_argument(
        "--target",
        action="append",
        metavar="COLUMN",
        help="target column of --csv; repeat for several targets",
    )
    data.add_argument(
        "--sep", type=_separator, default=None, metavar="SEP", help=SEP_HELP
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
        type=_folds,
        default=None,
        metavar="K",
        help="with --csv: K-fold cross-validation (K >= 2) instead of one 80/20 split",
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
        help="folder for results.csv, summary.csv, per_target.csv (several "
        "targets) and the PNG plots [default: sknnfit-out]",
    )
    out.add_argument("--no-plots", action="store_true", help="do not write PNG plots")
    out.add_argument("--no-progress", action="store_true", help="hide the progress bar")


# ---------------------------------------------------------------------- data


def read_csv(path, sep=None):
    """Read a CSV file with a header row into a DataFrame, strings kept.

    Parameters
    ----------
    path : str or path-like
        The file.
    sep : str or None, default=None
        Column delimiter; None guesses it from the file (:class:`csv.Sniffer`,
        through pandas' ``sep=None, engine="python"``).

    Returns
    -------
    frame : pandas.DataFrame
        The columns, named by strings.

    Raises
    ------
    CLIError
        When the file is missing or cannot be parsed (the message suggests
        ``--sep``).
    """
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"CSV file {str(path)!r} does not exist.")
    options = {"sep": sep} if sep is not None else {"sep": None, "engine": "python"}
    try:
        df = pd.read_csv(path, **options)
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CLIError(
            f"Cannot read {path.name} as a CSV file with a header row ({exc}). "
            "If its columns are not split right, pass the delimiter, e.g. "
            "--sep ';' or --sep '\\t'."
        ) from None
    except UnicodeDecodeError as exc:
        raise CLIError(
            f"{path.name} is not UTF-8 text ({exc}). Save it as UTF-8 CSV."
        ) from None
    df.columns = [str(c) for c in df.columns]
    return df


def load_csv(path, targets, sep=None):
    """Read a CSV file into ``(X, y)``: all the other columns and the targets.

    Parameters
    ----------
    path : str or path-like
        CSV file with a header row.
    targets : list of str
        Target column names.
    sep : str or None, default=None
        Column delimiter; None guesses it from the file.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_features)
        Every column but the targets, in file order, as pandas reads them: text
        columns stay text, and missing values stay missing (numeric columns
        hold NaN). :func:`sknnfit.bench.tabular.needs_preprocessing` says
        whether a model needs imputation and encoding in front.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets), dtype float64
        The target(s); 1-D for a single target.
    feature_names : list of str
        The feature columns.

    Raises
    ------
    CLIError
        When the file is missing or unreadable, a target column is missing (the
        message lists the columns), a target is not numeric (named) or has
        missing values, or no feature column is left.
    """
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    if not targets:
        raise CLIError(
            "--csv needs the target column: add --target COLUMN (repeat it for "
            "several targets)."
        )
    path = Path(path)
    df = read_csv(path, sep)
    columns = list(df.columns)
    missing = [t for t in targets if t not in columns]
    if missing:
        raise CLIError(
            f"Target column(s) {missing} not found in {path.name}. Available "
            f"columns: {columns}. Pass one of them with --target (or the "
            "delimiter with --sep if the columns are not split right)."
        )
    if len(set(targets)) != len(targets):
        raise CLIError(f"--target was given the same column twice: {targets}.")
    features = [c for c in columns if c not in targets]
    if not features:
        raise CLIError(
            f"{path.name} has no feature columns besides the target(s) {targets}."
        )
    bad = [t for t in targets if not (is_numeric_dtype(df[t]) or is_bool_dtype(df[t]))]
    if bad:
        example = df[bad[0]].dropna().iloc[0] if df[bad[0]].notna().any() else ""
        comma = isinstance(example, str) and _decimal_comma(example)
        raise CLIError(
            f"Target column(s) {bad} of {path.name} are not numeric (e.g. "
            f"{bad[0]}={example!r}). sknnfit fits regressors: the targets must be "
            "numbers. Pass a numeric column with --target."
            + (
                " The values look like numbers with a decimal comma: write them "
                "with a decimal point (e.g. pandas.read_csv(..., decimal=',') and "
                "to_csv), and the columns with another delimiter."
                if comma
                else ""
            )
        )
    n_missing = df[list(targets)].isna().sum()
    n_missing = n_missing[n_missing > 0]
    if len(n_missing):
        counts = ", ".join(f"{c}: {n}" for c, n in n_missing.items())
        raise CLIError(
            f"{path.name} has rows without a target value ({counts}). Drop those "
            "rows first (missing feature values are fine: they are imputed)."
        )
    y = df[list(targets)].to_numpy(dtype=np.float64)
    return df[features], (y[:, 0] if len(targets) == 1 else y), features


def _decimal_comma(text):
    """Whether ``text`` reads as a number once its one comma is a point."""
    if text.count(",") != 1:
        return False
    try:
        float(text.replace(",", "."))
    except ValueError:
        return False
    return True


def _describe_features(X):
    """``"3 features"``, plus what preprocessing will do to them."""
    from .bench.tabular import needs_preprocessing

    text = f"{X.shape[1]} features"
    if not needs_preprocessing(X):
        return text
    from pandas.api.types import is_numeric_dtype

    text_columns = [c for c in X.columns if not is_numeric_dtype(X[c])]
    n_missing = int(X.isna().to_numpy().sum())
    parts = []
    if text_columns:
        parts.append(f"text column(s) {text_columns} encoded")
    if n_missing:
        parts.append(f"{n_missing} missing value(s) imputed")
    return f"{text} ({' and '.join(parts)} inside each model)"


# ---------------------------------------------------------------------- output


def check_out_dir(path):
    """Make sure the folder ``path`` can be written, creating it if need be.

    Called before any fit, so an output folder that cannot be written is found
    at once, not after the fits.

    Raises
    ------
    CLIError
        Naming the path and the reason, and suggesting ``--out``.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        why = exc.strerror or str(exc)
        if path.exists() and not path.is_dir():
            why = "it is a file, not a folder"
        raise CLIError(
            f"Cannot write to the output folder {str(path)!r}: {why}. Choose a "
            "folder you can write to with --out DIR."
        ) from None


def check_out_file(path):
    """Make sure a file can be written at ``path`` (before the work is done).

    Raises
    ------
    CLIError
        When the folder is missing or not writable, or ``path`` is a folder;
        the message names the path and suggests ``-o``.
    """
    path = Path(path)
    folder = path.parent
    why = None
    if path.is_dir():
        why = "it is a folder; give a file name, e.g. -o model.sknnfit"
    elif not folder.is_dir():
        why = f"the folder {str(folder)!r} does not exist; create it first"
    elif not os.access(folder, os.W_OK | os.X_OK) or (
        path.exists() and not os.access(path, os.W_OK)
    ):
        why = "permission denied; choose a path you can write to"
    if why is not None:
        raise CLIError(f"Cannot write {str(path)!r}: {why}.")


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
        if args.target or args.sep is not None:
            raise CLIError("--target and --sep go with --csv FILE.")
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


#: ``--csv`` data needs at least this many rows: 2 test rows of the 80/20 split
#: (R² needs two), 8 to train on.
MIN_CSV_ROWS = 10


def _csv_plan(args):
    """``(problems, problem_kwargs, description lines)`` for --csv data."""
    from .bench.tabular import needs_preprocessing

    X, y, _ = load_csv(args.csv, args.target, args.sep)
    label = args.csv.stem
    least = max(MIN_CSV_ROWS, 2 * (args.cv or 0))
    if len(X) < least:
        raise CLIError(
            f"{args.csv.name} has {len(X)} rows: too few to compare models. Pass at "
            f"least {least}: each test part needs 2 rows for R², and the rest "
            "trains."
        )
    split = f"{args.cv}-fold CV" if args.cv else "80/20 train/test split per seed"
    plan = [
        f"{label}: {len(X)} rows, {_describe_features(X)} -> "
        f"{', '.join(args.target)}; {split}"
    ]
    # compare() puts imputation and encoding inside each model for a raw
    # table; a plain numeric one goes in as numbers, as before.
    if not needs_preprocessing(X):
        X = X.to_numpy(dtype=np.float64)
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


def _write_files(args, df, summary, per_target, predictions):
    """Write results.csv, summary.csv, per_target.csv and the plots; the paths
    written."""
    args.out.mkdir(parents=True, exist_ok=True)
    written = [args.out / "results.csv", args.out / "summary.csv"]
    df.to_csv(written[0], index=False)
    summary.to_csv(written[1], index=False)
    if per_target["target"].nunique() > 1:
        written.append(args.out / "per_target.csv")
        per_target.to_csv(written[-1], index=False)
    # A fit cut short by Ctrl-C has no predictions to draw.
    predictions = {k: v for k, v in predictions.items() if v["y_pred"] is not None}
    if predictions and not args.no_plots:
        from .bench.plots import save_plots

        written += save_plots(predictions, args.out)
    return written


def _print_report(args, df, summary, per_target, elapsed, written):
    from .bench.report import (
        format_interrupted,
        format_per_target,
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
    each = format_per_target(per_target)
    if each:
        print("\nThe same for each target (the table above averages them):\n")
        print(each)
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
    from .bench.report import per_target_summary

    _check_args(args)
    check_out_dir(args.out)  # before the fits, not after them
    if args.csv is not None:
        problems, problem_kwargs, plan = _csv_plan(args)
        target_names = {args.csv.stem: args.target}
    else:
        problems, problem_kwargs, plan = _problem_plan(args)
        target_names = None
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
        per_target = per_target_summary(predictions, target_names)
        written = _write_files(args, df, summary, per_target, predictions)
        _print_report(args, df, summary, per_target, elapsed, written)
    if df.attrs.get("interrupted"):  # Ctrl-C: compare kept what finished
        if df.empty:
            print("\nNo fit finished; nothing written.")
        print("sknnfit compare: interrupted by the user", file=sys.stderr)
        return 130
    return 0


def _fit(args):
    from . import save
    from ._codec import Encoder
    from .bench import make_model
    from .bench.tabular import needs_preprocessing, with_preprocessing

    check_out_file(args.out)  # before the fit, not after it
    X, y, _ = load_csv(args.csv, args.target, args.sep)
    model = make_model(args.model, random_state=args.seed)
    if needs_preprocessing(X):
        model = with_preprocessing(model, X)
    try:
        Encoder()(model, "model")  # the unfitted model: can the file hold it?
    except (TypeError, ValueError) as exc:
        raise CLIError(
            f"--model {args.model} cannot be saved by sknnfit fit: {exc} Use "
            "--model nn or nn-auto-target, or fit that model in Python and save "
            "it with joblib.dump."
        ) from None
    print(
        f"sknnfit fit: {args.model} on {args.csv.name}: {len(X)} rows, "
        f"{_describe_features(X)} -> {', '.join(args.target)}"
    )
    sys.stdout.flush()
    start = time.perf_counter()
    model.fit(X, y)
    elapsed = time.perf_counter() - start
    # Read back by sknnfit predict for the header of its output; stored in
    # the file with the other fitted attributes.
    model.target_names_ = list(args.target)
    save(model, args.out)
    print(f"Fitted in {elapsed:.1f} s; wrote {args.out}")
    print(f"Predict with: sknnfit predict {args.out} NEW.csv -o predictions.csv")
    return 0


def _feature_columns(model, df, path):
    """The columns of ``df`` the model was fitted on, in its order."""
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        n = model.n_features_in_
        if df.shape[1] != n:
            raise CLIError(
                f"The model takes {n} feature columns (it was fitted without "
                f"column names); {path.name} has {df.shape[1]}."
            )
        return df
    names = [str(c) for c in names]
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise CLIError(
            f"{path.name} lacks the feature column(s) {missing} that the model was "
            f"fitted on; it needs {names} (other columns are ignored). Rename or "
            "add those columns, or pass the delimiter with --sep if the columns "
            "are not split right."
        )
    return df[names]


def _predict(args):
    from . import load

    check_out_file(args.out)
    if not args.model.is_file():
        raise CLIError(f"Model file {str(args.model)!r} does not exist.")
    model = load(args.model)
    df = read_csv(args.csv, args.sep)
    X = _feature_columns(model, df, args.csv)
    y_pred = np.asarray(model.predict(X), dtype=np.float64)
    y_pred = y_pred.reshape(len(X), -1)
    names = getattr(model, "target_names_", None)
    if names is None or len(names) != y_pred.shape[1]:
        names = (
            ["prediction"]
            if y_pred.shape[1] == 1
            else [f"prediction_{i}" for i in range(y_pred.shape[1])]
        )
    pd.DataFrame(y_pred, columns=list(names)).to_csv(args.out, index=False)
    print(
        f"sknnfit predict: wrote {len(y_pred)} predictions of "
        f"{', '.join(names)} to {args.out}"
    )
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
    except (CLIError, ValueError, ImportError, OSError) as exc:
        print(f"sknnfit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nsknnfit {args.command}: interrupted by the user", file=sys.stderr)
        return 130
