"""PyTorch modules built by :class:`sknnfit.NNRegressor` (torch only, no sklearn)."""

from __future__ import annotations

import math

import torch
from torch import nn

from ._options import ACTIVATIONS, PRECISIONS


def native_bfloat16(device):
    """Whether ``device`` computes bfloat16 matrix products in hardware.

    CUDA: :func:`torch.cuda.is_bf16_supported` (Ampere and later). CPU: the
    AVX512-BF16 or AMX instructions; without them PyTorch emulates bfloat16,
    which is slower than float32. Other devices: False.
    """
    kind = torch.device(device).type
    if kind == "cuda":
        if not torch.cuda.is_available():
            return False
        try:  # torch >= 2.3 counts emulation as support unless told not to
            return bool(torch.cuda.is_bf16_supported(including_emulation=False))
        except TypeError:
            return bool(torch.cuda.is_bf16_supported())
    if kind == "cpu":
        checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
        return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)
    return False


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


#: Frequencies per input of :class:`PeriodicFeatures` in sknnfit's networks.
PERIODIC_FREQUENCIES = 2

#: Standard deviation of their initial frequencies, in cycles per standard
#: deviation of the input. They are trained, so it sets where they start only.
PERIODIC_SCALE = 0.3


class PeriodicFeatures(nn.Module):
    """Append ``sin(2 pi c x_j)`` and ``cos(2 pi c x_j)`` of leading input columns.

    The periodic embeddings of numerical features (Gorishniy, Rubachev and
    Babenko 2022, "On embeddings for numerical features in tabular deep
    learning"), without their linear layer: each embedded column ``j`` gets
    ``n_frequencies`` trained frequencies ``c``, and the output is the input
    followed, per embedded column, by the sines of its frequencies then their
    cosines. The first hidden layer mixes them.

    Parameters
    ----------
    n_inputs : int
        The first ``n_inputs`` columns are embedded; the others pass through.
    n_frequencies : int, default=PERIODIC_FREQUENCIES
    scale : float, default=PERIODIC_SCALE
        Initial frequencies are drawn from ``N(0, scale**2)``.
    """

    def __init__(
        self, n_inputs, n_frequencies=PERIODIC_FREQUENCIES, scale=PERIODIC_SCALE
    ):
        super().__init__()
        self.frequencies = nn.Parameter(torch.randn(n_inputs, n_frequencies) * scale)

    def forward(self, x):
        return periodic_features(x, self.frequencies)


def periodic_features(x, frequencies):
    """``x`` followed by the features of :class:`PeriodicFeatures`.

    ``frequencies`` has shape (n, k): for each of the first ``n`` columns of
    ``x``, in order, the sines of its ``k`` frequencies then their cosines.
    """
    z = (2.0 * math.pi) * x[:, : frequencies.shape[0], None] * frequencies
    features = torch.cat([torch.sin(z), torch.cos(z)], dim=-1)
    return torch.cat([x, features.flatten(1)], dim=1)


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
    first_scale : float, default=1.0
        ``"sin"`` networks: the first layer's initial weights are multiplied by
        this, which widens the band of input frequencies the network starts
        with (the multi-stage networks' kappa). Only the initialisation reads it.
    periodic_inputs : int, default=0
        Give the first ``periodic_inputs`` input columns periodic features
        (:class:`PeriodicFeatures`) in front of the first hidden layer; 0 for
        none. The linear path takes the inputs alone.
    n_frequencies : int, default=PERIODIC_FREQUENCIES
        Frequencies of each of those columns.
    precision : {"float32", "bfloat16", "float64"}, default="float32"
        ``"bfloat16"``: in training mode the forward pass of float32 inputs runs
        under :func:`torch.autocast` with bfloat16 (mixed precision: the matrix
        products in bfloat16, the weights and the returned output in float32).
        ``"float64"``: the weights are float64 and inputs are cast to it.
        Evaluation mode always computes at the weights' own precision.
    """

    def __init__(
        self,
        n_inputs,
        n_outputs,
        hidden_layer_sizes=(128, 128, 128),
        activation="silu",
        linear_skip=False,
        sin_w0=1.0,
        precision="float32",
        first_scale=1.0,
        periodic_inputs=0,
        n_frequencies=PERIODIC_FREQUENCIES,
    ):
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {PRECISIONS}; got {precision!r}."
            )
        self.precision = precision
        if not 0 <= periodic_inputs <= n_inputs:
            raise ValueError(
                f"periodic_inputs must be in [0, n_inputs={n_inputs}]; got "
                f"{periodic_inputs}."
            )
        if not hidden_layer_sizes:
            periodic_inputs = 0  # a linear model: nothing to mix the features
        layers = []
        width = n_inputs + 2 * n_frequencies * periodic_inputs
        for size in hidden_layer_sizes:
            layers.append(nn.Linear(width, size))
            layers.append(make_activation(activation, sin_w0))
            width = size
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(width, n_outputs)
        self.skip = nn.Linear(n_inputs, n_outputs) if linear_skip else None
        # Drawn after the layers, so that networks without it start as before.
        self.periodic = (
            PeriodicFeatures(periodic_inputs, n_frequencies)
            if periodic_inputs
            else None
        )
        if activation == "sin":
            self._siren_init(sin_w0, first_scale)
        if self.skip is not None and hidden_layer_sizes:
            # Start as "linear model + small correction": the skip path carries the
            # trend from the first step, the trunk learns the residual.
            nn.init.zeros_(self.skip.bias)
            with torch.no_grad():
                self.out.weight.mul_(0.1)
        if precision == "float64":
            self.double()

    def _siren_init(self, w0, first_scale=1.0):
        linears = [m for m in self.hidden if isinstance(m, nn.Linear)]
        for i, layer in enumerate(linears):
            fan_in = layer.in_features
            if i == 0:
                # Standardised inputs span about [-3, 3]; keep the first layer's
                # phases within a few periods.
                bound = first_scale * math.sqrt(3.0 / fan_in)
            else:
                bound = math.sqrt(6.0 / fan_in) / w0
            nn.init.uniform_(layer.weight, -bound, bound)

    def forward(self, x):
        if self.precision == "float64" and x.dtype != torch.float64:
            x = x.double()
        if self.precision == "bfloat16" and self.training and x.dtype == torch.float32:
            with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16):
                y = self._forward(x)
            return y.float()
        return self._forward(x)

    def _forward(self, x):
        y = self.out(self.hidden(x if self.periodic is None else self.periodic(x)))
        if self.skip is not None:
            y = y + self.skip(x)
        return y
