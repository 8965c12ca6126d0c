"""The seed problems by default: sknnfit's default model on every reference problem.

``python benchmarks/goals.py`` fits ``TargetTransformRegressor(NNRegressor(
random_state=seed), target="auto")`` — nothing else set — on the five reference
problems at full size, for seeds 0, 1 and 2, through :func:`sknnfit.bench.compare`,
prints the metrics the goals are stated in (median and range over seeds), and
writes ``benchmarks/results/goals.md`` and ``goals.csv``.

``--param NAME=VALUE`` (repeatable) measures a recipe instead: the same model
with those NNRegressor parameters set, written to ``goals_NAME-VALUE.md/csv``
so the default's results stay as they are. For example
``python benchmarks/goals.py --problems steep25x19 formula5 --param
precision=bfloat16``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import os
import platform
import shlex
from pathlib import Path

import pandas as pd

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit.bench import compare
from sknnfit.bench.report import markdown_table

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


def default_model(**params):
    """The default the goals are about (random_state is set per seed by compare).

    ``params`` are NNRegressor parameters of a recipe; none gives the default.
    """
    return TargetTransformRegressor(
        NNRegressor(random_state=0, **params), target="auto"
    )


def parse_param(text):
    """``"NAME=VALUE"`` -> (name, value); VALUE is a Python literal or a string."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(
            f"--param takes NAME=VALUE, for example precision=bfloat16; got {text!r}"
        )
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # a bare word such as bfloat16 stays a string
    return name.strip(), value


def recipe_name(params):
    """Label and file stem of a recipe: "sknnfit-default" / "goals" without one."""
    if not params:
        return "sknnfit-default", "goals"
    tag = "_".join(f"{k}-{v}" for k, v in params.items())
    tag = "".join(c if c.isalnum() or c in "-_." else "" for c in tag)
    return f"sknnfit-{tag}", f"goals_{tag}"


def run(problems=PROBLEMS, seeds=3, problem_kwargs=None, params=None):
    """Fit the default (or a recipe) on each problem and seed: compare's frame."""
    params = dict(params or {})
    label, _ = recipe_name(params)
    return compare(
        list(problems),
        {label: default_model(**params)},
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
    parser.add_argument(
        "--param",
        action="append",
        type=parse_param,
        default=[],
        metavar="NAME=VALUE",
        help="an NNRegressor parameter of a recipe to measure instead of the "
        "default (repeatable); results go to goals_NAME-VALUE.md/csv",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    params = dict(args.param)
    _, stem = recipe_name(params)
    df = run(args.problems, args.seeds, params=params)
    command = (
        f"`python benchmarks/goals.py --problems {' '.join(args.problems)} "
        f"--seeds {args.seeds}{' --keep-others' if args.keep_others else ''}"
        + "".join(f" --param {shlex.quote(f'{k}={v}')}" for k, v in params.items())
        + "`"
    )
    kept = ""
    if args.keep_others and (out / f"{stem}.csv").exists():
        old = pd.read_csv(out / f"{stem}.csv")
        old = old[~old["problem"].isin(args.problems)]
        df = pd.concat([old, df], ignore_index=True)
        if len(old):
            kept = (
                f" Rows of {', '.join(old['problem'].unique())} kept from the "
                f"previous {stem}.csv."
            )
    table = markdown_table(goal_table(df))
    what = "Default model" if not params else f"Recipe {params}"
    header = (
        f"{what} on the reference problems, measured {dt.date.today()} on "
        f"{platform.machine()} ({os.cpu_count()} cores), seeds 0..{args.seeds - 1}, "
        f"full problem sizes, one fit at a time.\nCommand: {command}.{kept}\n"
    )
    print(header)
    print(table)
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / f"{stem}.csv", index=False)
    (out / f"{stem}.md").write_text(header + "\n" + table + "\n")
    return df


if __name__ == "__main__":
    main()
