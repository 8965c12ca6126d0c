"""Tables too small to hold rows out (15-45 rows): the default against poly and a line.

``python benchmarks/small.py`` runs :func:`sknnfit.bench.small.run` (every
function, noisy and clean, 15, 30 and 45 rows, seeds 0 and 1, one fit at a time)
and writes ``benchmarks/results/small.csv`` (one row per fit) and ``small.md``
(:func:`sknnfit.bench.small.summary`). ``--label`` names the run in the file
names (``small_<label>.*``), to keep a run of another version beside it;
``--from-csv`` rewrites the table from the CSV of an earlier run. Run it
with OMP_NUM_THREADS set (e.g. 1) so fit times compare across machines.
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

import sknnfit
from sknnfit.bench.report import markdown_table
from sknnfit.bench.small import FUNCTIONS, run, summary


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--functions", nargs="+", choices=list(FUNCTIONS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[15, 30, 45])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--label", default="", help="file name suffix")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--from-csv", action="store_true", help="summarise the existing CSV again"
    )
    args = parser.parse_args(argv)
    given = [a for a in (argv or sys.argv[1:]) if a != "--from-csv"]
    command = shlex.join(["python", "benchmarks/small.py", *given])
    if args.from_csv:
        command += "` (table rebuilt from its CSV with `--from-csv`)"
    else:
        command += "`"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "small" + (f"_{args.label}" if args.label else "")
    if args.from_csv:
        frame = pd.read_csv(out / f"{stem}.csv")
    else:
        frame = run(args.functions, tuple(args.sizes), tuple(args.seeds))
        frame.to_csv(out / f"{stem}.csv", index=False)
    header = (
        f"# Small tables\n\nMeasured {dt.date.today()} on {platform.machine()} "
        f"({os.cpu_count()} cores), one fit at a time, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, sknnfit "
        f"{sknnfit.__version__} from {Path(sknnfit.__file__).parent}. Each model "
        "is scored on 2,000 new points against the noise-free function: RMSE "
        "over the noise level (a tenth of the function's standard deviation; "
        "for clean tables the same yardstick), medians over sizes and seeds; "
        "worst_ratio and within_1_1x compare sknnfit with the better of poly "
        f"and line on each table.\n\nCommand: `{command}.\n\n"
    )
    text = header + markdown_table(summary(frame)) + "\n"
    (out / f"{stem}.md").write_text(text)
    print(text)
    return frame


if __name__ == "__main__":
    main()
