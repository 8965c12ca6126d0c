"""sknnfit.modules: the MLP, its activations, its initialisation and precision."""

import math

import pytest
import torch
from torch import nn

from sknnfit.modules import (
    ACTIVATIONS,
    MLP,
    PeriodicFeatures,
    Sine,
    make_activation,
    native_bfloat16,
)


def linears(module):
    return [m for m in module.hidden if isinstance(m, nn.Linear)]


# ------------------------------------------------------------------ shapes


@pytest.mark.parametrize(("hidden", "n_outputs"), [((8,), 1), ((8, 4), 3), ((), 2)])
def test_mlp_maps_inputs_to_outputs_through_the_given_widths(hidden, n_outputs):
    torch.manual_seed(0)
    model = MLP(5, n_outputs, hidden_layer_sizes=hidden)
    assert [m.out_features for m in linears(model)] == list(hidden)
    assert model.out.in_features == (hidden[-1] if hidden else 5)
    assert model.out(torch.zeros(1, model.out.in_features)).shape == (1, n_outputs)
    assert model(torch.randn(7, 5)).shape == (7, n_outputs)


def test_mlp_without_hidden_layers_is_linear():
    torch.manual_seed(0)
    model = MLP(3, 2, hidden_layer_sizes=())
    x = torch.randn(6, 3)
    torch.testing.assert_close(model(2 * x) - model(x), model(x) - model(0 * x))


# ------------------------------------------------------------------ activations


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("relu", nn.ReLU),
        ("leaky_relu", nn.LeakyReLU),
        ("tanh", nn.Tanh),
        ("gelu", nn.GELU),
        ("silu", nn.SiLU),
        ("sin", Sine),
    ],
)
def test_make_activation_builds_each_named_activation(name, kind):
    assert isinstance(make_activation(name), kind)


def test_every_listed_activation_is_built():
    assert {type(make_activation(name)) for name in ACTIVATIONS} == {
        nn.ReLU,
        nn.LeakyReLU,
        nn.Tanh,
        nn.GELU,
        nn.SiLU,
        Sine,
    }


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"activation must be one of .*'swish'"):
        make_activation("swish")


def test_sine_is_sin_of_w0_x():
    x = torch.linspace(-3, 3, 13)
    torch.testing.assert_close(Sine(2.5)(x), torch.sin(2.5 * x))
    assert make_activation("sin", sin_w0=4.0).w0 == 4.0


def test_hidden_layers_use_the_chosen_activation():
    model = MLP(2, 1, hidden_layer_sizes=(4, 4), activation="tanh")
    acts = [m for m in model.hidden if not isinstance(m, nn.Linear)]
    assert len(acts) == 2 and all(isinstance(m, nn.Tanh) for m in acts)


# ------------------------------------------------------------------ linear skip


def test_linear_skip_adds_a_linear_path_to_the_output():
    torch.manual_seed(0)
    model = MLP(3, 2, hidden_layer_sizes=(8,), linear_skip=True)
    x = torch.randn(5, 3)
    torch.testing.assert_close(model(x), model.out(model.hidden(x)) + model.skip(x))
    assert torch.equal(model.skip.bias, torch.zeros(2))


def test_linear_skip_starts_the_trunk_as_a_small_correction():
    torch.manual_seed(0)
    plain = MLP(3, 2, hidden_layer_sizes=(8,))
    torch.manual_seed(0)
    skipped = MLP(3, 2, hidden_layer_sizes=(8,), linear_skip=True)
    assert plain.skip is None
    # Same draws up to the output layer, whose weights the skip path scales down.
    torch.testing.assert_close(skipped.out.weight, 0.1 * plain.out.weight)


# ------------------------------------------------------------------ sine init


@pytest.mark.parametrize("w0", [1.0, 30.0])
def test_sine_networks_get_the_siren_initialisation(w0):
    torch.manual_seed(0)
    model = MLP(4, 1, hidden_layer_sizes=(64, 64, 64), activation="sin", sin_w0=w0)
    first, *rest = linears(model)
    # First layer: standardised inputs span about [-3, 3]; a few periods at most.
    assert first.weight.abs().max() <= math.sqrt(3.0 / 4)
    for layer in rest:
        bound = math.sqrt(6.0 / layer.in_features) / w0
        assert layer.weight.abs().max() <= bound
        assert layer.weight.abs().max() > 0.9 * bound  # uniform over the range


def test_first_scale_widens_only_a_sine_networks_first_layer():
    def build(activation, scale):
        torch.manual_seed(0)
        return MLP(3, 1, (32, 32), activation=activation, first_scale=scale)

    wide, usual = linears(build("sin", 8.0)), linears(build("sin", 1.0))
    torch.testing.assert_close(wide[0].weight, 8.0 * usual[0].weight)
    for a, b in zip(wide[1:], usual[1:], strict=True):
        torch.testing.assert_close(a.weight, b.weight)
    # Other activations keep PyTorch's initialisation whatever the scale.
    torch.testing.assert_close(
        linears(build("silu", 8.0))[0].weight, linears(build("silu", 1.0))[0].weight
    )


def test_other_activations_keep_pytorchs_initialisation():
    torch.manual_seed(0)
    model = MLP(4, 1, hidden_layer_sizes=(64, 64), activation="silu")
    torch.manual_seed(0)
    reference = nn.Linear(4, 64)
    torch.testing.assert_close(linears(model)[0].weight, reference.weight)


# ------------------------------------------------------------------ precision


def test_mlp_rejects_an_unknown_precision():
    with pytest.raises(ValueError, match="precision must be one of"):
        MLP(2, 1, precision="float16")


def output_dtype_of_the_last_layer(model, x):
    seen = []
    handle = model.out.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    try:
        y = model(x)
    finally:
        handle.remove()
    return seen[0], y.dtype


def test_bfloat16_trains_under_autocast_and_returns_float32():
    # CPU autocast computes in bfloat16 whether or not the CPU has native support
    # (emulated where not), so this path runs everywhere.
    model = MLP(3, 2, hidden_layer_sizes=(8,), precision="bfloat16").train()
    inner, outer = output_dtype_of_the_last_layer(model, torch.randn(4, 3))
    assert (inner, outer) == (torch.bfloat16, torch.float32)


def test_bfloat16_evaluates_at_the_weights_precision():
    model = MLP(3, 2, hidden_layer_sizes=(8,), precision="bfloat16").eval()
    inner, outer = output_dtype_of_the_last_layer(model, torch.randn(4, 3))
    assert (inner, outer) == (torch.float32, torch.float32)
    model = model.double()
    x = torch.randn(4, 3, dtype=torch.float64)
    assert output_dtype_of_the_last_layer(model.train(), x) == (torch.float64,) * 2


def test_float32_never_autocasts():
    model = MLP(3, 2, hidden_layer_sizes=(8,)).train()
    inner, _ = output_dtype_of_the_last_layer(model, torch.randn(4, 3))
    assert inner == torch.float32


@pytest.mark.skipif(not native_bfloat16("cpu"), reason="no native bfloat16 on CPU")
def test_bfloat16_training_step_on_a_native_cpu_is_finite():
    torch.manual_seed(0)
    model = MLP(3, 1, hidden_layer_sizes=(16,), precision="bfloat16").train()
    x = torch.randn(32, 3)
    loss = ((model(x) - x[:, :1]) ** 2).mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters())


# ------------------------------------------------------------------ native_bfloat16


def test_native_bfloat16_answers_for_every_device():
    assert isinstance(native_bfloat16("cpu"), bool)
    assert native_bfloat16("meta") is False
    if not torch.cuda.is_available():
        assert native_bfloat16("cuda") is False


def test_native_bfloat16_on_cuda_does_not_count_emulation(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    # A pre-Ampere GPU: bfloat16 only through emulation.
    monkeypatch.setattr(
        torch.cuda,
        "is_bf16_supported",
        lambda including_emulation=True: including_emulation,
    )
    assert native_bfloat16("cuda") is False
    monkeypatch.setattr(
        torch.cuda, "is_bf16_supported", lambda including_emulation=True: True
    )
    assert native_bfloat16("cuda:0") is True


# ------------------------------------------------------------------ periodic features


def test_periodic_features_append_sines_then_cosines_of_the_leading_columns():
    x = torch.tensor([[0.5, -1.0, 7.0], [2.0, 0.25, -3.0]], dtype=torch.float64)
    layer = PeriodicFeatures(2, n_frequencies=2).double()
    with torch.no_grad():
        layer.frequencies.copy_(torch.tensor([[1.0, 0.1], [0.5, 2.0]]))
    out = layer(x)
    assert out.shape == (2, 3 + 2 * 2 * 2)
    torch.testing.assert_close(out[:, :3], x)  # the input passes through first
    for j, freqs in enumerate(([1.0, 0.1], [0.5, 2.0])):
        z = 2 * math.pi * x[:, j : j + 1] * torch.tensor(freqs, dtype=torch.float64)
        block = out[:, 3 + 4 * j : 3 + 4 * (j + 1)]
        torch.testing.assert_close(block, torch.cat([z.sin(), z.cos()], dim=1))


def test_mlp_periodic_inputs_widen_the_first_layer_and_train_the_frequencies():
    torch.manual_seed(0)
    model = MLP(5, 2, (8, 8), periodic_inputs=3, n_frequencies=2)
    assert linears(model)[0].in_features == 5 + 3 * 2 * 2
    assert model.periodic.frequencies.shape == (3, 2)
    x = torch.randn(4, 5)
    model(x).sum().backward()
    assert model.periodic.frequencies.grad.abs().sum() > 0
    # Inputs after the first three (appended logs) are not embedded.
    features = model.periodic(x)[:, 5:]
    torch.testing.assert_close(features, model.periodic(x[:, :3])[:, 3:])


def test_mlp_periodic_features_need_hidden_layers_and_existing_columns():
    assert MLP(3, 1, (8,)).periodic is None
    assert MLP(3, 1, (), periodic_inputs=3).periodic is None
    with pytest.raises(ValueError, match=r"must be in \[0, n_inputs=3\]; got 4"):
        MLP(3, 1, (8,), periodic_inputs=4)


def test_mlp_periodic_features_follow_the_precision():
    model = MLP(3, 1, (8,), periodic_inputs=3, precision="float64")
    assert model.periodic.frequencies.dtype == torch.float64
    model = MLP(3, 1, (8,), periodic_inputs=3, precision="bfloat16").train()
    assert model(torch.randn(5, 3)).dtype == torch.float32
