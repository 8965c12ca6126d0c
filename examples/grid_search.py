"""Grid search over the network and the target scale, then the best model vs baselines.

On formula5, a heavy-tailed physical formula, the scale the network learns the
target on matters as much as the network itself. This script searches both in
one scikit-learn Pipeline with GridSearchCV, then compares the best model with
the polynomial and tree baselines on the problem's held-out test set.

Run it as is: ``python examples/grid_search.py``. It is cut down to run in
about a minute on a laptop CPU: 1,500 training rows (of formula5's 100,000),
nets of at most 64x64 units trained for 40 epochs, a 3-fold search over 8
candidates, and the polynomial baseline limited to degree 4 (its default search
goes to 8). The numbers it prints are therefore rougher than
``sknnfit compare --problem formula5``. Warnings raised during the search
(short training, test rows outside the training box) are counted and printed
rather than shown one by one.

No scaler sees the test rows: ``inputs`` is a step of the Pipeline,
NNRegressor standardises inside ``fit``, and TargetTransformRegressor fits its
target scale inside ``fit``, so each cross-validation fold is scaled on its own
training rows.
"""

import warnings
from collections import Counter

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from sknnfit import NNRegressor
from sknnfit.bench import compare, summarize
from sknnfit.bench.baselines import make_baseline
from sknnfit.datasets import make_problem
from sknnfit.targets import TargetTransformRegressor

N_TRAIN = 1_500  # formula5 has 100,000 training rows; kept small to run fast
SEED = 0


def main():
    # The training rows compare() uses for seed 0 too; the search never sees
    # the test rows.
    X_train, y_train, _, _ = make_problem("formula5", SEED, n_train=N_TRAIN)

    pipeline = Pipeline(
        [
            # formula5's inputs are positive and span decades: try their log.
            ("inputs", "passthrough"),
            (
                "model",
                TargetTransformRegressor(
                    NNRegressor(max_epochs=40, random_state=SEED), target="standard"
                ),
            ),
        ]
    )
    grid = {
        "inputs": ["passthrough", FunctionTransformer(np.log)],
        "model__target": ["standard", "asinh"],
        "model__regressor__hidden_layer_sizes": [(32, 32), (64, 64)],
    }
    search = GridSearchCV(
        pipeline, grid, cv=3, scoring="neg_root_mean_squared_error", n_jobs=1
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X_train, y_train)
    counts = Counter(w.category.__name__ for w in caught)
    print(f"Warnings during the search: {dict(counts) or 'none'}")

    print("Grid search, 3-fold CV RMSE (lower is better):")
    results = search.cv_results_
    for rank, params, score in sorted(
        zip(
            results["rank_test_score"],
            results["params"],
            results["mean_test_score"],
            strict=True,
        ),
        key=lambda item: item[0],
    ):
        inputs = "log" if params["inputs"] != "passthrough" else "raw"
        print(
            f"  {rank}. inputs={inputs:<4} target={params['model__target']:<8} "
            f"hidden={params['model__regressor__hidden_layer_sizes']}  "
            f"RMSE={-score:.4g}"
        )

    # compare() clones the best pipeline and refits it on the same rows.
    df = compare(
        "formula5",
        {
            "grid-best": search.best_estimator_,
            "poly": make_baseline("poly", max_degree=4),
            "hgb": "hgb",
            "rf": "rf",
        },
        seeds=(SEED,),
        problem_kwargs={"n_train": N_TRAIN},
    )
    columns = ["model", "nrmse", "r2", "median_rel_error", "fit_seconds", "warnings"]
    print("\nHeld-out test set of formula5:")
    print(df[columns].to_string(index=False))
    print("\nsummarize() (median and range over seeds; one seed here):")
    print(summarize(df)[["model", "nrmse_median", "nrmse_min", "nrmse_max"]])


if __name__ == "__main__":
    main()
