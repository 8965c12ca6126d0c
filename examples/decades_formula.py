"""Seed 001: "Neural Net not able to learn simple analytical equation".

Problem ``formula5``: y = x5/x2 - (x1 - x2) / (2 x3 x4) * x2/x1, with inputs
spanning up to three decades and a heavy-tailed target. The asker's loss, a
relative L1 error, was stuck at 0.5-4. sknnfit takes the log of the
decade-spanning inputs and (with ``target="auto"``) a log or asinh of the target
on its own; compare its ``median_rel_error`` with the asker's 0.5.

What we measured (seed 0, 20,000 rows, this script): the default reached R² 0.9994
and a median relative error of 0.0034 in 43 s (400 passes, ``max_epochs="auto"``);
the polynomial 0.44 and 2.7, gradient boosting 0.79 and 0.25. The recipe,
``loss="peak"``, weights rows by how extreme their target is: at 20,000 rows it
matched the default (0.9994, 0.0039), at the full 100,000 rows it lifted R² where
the default misses the goal of 0.9995 (seed 1: 0.99938 -> 0.99974; seed 0: 0.99981
-> 0.99992, with the earlier lr of 3e-3). The asker's own loss,
``loss="relative"``, did worse than the default in earlier runs.
The full problem has 100,000 training rows; the default ``--n-train 20000``
runs in about two minutes on a 2-core CPU and says so when it runs.
"""

import argparse

from threadpoolctl import threadpool_limits

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit.bench import compare, format_results
from sknnfit.datasets import problem_info

PROBLEM = "formula5"
COLUMNS = ["model", "nrmse", "r2", "median_rel_error", "fit_seconds", "warnings"]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-train", type=int, default=20000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument(
    "--max-epochs", type=int, help="NNRegressor max_epochs (smoke tests)"
)
args = parser.parse_args()


def nn(**params):
    if args.max_epochs:  # smoke tests cut every net short, the recipe's too
        params["max_epochs"] = args.max_epochs
    return TargetTransformRegressor(
        NNRegressor(random_state=args.seed, **params), target="auto"
    )


models = {
    "sknnfit default": nn(),
    "poly": "poly",
    "hgb": "hgb",
    "recipe for the tails (R²): loss='peak'": nn(loss="peak"),
}

full = problem_info(PROBLEM)["n_train"]
print(f"{PROBLEM}: {args.n_train} training rows of the full {full}, seed {args.seed}")
if args.n_train < full:
    print(f"  (smaller than the full problem; --n-train {full} for all of it)")
# One thread per model, as NNRegressor uses by default: like-for-like fit times,
# and no collapse of the tree baseline's OpenMP threads on a busy machine.
with threadpool_limits(1):
    df = compare(
        PROBLEM,
        models,
        seeds=(args.seed,),
        problem_kwargs={"n_train": args.n_train},
        progress=False,
    )
print(format_results(df, COLUMNS))
