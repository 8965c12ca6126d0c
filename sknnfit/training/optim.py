"""Optimizers by the ``optimizer`` parameter's names, SignAgree and RelativeLBFGS."""

from __future__ import annotations

import math

import torch
from torch.optim import Optimizer

from .._compat import fused_adam_supported
from .._options import OPTIMIZERS


def optimizer_spec(name, lr, weight_decay, device):
    """Return ``(optimizer_class, keyword_arguments)`` for skorch."""
    if name == "adam":
        cls = torch.optim.Adam
        kwargs = {"weight_decay": weight_decay}
    elif name == "adamw":
        cls = torch.optim.AdamW
        kwargs = {"weight_decay": weight_decay}
    elif name == "sgd":
        cls = torch.optim.SGD
        kwargs = {"momentum": 0.9, "nesterov": True, "weight_decay": weight_decay}
    elif name == "lbfgs":
        cls = RelativeLBFGS
        # PyTorch's default tolerances stop L-BFGS once gradients fall below 1e-7,
        # long before a smooth fit is as good as float32 allows; let max_epochs
        # decide instead.
        kwargs = {
            "line_search_fn": "strong_wolfe",
            "max_iter": 20,
            "history_size": 50,
            "tolerance_grad": 0.0,
            "tolerance_change": 0.0,
        }
    elif name == "signagree":
        cls = SignAgree
        kwargs = {"weight_decay": weight_decay}
    else:  # pragma: no cover - guarded by the parameter constraints
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}.")
    if name in ("adam", "adamw") and fused_adam_supported(cls, device):
        # One fused kernel per step instead of a loop of small ops: about 25% less
        # time per step on small networks.
        kwargs["fused"] = True
    kwargs["lr"] = lr
    return cls, kwargs


class SignAgree(Optimizer):
    """Sign updates where the gradient agrees with its momentum (seed 000's rule).

    For each parameter ``p`` with gradient ``g`` and momentum
    ``m <- beta * m + (1 - beta) * g`` the update is::

        p <- p - lr * sign(g)   where sign(g) == sign(m)
        p <- p                  elsewhere

    Each weight moves by a fixed step in the direction both the current and the
    averaged gradient point to, and stays put where they disagree (a noisy or
    oscillating coordinate). Steps do not depend on the gradient's magnitude, so
    badly scaled layers and steep targets do not stall or blow up training; use a
    small ``lr`` (1e-4 .. 1e-3) with a decaying schedule.

    Parameters
    ----------
    params : iterable
        Parameters to optimise.
    lr : float, default=1e-3
        Step size per coordinate.
    beta : float, default=0.9
        Momentum coefficient.
    weight_decay : float, default=0.0
        Decoupled weight decay, as in AdamW.
    """

    def __init__(self, params, lr=1e-3, beta=0.9, weight_decay=0.0):
        if lr <= 0:
            raise ValueError(f"lr must be > 0; got {lr}.")
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"beta must be in [0, 1); got {beta}.")
        super().__init__(params, {"lr": lr, "beta": beta, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, beta, wd = group["lr"], group["beta"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                state = self.state[p]
                if "momentum" not in state:
                    state["momentum"] = torch.zeros_like(p)
                m = state["momentum"]
                m.mul_(beta).add_(g, alpha=1.0 - beta)
                sign = torch.sign(g)
                agree = sign == torch.sign(m)
                if wd:
                    p.mul_(1.0 - lr * wd)
                p.sub_(lr * sign * agree)
        return loss


class RelativeLBFGS(torch.optim.LBFGS):
    """L-BFGS that minimises the loss divided by its current level.

    :class:`torch.optim.LBFGS` stores a curvature pair ``(s, y)`` only when
    ``y @ s > 1e-10``, a threshold in the loss's own units: once a fit's loss
    has fallen to about 1e-6 of the target's variance, most pairs are dropped,
    the inverse-Hessian estimate stops improving and the fit stalls. This
    subclass minimises ``scale * loss`` instead, with ``scale`` set to one over
    the loss whenever the loss has moved by more than :attr:`RESCALE` times
    from the level ``scale`` was set at. Rescaling multiplies what PyTorch
    stored in gradient units (the ``y`` of each pair, the previous gradient
    and loss) by the change of scale and divides ``1 / (y @ s)`` and the
    initial Hessian scale by it, so the iterates are those of L-BFGS on an
    objective of order one; the loss it returns is the unscaled one.

    Parameters are those of :class:`torch.optim.LBFGS`.
    """

    #: The scale is reset when ``scale * loss`` leaves ``[1 / RESCALE, RESCALE]``.
    RESCALE = 10.0

    #: ``scale * loss`` of a loss this small or smaller counts as this.
    MIN_LEVEL = 1e-30

    def step(self, closure):
        state = self.state[self._params[0]]
        scale = state.get("loss_scale", 1.0)

        def scaled_closure():
            loss = closure()
            with torch.no_grad():
                for p in self._params:
                    if p.grad is not None:
                        p.grad.mul_(scale)
            return loss * scale

        loss = super().step(scaled_closure) / scale
        level = state.get("prev_loss")
        if level is not None and math.isfinite(level) and level > 0:
            level = max(float(level), self.MIN_LEVEL)
            if not 1 / self.RESCALE <= level <= self.RESCALE:
                self._rescale(state, 1.0 / level)
                state["loss_scale"] = scale / level
        return loss

    @staticmethod
    def _rescale(state, k):
        """Carry the stored curvature over to an objective ``k`` times larger."""
        for y in state.get("old_dirs", []):
            y.mul_(k)
        state["ro"] = [r / k for r in state.get("ro", [])]
        if "H_diag" in state:
            state["H_diag"] = state["H_diag"] / k
        if state.get("prev_flat_grad") is not None:
            state["prev_flat_grad"].mul_(k)
        state["prev_loss"] = state["prev_loss"] * k
