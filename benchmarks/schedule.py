"""lr_schedule="linear" (the default) against "onecycle" where Muon or AdamW trains.

``python benchmarks/schedule.py`` fits ``NNRegressor(random_state=seed)`` with
each schedule, nothing else set, on problems where ``optimizer="auto"`` takes
Muon (noise-free and noisy formulas of the suite at 60,000 training rows,
steep25x19 at 20,000 rows, and AdamW there too), one fit at a time per worker
through :func:`sknnfit.bench.compare`, and writes
``benchmarks/results/schedule.md`` and ``schedule.csv``: each pair's nRMSE,
their ratio (below 1: linear is better), and the geometric mean of the
ratios. steep25x19 at full size is measured by ``benchmarks/goals.py``
(``--param lr_schedule=onecycle`` for the old schedule). Run it with
``OMP_NUM_THREADS=1``; ``--jobs 2`` runs two fits at a time.
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

SCHEDULES = ("onecycle", "linear")


def run_case(problem, n_train, seeds, optimizer="auto", n_jobs=None):
    """Each schedule's nRMSE on one problem, one row per seed."""
    models = {
        s: NNRegressor(random_state=0, optimizer=optimizer, lr_schedule=s)
        for s in SCHEDULES
    }
    frames = []
    for seed in seeds:
        res = compare(
            {problem: problem},
            models,
            seeds=[seed],
            problem_kwargs={"n_train": n_train},
            n_jobs=n_jobs,
            progress=False,
        )
        frames.append(res)
    res = pd.concat(frames)
    wide = res.pivot(index="seed", columns="model", values="nrmse")
    row = pd.DataFrame(
        {
            "problem": problem,
            "optimizer": optimizer,
            "n_train": n_train,
            "seed": wide.index,
            "onecycle": wide["onecycle"].to_numpy(),
            "linear": wide["linear"].to_numpy(),
        }
    )
    row["ratio"] = row["linear"] / row["onecycle"]
    return row


def report(table, command):
    """The Markdown page of a results table: the pairs and their geometric means."""
    noisy = table["problem"].str.contains("-noise")
    means = []
    for label, rows in [
        ("all", table),
        ("noise-free", table[~noisy]),
        ("noisy", table[noisy]),
    ]:
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
    args = parser.parse_args()
    rows = [run_case(p, n, s, n_jobs=args.jobs) for p, n, s in CASES]
    rows.append(run_case("steep25x19", 20_000, (0,), "adamw", n_jobs=args.jobs))
    table = pd.concat(rows, ignore_index=True)
    out = Path(__file__).parent / "results"
    table.to_csv(out / "schedule.csv", index=False)
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    command = f"OMP_NUM_THREADS={threads} python benchmarks/schedule.py"
    if args.jobs:
        command += f" --jobs {args.jobs}"
    text = report(table, command)
    (out / "schedule.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
