"""Optimizers that PyTorch does not ship."""

from __future__ import annotations

import torch
from torch.optim import Optimizer


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
