"""The precision goals of issue 14, measured (sknnfit.bench.precision_goals).

``python benchmarks/precision_goals.py`` runs three parts and writes
``benchmarks/results/precision_goals.md`` with:

- ``stages``: :func:`~sknnfit.bench.precision_goals.stage_curves` of clean sin
  (default and float64, ``guard=False``: by default a polynomial fits it
  exactly and no network is trained) and formula5, ``n_stages="auto"``, to
  ``precision_goals_stages.csv`` and the plot ``precision_goals_stages.png``;
- ``goals``: :func:`~sknnfit.bench.precision_goals.precision_goals` (the fits
  already made by ``stages`` are taken from it), to ``precision_goals.csv``,
  and the goal table;
- ``cost``: :func:`~sknnfit.bench.precision_goals.epoch_cost`, to
  ``precision_goals_cost.csv``.

``--parts`` runs some of them; the others are read from their CSV files.
``--stage-problems`` refits the curves of some problems (the rows of other
problems and seeds are kept; a formula of the suite, such as ``II.2.42``, is
fitted in float32 and float64 as clean sin is) and ``--problems`` some goal
problems (the rows of the others are kept). formula5 gets
``--formula5-seeds`` (seed 0 by default) at ``--formula5-n-train`` rows
(20,000; its reference size is 100,000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
from pathlib import Path

import pandas as pd

from sknnfit.bench.precision_goals import (
    FORMULA5_N_TRAIN,
    epoch_cost,
    goal_table,
    plot_stage_curves,
    precision_goals,
    stage_curves,
)
from sknnfit.bench.report import markdown_table

PARTS = ("stages", "goals", "cost")


def _read(path):
    return pd.read_csv(path) if path.exists() else None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--formula5-seeds", nargs="*", type=int, default=[0])
    parser.add_argument("--formula5-n-train", type=int, default=FORMULA5_N_TRAIN)
    parser.add_argument(
        "--problems", nargs="+", default=None, help="goal problems to refit"
    )
    parser.add_argument(
        "--stage-problems",
        nargs="+",
        default=["clean_sin", "formula5"],
        help="stage curves to refit (the other rows of the CSV are kept): "
        "clean_sin, formula5, or a formula of the suite such as II.2.42 "
        "(fitted in float32 and float64, as clean_sin)",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "stages": out / "precision_goals_stages.csv",
        "goals": out / "precision_goals.csv",
        "cost": out / "precision_goals_cost.csv",
    }
    frames = {part: _read(path) for part, path in paths.items()}
    formula5 = {"n_train": args.formula5_n_train}
    if "stages" in args.parts:
        curves = []
        for problem in args.stage_problems:
            if problem != "formula5":
                # The guard off: by default a closed form that fits exactly
                # (clean sin: a polynomial of degree 13-16) trains no network.
                curves += [
                    stage_curves(problem, args.seeds, n_stages="auto", guard=False),
                    stage_curves(
                        problem,
                        args.seeds,
                        n_stages="auto",
                        guard=False,
                        precision="float64",
                    ),
                ]
        if "formula5" in args.stage_problems and args.formula5_seeds:
            curves.append(
                stage_curves(
                    "formula5",
                    args.formula5_seeds,
                    n_stages="auto",
                    target="auto",
                    **formula5,
                )
            )
        old = frames["stages"]
        if old is not None:
            refit = [
                problem in args.stage_problems
                and seed
                in (args.formula5_seeds if problem == "formula5" else args.seeds)
                for problem, seed in zip(old["problem"], old["seed"], strict=True)
            ]
            curves.insert(0, old[~pd.Series(refit, index=old.index)])
        frames["stages"] = pd.concat(curves, ignore_index=True)
        frames["stages"].to_csv(paths["stages"], index=False)
    if "goals" in args.parts:
        fits = precision_goals(
            args.seeds,
            formula5_seeds=args.formula5_seeds,
            formula5_n_train=args.formula5_n_train,
            problems=args.problems,
            curves=frames["stages"],
        )
        if args.problems and frames["goals"] is not None:
            old = frames["goals"]
            fits = pd.concat(
                [old[~old["problem"].isin(args.problems)], fits], ignore_index=True
            )
        frames["goals"] = fits
        fits.to_csv(paths["goals"], index=False)
    if "cost" in args.parts:
        frames["cost"] = epoch_cost()
        frames["cost"].to_csv(paths["cost"], index=False)
    if frames["stages"] is not None:
        plot_stage_curves(frames["stages"]).savefig(
            out / "precision_goals_stages.png", dpi=110
        )
    command = "python benchmarks/precision_goals.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    text = [
        "# Precision goals (issue 14)",
        "",
        f"Measured {dt.date.today()} on {platform.machine()} ({os.cpu_count()} "
        "cores, shared with other benchmark runs), one fit at a time, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}. "
        f"Last command: `{command.strip()}` (parts: {', '.join(args.parts)}; "
        "the others read from their CSV files). Every fit is NNRegressor with "
        "its defaults except what the setting names; medians over the seeds "
        "listed; the per-fit rows are in precision_goals.csv.",
    ]
    if frames["goals"] is not None:
        text += ["", "## Goals", "", markdown_table(goal_table(frames["goals"]))]
    if frames["stages"] is not None:
        columns = [
            *("problem", "params", "precision", "seed", "n_train", "stage"),
            *("rmse", "nrmse"),
            *("median_rel_error", "validation_rmse", "stage_seconds", "epochs"),
        ]
        text += [
            "",
            "## Error against stage (n_stages='auto': the stages kept)",
            "",
            "Test error of the model summed up to each stage; params: the "
            "NNRegressor parameters set besides n_stages (clean sin's stages "
            "with guard=False: by default a polynomial fits it exactly and no "
            "network is trained); validation_rmse "
            "is the held-out RMSE in stages_ (standard deviations of y). "
            "Plot: precision_goals_stages.png.",
            "",
            markdown_table(frames["stages"][columns]),
        ]
    if frames["cost"] is not None:
        columns = [
            *("precision", "seconds_per_epoch", "ratio_to_float32"),
            *("native_bfloat16", "hidden_layer_sizes", "n_train", "batch_size"),
            *("epochs", "warnings"),
        ]
        text += [
            "",
            "## Cost per epoch (formula5 rows, AdamW, early_stopping=False)",
            "",
            markdown_table(frames["cost"][columns]),
        ]
    report = "\n".join(text) + "\n"
    (out / "precision_goals.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
