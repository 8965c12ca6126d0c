"""The public benchmark suite: sknnfit's default against the baselines.

``python benchmarks/suite.py`` fits the default model ("nn") and the baselines
("poly", "hgb", "rf", "mlp", "lgbm", and pytabkit's RealMLP when installed) on
every problem of ``sknnfit.datasets.SUITE`` for seeds 0, 1 and 2, one fit at a
time, through :func:`sknnfit.bench.suite.run_suite`, and writes
``benchmarks/results/suite.csv`` (one row per fit, with versions and thread
counts) and ``suite.md`` (:func:`sknnfit.bench.suite.suite_report`). Both are
rewritten after every (problem, model), so a stopped run keeps what finished.

``--reuse`` keeps the rows of the existing suite.csv that this run does not
fit: ``python benchmarks/suite.py --models nn --reuse`` re-runs the default
and keeps the baselines. ``--resume`` (with ``--reuse``) also skips the fits the
CSV already holds, to finish a stopped run. Run it with OMP_NUM_THREADS set
(e.g. 1) so fit times compare across machines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shlex
import sys
from pathlib import Path

import pandas as pd

from sknnfit.bench.suite import default_models, run_suite, suite_report
from sknnfit.datasets import SUITE


def write(df, out, command):
    """Write suite.csv and suite.md under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "suite.csv", index=False)
    seeds = ", ".join(str(s) for s in sorted(df["seed"].unique()))
    header = (
        f"# Benchmark suite\n\nMeasured {dt.date.today()} on {platform.machine()} "
        f"({os.cpu_count()} cores), one fit at a time, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}; seeds "
        f"{seeds}; nRMSE is the test RMSE over the test targets' standard "
        "deviation, medians over seeds. Formulas: 7,500 training and 2,500 test "
        "rows; real tables: 75/25 split by seed; reference problems at the "
        "sizes in the n_train / n_test columns.\n\nLast command: "
        f"`{command}`. Versions and threads of every fit are in suite.csv.\n\n"
    )
    (out / "suite.md").write_text(header + suite_report(df))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--groups", nargs="+", choices=list(SUITE), help="groups (default: all)"
    )
    parser.add_argument("--problems", nargs="+", help="only these problems")
    parser.add_argument(
        "--models", nargs="+", help=f"models (default: {' '.join(default_models())})"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the rows of the existing suite.csv that this run does not fit",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with --reuse: also skip the fits the existing suite.csv holds",
    )
    args = parser.parse_args(argv)
    if args.resume and not args.reuse:
        parser.error("--resume reads the existing suite.csv: add --reuse.")
    out = Path(args.out)
    reuse = None
    if args.reuse and (out / "suite.csv").exists():
        reuse = pd.read_csv(out / "suite.csv", keep_default_na=False, na_values=[""])
    command = shlex.join(["python", "benchmarks/suite.py", *sys.argv[1:]])
    if argv is not None:
        command = shlex.join(["python", "benchmarks/suite.py", *argv])
    df = run_suite(
        args.groups,
        args.problems,
        args.models,
        args.seeds,
        reuse=reuse,
        resume=args.resume,
        callback=lambda frame: write(frame, out, command),
    )
    write(df, out, command)
    return df


if __name__ == "__main__":
    main()
