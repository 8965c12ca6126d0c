"""Seed 002: "How to train a NN model to fit a quadratic function (y = x^2)?"

Problem ``square``: y = x^2 from 1,000 points on [-2, 2], tested on [-4, 4].
Inside [-2, 2] every model fits; outside it a network on its own extrapolates
roughly linearly, which is what the asker saw. ``rmse_inside`` and
``rmse_outside`` split the test error at the edges of the training range.
sknnfit's default fits a closed-form quadratic base under the network
(``base="auto"`` picks ``"poly2"`` with 20 or more rows per coefficient), which
extrapolates like x^2; ``base="none"`` shows the network alone, which bends
away from x^2 outside [-2, 2] as the asker's did.

The default ``--n-train 1000`` is the full problem and runs in under a minute.
"""

import argparse

from threadpoolctl import threadpool_limits

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit.bench import compare, format_results
from sknnfit.datasets import problem_info

PROBLEM = "square"
COLUMNS = ["model", "rmse", "rmse_inside", "rmse_outside", "fit_seconds", "warnings"]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-train", type=int, default=1000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument(
    "--max-epochs", type=int, help="NNRegressor max_epochs (smoke tests)"
)
args = parser.parse_args()


def nn(**params):
    if args.max_epochs:
        params["max_epochs"] = args.max_epochs
    return TargetTransformRegressor(
        NNRegressor(random_state=args.seed, **params), target="auto"
    )


models = {
    "sknnfit default": nn(),
    "poly": "poly",
    "hgb": "hgb",
    "network alone: base='none'": nn(base="none"),
}

full = problem_info(PROBLEM)["n_train"]
print(f"{PROBLEM}: {args.n_train} training rows of the full {full}, seed {args.seed}")
if args.n_train < full:
    print(f"  (smaller than the full problem; --n-train {full} for all of it)")
# One thread for every model (threadpoolctl limits PyTorch's OpenMP threads too):
# like-for-like fit times, and no collapse of OpenMP threads on a busy machine.
with threadpool_limits(1):
    df = compare(
        PROBLEM,
        models,
        seeds=(args.seed,),
        problem_kwargs={"n_train": args.n_train},
        progress=False,
    )
print(format_results(df, COLUMNS))
