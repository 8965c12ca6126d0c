"""Seed 000: "How to learn steep functions using neural network?"

Problem ``steep25x19``: 25 inputs on [0, 1], 19 outputs, each a narrow 2-D bump
on a linear map. Runs the answer's self-test (can the model learn X -> X?),
then scores the sknnfit default, a polynomial and a tree baseline, and the
recipe; ``peak_nmae`` is the error on the top 1% of each output, over its std.

The self-test passes: the quadratic base reproduces X exactly, with or without the
appended log columns. Measured with this script (seed 0, 20,000 rows, session
24's 2-core CPU): the default reached nrmse 0.063 and peak_nmae 0.31 in 18 s;
the tree baseline 0.138 and 0.47, the polynomial 0.78 and 5.3. The recipe,
``n_ensemble=2`` (the average of two nets from different seeds), got 0.053 and
0.28 for twice the time. With all 200,000 rows the default trains a wider network
(``hidden_layer_sizes="auto"``: three layers of 192 instead of 128 for a million
target values or more, and of 256 where they are also 15 or more per parameter
and the network trains 5,000 steps or more) with periodic features of the inputs
(``embedding="auto"``), in bfloat16 where the CPU or GPU has it
(``precision="auto"``), trained by Muon with a linear schedule
(``lr_schedule="auto"``), and reaches nrmse 0.0040-0.0045 and peak_nmae
0.0081-0.0093 over seeds 0-2, every goal of issues 4 and 14 on every seed
(``benchmarks/results/goals.md``, two threads, 70-85 s a fit on a 2-core CPU
with AVX512-BF16). The default ``--n-train 20000`` takes about 4 minutes for the
whole script on a 2-core CPU.
"""

import argparse
import time

from threadpoolctl import threadpool_limits

from sknnfit import NNRegressor, TargetTransformRegressor
from sknnfit.bench import compare, format_results
from sknnfit.datasets import make_problem, problem_info
from sknnfit.diagnostics import identity_check

PROBLEM = "steep25x19"
COLUMNS = ["model", "nrmse", "r2", "peak_nmae", "fit_seconds", "warnings"]

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-train", type=int, default=20000)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument(
    "--max-epochs", type=int, help="NNRegressor max_epochs (smoke tests)"
)
args = parser.parse_args()


def nn(**params):
    if args.max_epochs:  # smoke tests cut every net short, the recipes' too
        params["max_epochs"] = args.max_epochs
    return TargetTransformRegressor(
        NNRegressor(random_state=args.seed, **params), target="auto"
    )


full = problem_info(PROBLEM)["n_train"]
print(f"{PROBLEM}: {args.n_train} training rows of the full {full}, seed {args.seed}")
if args.n_train < full:
    print(f"  (smaller than the full problem; --n-train {full} for all of it)")

# The answer's first advice: check that the set-up can reproduce its own inputs.
X_train = make_problem(PROBLEM, args.seed, n_train=args.n_train)[0]
for name, model in [
    ("sknnfit default", nn()),
    ("standard inputs", nn(input_transform="standard")),
]:
    start = time.perf_counter()
    report = identity_check(model, X_train)
    print(
        f"identity check, {name}: {'PASSED' if report.attrs['passed'] else 'FAILED'}"
        f" (mean nRMSE {report.attrs['nrmse']:.2e}, worst "
        f"{report['nrmse'].max():.2e}, {time.perf_counter() - start:.0f} s)"
    )

models = {
    "sknnfit default": nn(),
    "poly": "poly",
    "hgb": "hgb",
    "recipe: n_ensemble=2": nn(n_ensemble=2),
}
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
