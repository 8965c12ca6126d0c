"""Seed 001: "Neural Net not able to learn simple analytical equation".

Problem ``formula5``: y = x5/x2 - (x1 - x2) / (2 x3 x4) * x2/x1, with inputs
spanning up to three decades and a heavy-tailed target. The asker's loss, a
relative L1 error, was stuck at 0.5-4. sknnfit takes the log of the
decade-spanning inputs and (with ``target="auto"``) a log or asinh of the target
on its own; compare its ``median_rel_error`` with the asker's 0.5.

What we measured (seed 0, 20,000 rows, this script): the default reached R² 0.9994
and a median relative error of 0.0034 in 42 s (400 passes, ``max_epochs="auto"``);
the polynomial 0.44 and 2.7, gradient boosting 0.79 and 0.25. The recipe,
``linear_skip=True``, adds a linear path from the network's inputs (the logs
included) to its output, which carries the formula's power laws into the sparse
corners where the largest targets lie. At 20,000 rows it traded R² for relative
error (0.9992, 0.0031); with the full 100,000 rows it met R² >= 0.9995 on every
seed, where the default misses it on seed 1 (seeds 0, 1, 2: 0.99987, 0.99970,
0.99983 against 0.99981, 0.99938, 0.99985), at the same median relative error
(0.0019-0.0020). On steep25x19 the same path raised nRMSE (seed 2: 0.020 ->
0.023), so it is a recipe, not the default.
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
    "recipe for the tails (R²): linear_skip=True": nn(linear_skip=True),
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
