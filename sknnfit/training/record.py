"""The record of one training run, and what it tells the user."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from ..exceptions import (
    ConvergenceWarning,
    DivergenceError,
    DivergenceWarning,
    FitInterruptedWarning,
)


@dataclasses.dataclass(frozen=True)
class TrainingRecord:
    """How one network's training went.

    Attributes
    ----------
    stop : str
        ``"max_epochs"``, ``"early_stopping"``, ``"stalled"`` (too slow for
        the epochs left, :class:`~sknnfit.training.stopping.Stall`),
        ``"flat"`` (L-BFGS with nothing held out: its training loss stopped
        falling, :data:`~sknnfit.training.run.FLAT_TOL`), ``"max_time"``,
        ``"diverged"`` (too many recoveries) or
        ``"interrupted"`` (Ctrl-C).
    max_epochs : int
        Epochs the net was allowed.
    loss_curve : list of float
        Training loss of each complete epoch.
    validation_scores : list of float or None
        Validation loss of each complete epoch, when there was a validation set.
    best_epoch : int
        1-based epoch of the lowest monitored loss; 0 when none ended well.
    kept_best : bool
        Whether the model holds the weights of ``best_epoch`` (validation set).
    recoveries : list of (str, float)
        Divergence recoveries: where, and the learning rate left.
    outputs_finite : bool
        Whether the kept weights give finite outputs on the training inputs.
    final_loss : float
        Training loss of the kept weights on all training rows.
    base_loss : float
        Training loss of a network that outputs zero: the closed-form base's
        (the mean's, without a base).
    start_loss : float
        Training loss of the untrained network.
    max_loss : float
        Training loss above which the network counts as diverged: 10 times the
        larger of ``base_loss`` and ``start_loss``.
    """

    stop: str
    max_epochs: int
    loss_curve: list
    validation_scores: list | None
    best_epoch: int
    kept_best: bool
    recoveries: list
    outputs_finite: bool
    final_loss: float = float("nan")
    base_loss: float = float("inf")
    start_loss: float = float("inf")
    max_loss: float = float("inf")

    @property
    def n_epochs(self):
        """Epochs that ran to their end."""
        return len(self.loss_curve)

    @property
    def interrupted(self):
        """Whether the user stopped training (Ctrl-C)."""
        return self.stop == "interrupted"


def report(record, *, check_convergence=True, stacklevel=2):
    """Warn about what happened in training; raise if no usable weights are left.

    Raises :class:`~sknnfit.exceptions.DivergenceError` when the loss diverged
    and no epoch ended well, or the weights kept overflow on the training
    inputs. Warns :class:`~sknnfit.exceptions.DivergenceWarning` after a
    recovery, :class:`~sknnfit.exceptions.FitInterruptedWarning` after a
    Ctrl-C, and :class:`~sknnfit.exceptions.ConvergenceWarning` when training
    used every epoch while the loss was still clearly falling (only with
    ``check_convergence``: an ensemble warns once, for its first net).
    """
    stacklevel += 1
    n_bad = len(record.recoveries) + int(record.stop == "diverged")
    no_good_epoch = n_bad > 0 and record.best_epoch == 0
    # The weights kept may still be far worse than no network at all.
    worse = record.final_loss > record.max_loss
    if no_good_epoch or worse or not record.outputs_finite:
        raise DivergenceError(_divergence_message(record, n_bad, no_good_epoch, worse))
    if record.recoveries:
        first, last = record.recoveries[0], record.recoveries[-1]
        outcome = (
            "stopped training with the last good weights"
            if record.stop == "diverged"
            else "training went on"
        )
        warnings.warn(
            f"Training diverged {len(record.recoveries)} time(s) (first at "
            f"{first[0]}): the loss became NaN, infinite or over 10 times the "
            "loss without the network. Restored the last "
            f"good weights and lowered the learning rate to {last[1]:.3g}; "
            f"{outcome}. Use a smaller lr or grad_clip to avoid this.",
            DivergenceWarning,
            stacklevel=stacklevel,
        )
    if record.interrupted:
        kept = (
            f"the best weights so far (epoch {record.best_epoch})"
            if record.kept_best
            else f"the weights of the last complete epoch ({record.n_epochs})"
        )
        warnings.warn(
            f"fit was interrupted after {record.n_epochs} of {record.max_epochs} "
            f"epochs; the model keeps {kept}. Call fit again to train from "
            "scratch. Press Ctrl-C twice within 3 s to stop a loop of fits, such "
            "as a grid search.",
            FitInterruptedWarning,
            stacklevel=stacklevel,
        )
    if (
        check_convergence
        and not exact(record)
        and record.stop == "max_epochs"
        and record.n_epochs == record.max_epochs
        and still_improving(
            record.validation_scores or record.loss_curve, record.max_epochs
        )
    ):
        warnings.warn(
            f"NNRegressor reached max_epochs={record.max_epochs} while the loss "
            "was still improving (by more than 10% over the last 10% of "
            "epochs). Increase max_epochs for a better fit; with held-out "
            "rows (early_stopping) training stops where their loss is best.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def _divergence_message(record, n_bad, no_good_epoch, worse):
    what = "the loss became NaN, infinite or over 10 times the loss without the network"
    if n_bad:
        what += f" {n_bad} time(s)"
    if record.recoveries:
        what += (
            f" even after lowering the learning rate to {record.recoveries[-1][1]:.3g}"
        )
    if no_good_epoch:
        why = "no epoch finished with a finite loss"
    elif not record.outputs_finite:
        why = "the weights kept give NaN or infinite outputs on the training inputs"
    else:
        why = (
            "the weights kept fit the training rows over 10 times worse (loss "
            f"{record.final_loss:.3g}) than both the base model alone "
            f"({record.base_loss:.3g}) and the untrained network "
            f"({record.start_loss:.3g})"
        )
    return (
        f"Training diverged: {what}, and {why}, so there are no usable "
        "weights. Try a smaller lr, grad_clip=1.0, loss='huber', or check "
        "X and y for extreme values."
    )


#: A fit whose training loss is this fraction of the untrained network's or less
#: is exact for practical purposes: more epochs would change its predictions by
#: about the square root of it, relative to the target's scale.
EXACT_LOSS = 1e-6


def exact(record):
    """Whether the kept weights fit the training rows to :data:`EXACT_LOSS`."""
    return record.final_loss <= EXACT_LOSS * record.start_loss


def still_improving(curve, max_epochs, threshold=0.1):
    """Whether the best loss of the last 10% of epochs beats the earlier best by 10%.

    Annealed schedules (linear, one-cycle, cosine) always gain a little at the
    end as the learning rate falls; a gain of more than 10% in the last tenth
    of training means more epochs would clearly help.
    """
    curve = [c for c in curve if np.isfinite(c)]
    k = max(2, max_epochs // 10)
    if len(curve) <= k:
        return len(curve) > 1 and curve[-1] < curve[0] * (1 - threshold)
    before = min(curve[:-k])
    after = min(curve[-k:])
    return after < before - threshold * abs(before)
