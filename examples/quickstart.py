"""Quickstart: NNRegressor is a scikit-learn regressor.

Fits ``NNRegressor`` in a ``Pipeline`` on the built-in ``noisy_sin`` problem
(y = sin(x)/2.5 plus noise, see ``sknnfit.datasets``), prints its R^2 on the
noise-free test curve, then tunes ``hidden_layer_sizes`` and ``lr`` with a
small ``GridSearchCV`` (with AdamW, where the learning rate matters). Runs in
under a minute on a 2-core laptop CPU; the problem is cut to ``--n-train 500``
rows of its 4,000 and 100 epochs to keep it that fast.
"""

import argparse
import time

import pandas as pd
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknnfit import NNRegressor
from sknnfit.datasets import make_problem

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--n-train", type=int, default=500)
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--max-epochs", type=int, default=100)
args = parser.parse_args()

X, y, X_test, y_test = make_problem("noisy_sin", args.seed, n_train=args.n_train)
print(f"noisy_sin: {args.n_train} training rows of the full 4000, seed {args.seed}")

# NNRegressor standardises its inputs itself; the scaler shows that it composes
# with preprocessing, which then stays inside cross-validation.
model = Pipeline(
    [
        ("scale", StandardScaler()),
        ("nn", NNRegressor(max_epochs=args.max_epochs, random_state=args.seed)),
    ]
)
start = time.perf_counter()
model.fit(X, y)
fit_seconds = time.perf_counter() - start
print(f"Pipeline R^2 on the clean test curve: {model.score(X_test, y_test):.4f}")
print(
    f"(fit in {fit_seconds:.1f} s; optimizer='auto' chose {model['nn'].optimizer_!r})"
)

# L-BFGS's line search makes lr nearly irrelevant; search lr for AdamW instead.
model.set_params(nn__optimizer="adamw")
grid = {"nn__hidden_layer_sizes": [(32, 32), (64, 64, 64)], "nn__lr": [1e-3, 1e-2]}
search = GridSearchCV(model, grid, cv=3).fit(X, y)
results = pd.DataFrame(search.cv_results_)[
    ["param_nn__hidden_layer_sizes", "param_nn__lr", "mean_test_score"]
]
results["mean_fit_seconds"] = search.cv_results_["mean_fit_time"]
print(results.to_string(index=False, float_format="{:.4g}".format))
print(f"best: {search.best_params_}")
print(f"best model R^2 on the clean test curve: {search.score(X_test, y_test):.4f}")
