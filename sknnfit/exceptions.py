"""Warnings and errors raised by sknnfit."""

from sklearn.exceptions import ConvergenceWarning

__all__ = [
    "ClippedPredictionWarning",
    "ConvergenceWarning",
    "DivergenceError",
    "DivergenceWarning",
    "ExtrapolationWarning",
    "FitInterruptedWarning",
    "NetworkNotUsedWarning",
    "TargetOutlierWarning",
]


class DivergenceWarning(RuntimeWarning):
    """Training produced a NaN or infinite loss and was recovered."""


class DivergenceError(FloatingPointError):
    """Training diverged and no usable weights were left."""


class FitInterruptedWarning(UserWarning):
    """fit was interrupted (Ctrl-C); the model keeps the best weights so far."""


class ExtrapolationWarning(UserWarning):
    """predict was asked about rows outside the box seen in training."""


class ClippedPredictionWarning(UserWarning):
    """Predictions were clipped to the range of the training targets."""


class NetworkNotUsedWarning(UserWarning):
    """The network did not beat its closed-form base on held-out rows: not used."""


class TargetOutlierWarning(UserWarning):
    """A few extreme target values set y's scale, hiding the other rows' variation."""
