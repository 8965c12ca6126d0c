"""Optimizers by the ``optimizer`` parameter's names, SignAgree and MuonAdamW."""

from __future__ import annotations

import math

import torch
from torch.optim import Optimizer

from .._compat import fused_adam_supported
from .._options import OPTIMIZERS


def optimizer_spec(name, lr, weight_decay, device, precision="float32"):
    """Return ``(optimizer_class, keyword_arguments)`` for skorch.

    ``precision`` is the network's training precision: with ``"bfloat16"``,
    Muon's Newton-Schulz steps run in bfloat16 too (:class:`MuonAdamW`'s
    ``ns_dtype``), as PyTorch's ``torch.optim.Muon`` runs them.
    """
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
    elif name == "muon":
        cls = MuonAdamW
        # skorch matches these names to the module's parameters: the hidden
        # layers' weight matrices of sknnfit's MLP take Muon's step.
        kwargs = {
            "weight_decay": weight_decay,
            "param_groups": [(MUON_PARAMETERS, {"muon": True})],
        }
        if precision == "bfloat16":
            kwargs["ns_dtype"] = torch.bfloat16
    else:  # pragma: no cover - guarded by the parameter constraints
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}; got {name!r}.")
    if name in ("adam", "adamw") and fused_adam_supported(cls, device):
        # One fused kernel per step instead of a loop of small ops: about 25% less
        # time per step on small networks.
        kwargs["fused"] = True
    kwargs["lr"] = lr
    return cls, kwargs


def _evaluate(closure):
    """The loss ``closure`` returns, with gradients on (a step runs without)."""
    if closure is None:
        return None
    with torch.enable_grad():
        return closure()


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
        loss = _evaluate(closure)
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


#: The parameters :class:`MuonAdamW` orthogonalises in sknnfit's MLP (a skorch
#: ``param_groups`` pattern): the weight matrices of the hidden layers. The
#: output layer, the linear skip and every bias take AdamW's step.
MUON_PARAMETERS = "hidden.*.weight"

#: Coefficients of the quintic Newton-Schulz iteration of Muon (Jordan et al.
#: 2024), chosen for the largest slope at zero in five steps.
NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)

#: MuonAdamW(ns_dtype=torch.bfloat16) orthogonalises in bfloat16 the matrices
#: whose smaller side is at least this; smaller ones stay in float32, whose
#: kernels are faster there. Five steps, one thread, a CPU with AVX512-BF16:
#: bfloat16 took 2.3x as long as float32 at 64 x 64 and 1.7x as long at
#: 50 x 192; it was 1.65x as fast at 128 x 128, 2.9x at 192 x 192 and 3.5x at
#: 256 x 256 (two threads: 1.1x, 1.5x, 2.4x).
BFLOAT16_NS_MIN_SIDE = 128


def orthogonalise(G, steps=5, eps=1e-7, dtype=None):
    """Approximately ``U @ V.T`` of ``G = U @ S @ V.T``, by Newton-Schulz steps.

    The quintic iteration of Muon: after ``steps`` steps the singular values
    of the result lie in about [0.7, 1.2], its singular vectors are ``G``'s.
    By default it runs in float32, or in float64 for a float64 ``G``.
    PyTorch's ``torch.optim.Muon`` runs it in bfloat16, which CPUs without
    native bfloat16 emulate many times slower than float32, and which would
    round away what ``precision="float64"`` trains for; ``dtype`` asks for it
    where the network trains in bfloat16 anyway.

    Parameters
    ----------
    G : torch.Tensor of shape (m, n)
    steps : int, default=5
    eps : float, default=1e-7
        Floor of the norm ``G`` is divided by.
    dtype : torch.dtype or None, default=None
        The iteration's dtype; None: float64 for a float64 ``G``, else float32.

    Returns
    -------
    O : torch.Tensor of shape (m, n), of ``G``'s dtype
    """
    a, b, c = NEWTON_SCHULZ
    if dtype is None:
        dtype = torch.float64 if G.dtype == torch.float64 else torch.float32
    X = G.to(dtype)
    wide = X.size(0) <= X.size(1)
    if not wide:
        X = X.T
    X = X / X.norm().clamp(min=eps)
    for _ in range(steps):
        A = X @ X.T
        B = torch.addmm(A, A, A, beta=b, alpha=c)
        X = torch.addmm(X, B, X, beta=a)
    if not wide:
        X = X.T
    return X.to(G.dtype)


class MuonAdamW(Optimizer):
    """Muon on the parameter groups marked ``muon=True``, AdamW on the others.

    Muon (Jordan et al. 2024, "Muon: an optimizer for hidden layers in neural
    networks") keeps Nesterov momentum ``m <- momentum * m + g`` of each weight
    matrix and steps along its orthogonalised direction
    ``orthogonalise(g + momentum * m)`` (:func:`orthogonalise`), scaled by
    ``0.2 * sqrt(max(rows, columns))`` so that an update's RMS is about the
    size of AdamW's at the same ``lr`` (Liu et al. 2025, "Muon is scalable for
    LLM training"): the schedule and learning rate of AdamW carry over. Every
    direction of the matrix moves at the same rate, where AdamW's step follows
    the gradient's few dominant directions. Weight decay is decoupled in both.
    Parameters that are not matrices, or not marked, take AdamW's step.

    A learning-rate schedule that cycles ``betas[0]`` (linear, one-cycle)
    changes AdamW's momentum only; Muon's stays at ``momentum``.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups; a group with ``muon=True`` takes Muon's
        step (skorch: ``optimizer__param_groups=[(pattern, {"muon": True})]``).
    lr : float, default=1e-3
    betas : (float, float), default=(0.9, 0.999)
        AdamW's moment coefficients.
    eps : float, default=1e-8
        AdamW's denominator floor.
    weight_decay : float, default=0.0
    momentum : float, default=0.95
        Muon's momentum.
    ns_steps : int, default=5
        Newton-Schulz steps of each Muon update.
    ns_dtype : torch.dtype or None, default=None
        The dtype of those steps (:func:`orthogonalise`): None for float32 (or
        float64 for float64 parameters). ``torch.bfloat16`` runs them in
        bfloat16 for matrices whose smaller side is at least
        :data:`BFLOAT16_NS_MIN_SIDE`, and in float32 for smaller ones; it does
        not apply to float64 parameters.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum=0.95,
        ns_steps=5,
        ns_dtype=None,
    ):
        if lr <= 0:
            raise ValueError(f"lr must be > 0; got {lr}.")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum}.")
        defaults = {
            "lr": lr,
            "betas": tuple(betas),
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "ns_steps": ns_steps,
            "ns_dtype": ns_dtype,
            "muon": False,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = _evaluate(closure)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["weight_decay"]:
                    p.mul_(1.0 - group["lr"] * group["weight_decay"])
                if group["muon"] and p.ndim == 2:
                    self._muon_step(p, group)
                else:
                    self._adamw_step(p, group)
        return loss

    def _muon_step(self, p, group):
        state = self.state[p]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(p)
        m = state["momentum_buffer"]
        m.mul_(group["momentum"]).add_(p.grad)
        direction = p.grad.add(m, alpha=group["momentum"])
        scale = 0.2 * math.sqrt(max(p.shape))
        update = orthogonalise(direction, group["ns_steps"], dtype=_ns_dtype(p, group))
        p.add_(update, alpha=-group["lr"] * scale)

    def _adamw_step(self, p, group):
        state = self.state[p]
        if "step" not in state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        t = state["step"]
        state["exp_avg"].lerp_(p.grad, 1.0 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1.0 - beta2)
        denom = (state["exp_avg_sq"] / (1.0 - beta2**t)).sqrt_().add_(group["eps"])
        p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1.0 - beta1**t))


def _ns_dtype(p, group):
    """The Newton-Schulz dtype of ``p``'s update (see ``MuonAdamW``'s ``ns_dtype``)."""
    dtype = group.get("ns_dtype")
    if dtype is None or p.dtype == torch.float64 or min(p.shape) < BFLOAT16_NS_MIN_SIDE:
        return None
    return dtype
