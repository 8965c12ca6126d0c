"""The seed problems by default: sknnfit's default model on every reference problem.

``python benchmarks/goals.py`` fits ``TargetTransformRegressor(NNRegressor(
random_state=seed), target="auto")`` — nothing else set — on the five reference
problems at full size, for seeds 0, 1 and 2, through :func:`sknnfit.compare`,
prints the metrics the goals are stated in (median and range over seeds), and
writes ``benchmarks/results/goals.md`` and ``goals.csv``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
from pathlib import Path

import pandas as pd

from sknnfit import NNRegressor, TargetTransformRegressor, compare

#: (problem, metric, goal, direction) as issue 4 states them.
GOALS = [
    ("identity25", "nrmse", 0.001, "<="),
    ("steep25x19", "peak_nmae", 0.05, "<="),
    ("steep25x19", "nrmse", 0.015, "<="),
    ("formula5", "median_rel_error", 0.003, "<="),
    ("formula5", "r2", 0.9995, ">="),
    ("square", "rmse_inside", 0.0002, "<="),
    ("square", "rmse_outside", 0.01, "<="),
    ("noisy_sin", "rmse", 0.0035, "<="),
    ("noisy_sin", "n_extrema", 3, "=="),
]

PROBLEMS = ("identity25", "square", "noisy_sin", "formula5", "steep25x19")


def default_model():
    """The default the goals are about (random_state is set per seed by compare)."""
    return TargetTransformRegressor(NNRegressor(random_state=0), target="auto")


def run(problems=PROBLEMS, seeds=3, problem_kwargs=None):
    """Fit the default on each problem and seed; return the tidy frame of compare."""
    return compare(
        list(problems),
        {"sknnfit-default": default_model()},
        seeds=seeds,
        problem_kwargs=problem_kwargs,
    )


def goal_table(df):
    """One row per goal: the values over seeds, their median and whether all meet it."""
    rows = []
    for problem, metric, goal, op in GOALS:
        sub = df[df["problem"] == problem]
        if sub.empty:
            continue
        values = sub[metric].to_numpy()
        if op == "<=":
            ok = (values <= goal).all()
        elif op == ">=":
            ok = (values >= goal).all()
        else:
            ok = (values == goal).all()
        rows.append(
            {
                "problem": problem,
                "metric": metric,
                "goal": f"{op} {goal:g}",
                "median": float(pd.Series(values).median()),
                "per seed": ", ".join(f"{v:.4g}" for v in values),
                "all seeds meet it": "yes" if ok else "no",
                "max fit s": float(sub["fit_seconds"].max()),
            }
        )
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    parser.add_argument(
        "--keep-others",
        action="store_true",
        help="keep the rows of the other problems from the existing goals.csv "
        "(to rerun some problems after a change that only touches them)",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    df = run(args.problems, args.seeds)
    command = (
        f"`python benchmarks/goals.py --problems {' '.join(args.problems)} "
        f"--seeds {args.seeds}{' --keep-others' if args.keep_others else ''}`"
    )
    kept = ""
    if args.keep_others and (out / "goals.csv").exists():
        old = pd.read_csv(out / "goals.csv")
        old = old[~old["problem"].isin(args.problems)]
        df = pd.concat([old, df], ignore_index=True)
        if len(old):
            kept = (
                f" Rows of {', '.join(old['problem'].unique())} kept from the "
                "previous goals.csv."
            )
    table = goal_table(df)
    header = (
        f"Default model on the reference problems, measured {dt.date.today()} on "
        f"{platform.machine()} ({os.cpu_count()} cores), seeds 0..{args.seeds - 1}, "
        f"full problem sizes, one fit at a time.\nCommand: {command}.{kept}\n"
    )
    print(header)
    print(table.to_markdown(index=False, floatfmt=".4g"))
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "goals.csv", index=False)
    (out / "goals.md").write_text(
        header + "\n" + table.to_markdown(index=False, floatfmt=".4g") + "\n"
    )
    return df


if __name__ == "__main__":
    main()
