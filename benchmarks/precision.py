"""Epoch time of NNRegressor's default network in float32 and in bfloat16.

Run ``python benchmarks/precision.py`` (``--quick`` for a short smoke run). It fits
the default ``NNRegressor`` (only ``max_epochs``, ``precision``, ``n_threads``
and, for each ``--widths`` entry, three hidden layers of that width) on
steep25x19's full training set, alternating float32 and bfloat16 for each
``--threads`` count ``--repeats`` times, and reports the median seconds per epoch
from skorch's history, the ratios measured in this one run (bfloat16 against
float32, and each thread count against one thread), and whether this machine has
native bfloat16. Writes
``benchmarks/results/precision.md`` (``precision_busy.md`` with ``--busy``, which
times the fits beside a process that keeps one core busy). The accuracy of the two
precisions is in ``goals.md`` and ``goals_precision-*.md`` (``benchmarks/goals.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from sknnfit import NNRegressor
from sknnfit.bench.report import markdown_table
from sknnfit.datasets import make_problem
from sknnfit.modules import native_bfloat16


def epoch_seconds(X, y, precision, epochs, width=128, threads=1):
    """Median seconds per epoch of one default fit with ``precision``."""
    model = NNRegressor(
        (width,) * 3,
        max_epochs=epochs,
        precision=precision,
        n_threads=threads,
        random_state=0,
    )
    with warnings.catch_warnings():
        # Short timing fits stop "still improving" by design; an emulated
        # bfloat16 warns, and its time is what the table shows.
        warnings.simplefilter("ignore")
        model.fit(X, y)
    seconds = float(np.median([row["dur"] for row in model.net_.history]))
    return seconds, sum(p.numel() for p in model.net_.module_.parameters())


@contextlib.contextmanager
def busy_core(on=True):
    """Keep one core busy with a spinning Python process while the block runs."""
    if not on:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1.0)  # let it start spinning
        yield
    finally:
        spinner.kill()
        spinner.wait()


def run(n_train=None, epochs=8, repeats=2, widths=(128,), threads=(1,)):
    """Median epoch seconds per width, threads, precision and repeat; one row
    per fit."""
    X, y = make_problem("steep25x19", random_state=0, n_train=n_train)[:2]
    rows = []
    for repeat in range(repeats):
        for width, n_threads, precision in itertools.product(
            widths, threads, ("float32", "bfloat16")
        ):
            seconds, n_params = epoch_seconds(X, y, precision, epochs, width, n_threads)
            rows.append(
                {
                    "repeat": repeat,
                    "width": width,
                    "threads": n_threads,
                    "parameters": n_params,
                    "precision": precision,
                    "rows": len(X),
                    "epochs": epochs,
                    "seconds_per_epoch": seconds,
                }
            )
    return pd.DataFrame(rows)


def summary(df):
    """Per width and thread count: best-of-repeats seconds per epoch, the float32
    / bfloat16 ratio, the bfloat16 nanoseconds per row and parameter and, next
    to one thread, the speed-up of more threads."""
    keys = ["width", "parameters", "rows"]
    best_all = df.groupby([*keys, "threads", "precision"])["seconds_per_epoch"].min()
    rows = []
    for (width, n_params, n_rows, n_threads), sub in df.groupby([*keys, "threads"]):
        best = sub.groupby("precision")["seconds_per_epoch"].min()
        one = (width, n_params, n_rows, 1)
        rows.append(
            {
                "hidden": f"3 x {width}",
                "threads": n_threads,
                "parameters": n_params,
                "float32 s/epoch": best["float32"],
                "bfloat16 s/epoch": best["bfloat16"],
                "speed-up": best["float32"] / best["bfloat16"],
                "bfloat16 ns per row x parameter": best["bfloat16"]
                / (n_rows * n_params)
                * 1e9,
                "float32 vs 1 thread": best_all.get((*one, "float32"), np.nan)
                / best["float32"],
                "bfloat16 vs 1 thread": best_all.get((*one, "bfloat16"), np.nan)
                / best["bfloat16"],
                "native bfloat16": native_bfloat16("cpu"),
            }
        )
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 2 epochs")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--widths", type=int, nargs="+", default=[128], help="hidden widths to time"
    )
    parser.add_argument(
        "--threads", type=int, nargs="+", default=[1], help="torch threads to time"
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="time beside a busy process (a Python loop) that keeps one core busy",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    n_train, epochs = (20_000, 2) if args.quick else (None, 8)
    with busy_core(args.busy):
        df = run(n_train, epochs, args.repeats, tuple(args.widths), tuple(args.threads))
    table = markdown_table(summary(df), floatfmt=".3g")
    header = (
        f"Seconds per training epoch of the default NNRegressor on steep25x19 "
        f"({df['rows'].iloc[0]:,} rows, 25 inputs and their logs, 19 outputs; "
        f"three hidden layers of each width), measured {dt.date.today()} on "
        f"{platform.machine()} "
        f"({os.cpu_count()} cores), torch {torch.__version__}; best of "
        f"{args.repeats} alternating fits of {epochs} epochs each"
        f"{', beside a process keeping one core busy' if args.busy else ''}.\n"
        f"Command: `python benchmarks/precision.py"
        f"{' --quick' if args.quick else ''} --repeats {args.repeats} --widths "
        f"{' '.join(map(str, args.widths))} --threads "
        f"{' '.join(map(str, args.threads))}{' --busy' if args.busy else ''}`\n"
    )
    print(header)
    print(table)
    if not args.quick:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        name = "precision_busy.md" if args.busy else "precision.md"
        (out / name).write_text(header + "\n" + table + "\n")
    return df


if __name__ == "__main__":
    main()
