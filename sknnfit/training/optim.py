"""Optimizers by the ``optimizer`` parameter's names, and SignAgree."""

from __future__ import annotations

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
        cls = torch.optim.LBFGS
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
