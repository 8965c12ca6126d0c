"""Benchmark: does a transformed target help NNRegressor on the reference problems?

Fits ``TargetTransformRegressor(NNRegressor(random_state=seed), target=kind)`` on
each problem, seed and target kind through :func:`sknnfit.bench.compare`, and
keeps its :func:`~sknnfit.bench.metrics.r2` and
:func:`~sknnfit.bench.metrics.median_relative_error` of the test set.

``target="log"`` needs ``y > 0``; where a problem's training targets are not all
positive (both default problems have signed targets) it is replaced by
``"asinh"``, its signed cousin, and the ``target`` column says which kind ran.

Run the full benchmark (default sizes, three seeds) with::

    python benchmarks/targets.py

which prints the table and writes ``benchmarks/results/targets.md``. A quick
check that it works::

    python benchmarks/targets.py --n-train 2000 --max-epochs 5 --seeds 0 \\
        --output /tmp/targets.md
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
from pathlib import Path

import pandas as pd
import sklearn
import torch

from sknnfit.bench import compare
from sknnfit.bench.report import markdown_table
from sknnfit.datasets import make_problem
from sknnfit.estimators import NNRegressor
from sknnfit.targets import TargetTransformRegressor

COLUMNS = ["problem", "target", "seed", "r2", "median_rel_error", "fit_seconds"]
RESULTS = Path(__file__).resolve().parent / "results" / "targets.md"


def _kind_for(kind, y_train):
    """``kind``, with "log" replaced by "asinh" when some target is <= 0."""
    if kind == "log" and (y_train <= 0).any():
        return "asinh"
    return kind


def run(
    problems=("steep25x19", "formula5"),
    targets=("standard", "log", "rank"),
    seeds=(0, 1, 2),
    n_train=None,
    *,
    n_test=None,
    regressor=None,
    verbose=False,
):
    """Fit and score a TargetTransformRegressor per problem, target kind and seed.

    Parameters
    ----------
    problems : tuple of str, default=("steep25x19", "formula5")
        Names for :func:`sknnfit.datasets.make_problem`.
    targets : tuple of str, default=("standard", "log", "rank")
        Target kinds; ``"log"`` runs as ``"asinh"`` on problems with targets
        <= 0 (the ``target`` column records the kind that ran; ``"auto"`` is
        recorded as ``"auto"``). A kind that becomes a duplicate this way runs
        once.
    seeds : tuple of int, default=(0, 1, 2)
        Seeds of the problem data and of the regressor.
    n_train, n_test : int or None, default=None
        Training and test rows; None uses each problem's default size.
    regressor : estimator or None, default=None
        Regressor to wrap, cloned for each run with ``random_state=seed``.
        None means ``NNRegressor()`` with its defaults.
    verbose : bool, default=False
        Print one line per finished run.

    Returns
    -------
    results : pandas.DataFrame
        One row per run, with columns problem, target, seed, r2,
        median_rel_error and fit_seconds.
    """
    base = NNRegressor() if regressor is None else regressor
    sizes = {"n_train": n_train, "n_test": n_test}
    frames = []
    for problem in problems:
        for seed in seeds:
            # The kinds depend on this seed's training targets (log needs y > 0).
            _, y_train, _, _ = make_problem(problem, random_state=seed, **sizes)
            kinds = dict.fromkeys(_kind_for(k, y_train) for k in targets)
            models = {k: TargetTransformRegressor(base, target=k) for k in kinds}
            # compare clones each model and sets regressor__random_state=seed.
            df = compare(
                problem, models, seeds=[seed], problem_kwargs=sizes, progress=False
            )
            df = df.rename(columns={"model": "target"})
            frames.append(df[COLUMNS])
            if verbose:
                for row in df.itertuples():
                    print(
                        f"{problem} {row.target} seed={seed}: r2={row.r2:.4f} "
                        f"median_rel_error={row.median_rel_error:.3g} "
                        f"({row.fit_seconds:.1f} s)",
                        flush=True,
                    )
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)


def summarise(results):
    """Mean and standard deviation over seeds per problem and target kind."""
    return (
        results.groupby(["problem", "target"], sort=False)
        .agg(
            r2_mean=("r2", "mean"),
            r2_std=("r2", "std"),
            median_rel_error_mean=("median_rel_error", "mean"),
            fit_seconds_mean=("fit_seconds", "mean"),
            n_seeds=("seed", "count"),
        )
        .reset_index()
    )


def _machine():
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return (
        f"{platform.platform()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} logical CPUs, GPU: {gpu}; Python "
        f"{platform.python_version()}, torch {torch.__version__}, scikit-learn "
        f"{sklearn.__version__}"
    )


def write_markdown(results, path, command, settings):
    """Write the results with date, machine, settings and command to ``path``."""
    summary = summarise(results)
    lines = [
        "# Target transforms for NNRegressor",
        "",
        f"- Date: {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"- Machine: {_machine()}",
        f"- Command: `{command}`",
        f"- Settings: {settings}",
        "- `log` runs as `asinh` where the training targets are not all positive.",
        "",
        "## Mean over seeds",
        "",
        markdown_table(summary),
        "",
        "## Every run",
        "",
        markdown_table(results),
        "",
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines))


def main(argv=None):
    """Command line: run the benchmark, print it and write the Markdown file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=["steep25x19", "formula5"])
    parser.add_argument("--targets", nargs="+", default=["standard", "log", "rank"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-test", type=int, default=None)
    parser.add_argument(
        "--max-epochs", type=int, default=None, help="NNRegressor max_epochs"
    )
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args(argv)

    regressor = NNRegressor()
    if args.max_epochs is not None:
        regressor.set_params(max_epochs=args.max_epochs)
    results = run(
        tuple(args.problems),
        tuple(args.targets),
        tuple(args.seeds),
        args.n_train,
        n_test=args.n_test,
        regressor=regressor,
        verbose=True,
    )
    print(summarise(results).to_string(index=False))
    settings = (
        f"n_train={args.n_train or 'default'}, n_test={args.n_test or 'default'}, "
        f"NNRegressor max_epochs={regressor.max_epochs}, other parameters default"
    )
    command = shlex.join(["python", *sys.argv]) if argv is None else str(argv)
    write_markdown(results, args.output, command, settings)
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
