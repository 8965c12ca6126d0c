"""sknnfit.training.net: FastNet's loss weights and L2 penalty."""

import numpy as np
import pytest
import torch

from sknnfit.modules import MLP
from sknnfit.training.losses import WeightedLoss
from sknnfit.training.net import FastNet, TensorBatchIterator
from sknnfit.training.optim import optimizer_spec

RNG = np.random.default_rng(0)
X = torch.from_numpy(RNG.uniform(-1, 1, size=(64, 2)).astype(np.float32))
Y = torch.sin(3 * X[:, :1]) + X[:, 1:] ** 2


def small_net(l2_penalty=0.0, optimizer="lbfgs", lr=1.0, weight_decay=0.0, **params):
    """A full-batch FastNet with one of NNRegressor's optimizers, set up as it is."""
    opt_cls, opt_kwargs = optimizer_spec(optimizer, lr, weight_decay, "cpu")
    defaults = {
        "module__n_inputs": 2,
        "module__n_outputs": 1,
        "module__hidden_layer_sizes": (8,),
        "criterion": WeightedLoss,
        "optimizer": opt_cls,
        "lr": opt_kwargs.pop("lr"),
        **{f"optimizer__{k}": v for k, v in opt_kwargs.items()},
        "iterator_train": TensorBatchIterator,
        "iterator_valid": TensorBatchIterator,
        "batch_size": len(X),
        "max_epochs": 5,
        "train_split": None,
        "verbose": 0,
    }
    return FastNet(MLP, l2_penalty=l2_penalty, **{**defaults, **params})


def fit(net):
    # The same initial weights for every net of a test.
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return net.fit(X, Y)


def weights(net):
    return torch.cat([p.detach().ravel() for p in net.module_.parameters()])


def test_l2_penalty_reaches_lbfgs():
    # torch.optim.LBFGS has no weight_decay: the penalty in the loss is the only
    # way it sees one.
    plain, penalised = fit(small_net(0.0)), fit(small_net(1.0))
    w0, w1 = weights(plain), weights(penalised)
    assert not torch.allclose(w0, w1)
    assert w1.norm() < 0.5 * w0.norm()


def test_l2_penalty_gradient_is_torchs_weight_decay():
    # SGD steps with the penalty in the loss equal those with the weight_decay
    # optimizer_spec gives the other optimizers: the same penalty whichever
    # optimizer trains.
    params = {"optimizer": "sgd", "lr": 0.1, "max_epochs": 3}
    by_loss = fit(small_net(0.3, **params))
    by_optimizer = fit(small_net(0.0, weight_decay=0.3, **params))
    torch.testing.assert_close(weights(by_loss), weights(by_optimizer))
    assert not torch.allclose(weights(by_loss), weights(fit(small_net(0.0, **params))))


def test_l2_penalty_counts_in_training_only():
    net = fit(small_net(2.0, max_epochs=1))
    with torch.no_grad():
        y_pred = net.module_(X)
    data_loss = net.criterion_(y_pred, Y)
    squares = sum(float((p.detach() ** 2).sum()) for p in net.module_.parameters())
    assert float(net.get_loss(y_pred, Y)) == pytest.approx(float(data_loss))
    with torch.no_grad():
        training_loss = float(net.get_loss(y_pred, Y, training=True))
    assert training_loss == pytest.approx(float(data_loss) + squares, rel=1e-5)
    # The recorded training loss is the objective L-BFGS minimised.
    assert net.history[-1, "train_loss"] > float(data_loss)


def test_l2_penalty_applies_to_weighted_targets_too():
    net = fit(small_net(1.0, max_epochs=1))
    with torch.no_grad():
        y_pred = net.module_(X)
    target = {"y": Y, "weight": torch.ones_like(Y)}
    with torch.no_grad():
        weighted = float(net.get_loss(y_pred, target, training=True))
        plain = float(net.get_loss(y_pred, Y, training=True))
    assert weighted == pytest.approx(plain)
    assert plain > float(net.get_loss(y_pred, Y))


def test_l2_penalty_is_a_skorch_parameter():
    net = small_net(0.5)
    assert net.get_params()["l2_penalty"] == 0.5
    assert net.set_params(l2_penalty=0.25).l2_penalty == 0.25
    assert small_net().l2_penalty == 0.0
