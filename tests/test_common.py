"""scikit-learn's estimator checks over every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknnfit import NNRegressor

# Small and quick, but still trained enough to pass check_regressors_train.
ESTIMATORS = [
    NNRegressor(hidden_layer_sizes=(32,), max_epochs=30, random_state=0),
    NNRegressor(
        hidden_layer_sizes=(16, 16),
        early_stopping=True,
        max_epochs=20,
        patience=5,
        random_state=0,
    ),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
