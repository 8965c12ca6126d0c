"""sknnfit.training.optim: Newton-Schulz orthogonalisation and MuonAdamW."""

import numpy as np
import pytest
import torch

from sknnfit import NNRegressor
from sknnfit.training.optim import MuonAdamW, optimizer_spec, orthogonalise

from .test_net import X, Y, fit, small_net


@pytest.mark.parametrize("shape", [(16, 16), (32, 8), (8, 32), (64, 3)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_orthogonalise_keeps_directions_and_evens_out_singular_values(shape, dtype):
    gen = torch.Generator().manual_seed(0)
    # Singular values spread over three decades: orthogonalising evens them out.
    U, _ = torch.linalg.qr(torch.randn(shape[0], min(shape), generator=gen))
    V, _ = torch.linalg.qr(torch.randn(shape[1], min(shape), generator=gen))
    S = torch.logspace(0, -3, min(shape))
    G = (U * S) @ V.T
    ortho = orthogonalise(G.to(dtype))
    assert ortho.dtype == dtype and ortho.shape == G.shape
    # In the basis of G's singular vectors the result is diagonal, with entries of
    # about one: the quintic iteration leaves them in about [0.5, 1.5].
    D = U.T.to(dtype) @ ortho @ V.to(dtype)
    diagonal = torch.diagonal(D)
    off = D - torch.diag(diagonal)
    assert off.abs().max() < 1e-3
    assert diagonal[: min(shape) // 2].min() > 0.5
    assert diagonal.max() < 1.5


def test_orthogonalise_returns_the_dtype_it_was_given():
    G = torch.randn(8, 4).to(torch.bfloat16)
    assert orthogonalise(G).dtype == torch.bfloat16
    assert torch.all(orthogonalise(torch.zeros(4, 4)) == 0)  # no division by zero


def test_orthogonalise_in_bfloat16_is_close_to_float32():
    G = torch.randn(192, 160, generator=torch.Generator().manual_seed(0))
    half = orthogonalise(G, dtype=torch.bfloat16)
    assert half.dtype == torch.float32  # G's dtype, whatever the iteration's
    # bfloat16 keeps 8 bits: about 1% of the result, not more.
    reference = orthogonalise(G)
    assert 1e-4 < (half - reference).norm() / reference.norm() < 0.03


@pytest.mark.parametrize(
    ("shape", "dtype", "expected"),
    [
        ((128, 160), torch.float32, torch.bfloat16),
        ((160, 128), torch.float32, torch.bfloat16),
        ((127, 160), torch.float32, None),  # small: float32 is faster
        ((128, 160), torch.float64, None),  # float64 stays float64
    ],
)
def test_muon_orthogonalises_in_bfloat16_only_large_float32_matrices(
    shape, dtype, expected
):
    gen = torch.Generator().manual_seed(0)
    W = torch.nn.Parameter(torch.randn(*shape, generator=gen, dtype=dtype))
    opt = MuonAdamW([{"params": [W], "muon": True}], lr=0.1, ns_dtype=torch.bfloat16)
    W.grad = torch.randn(*shape, generator=gen, dtype=dtype)
    before = W.detach().clone()
    opt.step()
    # The first step's direction: g + momentum * (momentum buffer = g).
    update = orthogonalise(W.grad.add(W.grad, alpha=0.95), dtype=expected)
    after = before.add(update, alpha=-0.1 * 0.2 * max(shape) ** 0.5)
    torch.testing.assert_close(W.detach(), after, rtol=0, atol=0)


def muon_net(**params):
    return small_net(optimizer="muon", lr=0.01, **params)


def test_muon_takes_the_hidden_weight_matrices_only():
    net = muon_net(module__hidden_layer_sizes=(16, 16), module__linear_skip=True)
    net.initialize()
    names = {id(p): n for n, p in net.module_.named_parameters()}
    groups = net.optimizer_.param_groups
    muon = sorted(names[id(p)] for g in groups if g["muon"] for p in g["params"])
    adamw = sorted(names[id(p)] for g in groups if not g["muon"] for p in g["params"])
    assert muon == ["hidden.0.weight", "hidden.2.weight"]
    assert adamw == [
        "hidden.0.bias",
        "hidden.2.bias",
        "out.bias",
        "out.weight",
        "skip.bias",
        "skip.weight",
    ]


def test_muon_step_is_the_orthogonalised_nesterov_momentum():
    torch.manual_seed(0)
    W = torch.nn.Parameter(torch.randn(16, 8))
    opt = MuonAdamW([{"params": [W], "muon": True}], lr=0.1, momentum=0.9)
    grads = [torch.randn(16, 8) for _ in range(2)]
    buffer = torch.zeros(16, 8)
    for g in grads:
        before = W.detach().clone()
        W.grad = g.clone()
        opt.step()
        buffer = 0.9 * buffer + g
        expected = -0.1 * 0.2 * 16**0.5 * orthogonalise(g + 0.9 * buffer)
        torch.testing.assert_close(W.detach() - before, expected)


def test_parameters_not_marked_take_adamws_step_exactly():
    # The same net, the same batches: unmarked groups step as torch's AdamW.
    params = {"lr": 0.01, "max_epochs": 4, "batch_size": 16}
    ours = fit(small_net(optimizer="muon", optimizer__param_groups=[], **params))
    torchs = fit(small_net(optimizer="adamw", **params))
    for a, b in zip(
        ours.module_.parameters(), torchs.module_.parameters(), strict=True
    ):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_weight_decay_is_decoupled_for_both_kinds_of_step():
    W = torch.nn.Parameter(torch.ones(4, 4))
    b = torch.nn.Parameter(torch.ones(4))
    opt = MuonAdamW(
        [{"params": [W], "muon": True}, {"params": [b]}], lr=0.1, weight_decay=0.5
    )
    W.grad, b.grad = torch.zeros(4, 4), torch.zeros(4)
    opt.step()
    # A zero gradient moves nothing but the decay: 1 - lr * weight_decay.
    torch.testing.assert_close(W.detach(), torch.full((4, 4), 0.95))
    torch.testing.assert_close(b.detach(), torch.full((4,), 0.95))


def test_muon_trains_and_recovers_from_a_cleared_state():
    params = {"module__hidden_layer_sizes": (16, 16), "batch_size": 16}
    net = fit(muon_net(max_epochs=60, **params).set_params(lr=0.05))
    losses = net.history[:, "train_loss"]
    assert losses[-1] < 0.05 * losses[0]
    # DivergenceRecovery clears the optimizer's state: steps start afresh.
    net.optimizer_.state.clear()
    net.partial_fit(X, Y)
    assert np.isfinite(net.history[-1, "train_loss"])


def test_muon_keeps_float64_weights_in_float64():
    net = fit(muon_net(module__precision="float64", max_epochs=3))
    assert {p.dtype for p in net.module_.parameters()} == {torch.float64}


@pytest.mark.parametrize(
    ("params", "message"),
    [({"lr": 0.0}, "lr must be > 0"), ({"momentum": 1.0}, "momentum must be")],
)
def test_muon_rejects_bad_settings(params, message):
    with pytest.raises(ValueError, match=message):
        MuonAdamW([torch.nn.Parameter(torch.ones(2, 2))], **params)


def test_optimizer_spec_gives_muon_its_parameter_groups():
    cls, kwargs = optimizer_spec("muon", 5e-3, 0.1, "cpu")
    assert cls is MuonAdamW
    assert kwargs == {
        "weight_decay": 0.1,
        "param_groups": [("hidden.*.weight", {"muon": True})],
        "lr": 5e-3,
    }
    # A network trained in bfloat16 orthogonalises in bfloat16 too.
    _, kwargs = optimizer_spec("muon", 5e-3, 0.1, "cpu", precision="bfloat16")
    assert kwargs["ns_dtype"] is torch.bfloat16
    _, kwargs = optimizer_spec("adamw", 5e-3, 0.1, "cpu", precision="bfloat16")
    assert "ns_dtype" not in kwargs


def test_nnregressor_trains_with_muon():
    rng = np.random.default_rng(0)
    Xs = rng.uniform(-1, 1, size=(300, 3))
    ys = np.sin(2 * Xs[:, 0]) * Xs[:, 1] + Xs[:, 2] ** 2
    model = NNRegressor(
        optimizer="muon",
        hidden_layer_sizes=(32, 32),
        base="none",
        guard=False,
        max_epochs=40,
        n_stages=1,
        random_state=0,
    ).fit(Xs, ys)
    assert (model.optimizer_, model.lr_, model.lr_schedule_) == (
        "muon",
        5e-3,
        "linear",
    )
    assert model.score(Xs, ys) > 0.9
