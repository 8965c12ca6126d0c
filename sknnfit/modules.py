"""PyTorch modules built by :class:`sknnfit.NNRegressor` (torch only, no sklearn)."""

from __future__ import annotations

import math

import torch
from torch import nn

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "gelu", "silu", "sin")


class Sine(nn.Module):
    """``sin(w0 * x)``: the SIREN activation.

    Parameters
    ----------
    w0 : float, default=1.0
        Frequency factor. SIREN uses 30 for signals on [-1, 1]; sknnfit feeds
        standardised inputs and defaults to 1, which fits smooth functions without
        the high-frequency ripples a large ``w0`` starts with.
    """

    def __init__(self, w0=1.0):
        super().__init__()
        self.w0 = float(w0)

    def forward(self, x):
        return torch.sin(self.w0 * x)


def make_activation(name, sin_w0=1.0):
    """Build the activation module called ``name`` (one of :data:`ACTIVATIONS`)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    if name == "tanh":
        return nn.Tanh()
    if name == "gelu":
        return nn.GELU()
    if name == "silu":
        return nn.SiLU()
    if name == "sin":
        return Sine(sin_w0)
    raise ValueError(f"activation must be one of {ACTIVATIONS}; got {name!r}.")


class MLP(nn.Module):
    """Multi-layer perceptron with an optional linear path from inputs to outputs.

    Parameters
    ----------
    n_inputs, n_outputs : int
        Input and output widths.
    hidden_layer_sizes : tuple of int, default=(128, 128, 128)
        Width of each hidden layer; empty gives a linear model.
    activation : str, default="silu"
        One of :data:`ACTIVATIONS`.
    linear_skip : bool, default=False
        Add ``x @ A + b`` to the output. Identity maps and linear trends are then
        represented exactly and the hidden layers only fit what is left.
    sin_w0 : float, default=1.0
        Frequency of the ``"sin"`` activation.
    """

    def __init__(
        self,
        n_inputs,
        n_outputs,
        hidden_layer_sizes=(128, 128, 128),
        activation="silu",
        linear_skip=False,
        sin_w0=1.0,
    ):
        super().__init__()
        layers = []
        width = n_inputs
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, size))
            layers.append(make_activation(activation, sin_w0))
            width = size
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(width, n_outputs)
        self.skip = nn.Linear(n_inputs, n_outputs) if linear_skip else None
        if activation == "sin":
            self._siren_init(sin_w0)
        if self.skip is not None and hidden_layer_sizes:
            # Start as "linear model + small correction": the skip path carries the
            # trend from the first step, the trunk learns the residual.
            nn.init.zeros_(self.skip.bias)
            with torch.no_grad():
                self.out.weight.mul_(0.1)

    def _siren_init(self, w0):
        linears = [m for m in self.hidden if isinstance(m, nn.Linear)]
        for i, layer in enumerate(linears):
            fan_in = layer.in_features
            bound = 1.0 / fan_in if i == 0 else math.sqrt(6.0 / fan_in) / w0
            if i == 0:
                # Standardised inputs span about [-3, 3]; keep the first layer's
                # phases within a few periods.
                bound = math.sqrt(3.0 / fan_in)
            nn.init.uniform_(layer.weight, -bound, bound)

    def forward(self, x):
        y = self.out(self.hidden(x))
        if self.skip is not None:
            y = y + self.skip(x)
        return y
