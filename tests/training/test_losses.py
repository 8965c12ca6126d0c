"""sknnfit.training.losses: the criteria and the per-entry weights."""

import numpy as np
import pytest
import torch

from sknnfit._options import LOSSES
from sknnfit.training.losses import WeightedLoss, make_criterion

# ------------------------------------------------------------------ the criteria


def test_every_loss_name_builds_a_criterion():
    for name in LOSSES:
        cls, kwargs = make_criterion(name)
        assert isinstance(cls(**kwargs), WeightedLoss)


def test_quantile_criterion_carries_its_level():
    cls, kwargs = make_criterion("quantile", quantile=0.9)
    assert kwargs == {"kind": "quantile", "quantile": 0.9}
    assert cls(**kwargs).quantile == 0.9
    assert make_criterion("quantile")[1]["quantile"] == 0.5


@pytest.mark.parametrize("quantile", [0.0, 1.0, -0.1, 1.5, float("nan"), True, "0.9"])
def test_quantile_outside_the_open_unit_interval_is_rejected(quantile):
    with pytest.raises(
        ValueError, match=r"strictly between 0 and 1.*0\.9 for the 90th"
    ):
        make_criterion("quantile", quantile=quantile)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        WeightedLoss("quantile", quantile=quantile)


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"kind must be one of .*'quantile'.*'l2'"):
        WeightedLoss("l2")


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_pinball_loss_values(q):
    y_true = torch.zeros(4)
    y_pred = torch.tensor([-2.0, -1.0, 1.0, 3.0])  # residuals 2, 1, -1, -3
    expected = (q * 2 + q * 1 + (1 - q) * 1 + (1 - q) * 3) / 4
    loss = WeightedLoss("quantile", quantile=q)(y_pred, y_true)
    assert float(loss) == pytest.approx(expected)


def test_pinball_at_the_median_is_half_the_l1_loss():
    rng = np.random.default_rng(0)
    y_pred, y_true = (torch.from_numpy(rng.normal(size=(20, 2))) for _ in range(2))
    half_l1 = WeightedLoss("l1")(y_pred, y_true) / 2
    torch.testing.assert_close(WeightedLoss("quantile")(y_pred, y_true), half_l1)


@pytest.mark.parametrize("q", [0.1, 0.9])
def test_pinball_gradient_pushes_predictions_towards_the_quantile(q):
    # Below the target the loss falls as the prediction rises, by q per unit;
    # above it the loss rises, by 1 - q: descent moves a prediction up by q and
    # down by 1 - q, which balance where a fraction q of targets lies below it.
    y_true = torch.tensor([1.0, 1.0])
    y_pred = torch.tensor([0.0, 2.0], requires_grad=True)
    WeightedLoss("quantile", quantile=q)(y_pred, y_true).backward()
    torch.testing.assert_close(y_pred.grad, torch.tensor([-q / 2, (1 - q) / 2]))


def test_weights_multiply_the_pinball_loss():
    y_true = torch.zeros(2, 1)
    y_pred = torch.tensor([[-1.0], [1.0]])
    weight = torch.tensor([[3.0], [0.0]])
    loss = WeightedLoss("quantile", quantile=0.9)(y_pred, y_true, weight)
    assert float(loss) == pytest.approx(3.0 * 0.9 / 2)


def test_network_trained_on_the_pinball_loss_learns_the_quantile():
    # y = sin(2x) + N(0, 0.3^2): the 0.9-quantile is sin(2x) + 0.3 * 1.2816.
    rng = np.random.default_rng(0)
    x = rng.uniform(-2.0, 2.0, size=(500, 1))
    y = np.sin(2 * x) + 0.3 * rng.normal(size=x.shape)
    X, Y = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)
    cls, kwargs = make_criterion("quantile", quantile=0.9)
    criterion = cls(**kwargs)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Linear(1, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)
        )
    optimizer = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(400):
        optimizer.zero_grad()
        criterion(net(X), Y).backward()
        optimizer.step()
    with torch.no_grad():
        pred = net(X).numpy()
    share_below = float((y < pred).mean())
    assert 0.87 < share_below < 0.93
    offset = pred - np.sin(2 * x)
    assert float(np.median(offset)) == pytest.approx(0.3 * 1.2816, abs=0.08)
