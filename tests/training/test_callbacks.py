import numpy as np
import pytest

from sknnfit.training.callbacks import LINEAR_WARMUP, lr_schedule_callback


def rates(name, lr=5e-3, epochs=10, steps=100):
    callback = lr_schedule_callback(
        name, lr=lr, max_epochs=epochs, steps_per_epoch=steps, monitor="valid_loss"
    )
    return callback.simulate(epochs * steps, lr)


def test_linear_warms_up_briefly_then_decays_linearly_to_zero():
    lr = 5e-3
    r = rates("linear", lr=lr)
    peak = int(np.argmax(r))
    assert peak == pytest.approx(LINEAR_WARMUP * len(r), abs=1)
    assert r[0] == pytest.approx(lr / 25)
    assert r[peak] == pytest.approx(lr)
    # Rising to the peak, then falling by the same amount every step.
    assert np.all(np.diff(r[: peak + 1]) > 0)
    fall = np.diff(r[peak:])
    np.testing.assert_allclose(fall, fall.mean(), rtol=1e-6)
    assert r[-1] < lr * 1e-5
    # Halfway through the decay the rate is half the peak.
    middle = peak + (len(r) - 1 - peak) // 2
    assert r[middle] == pytest.approx(lr / 2, rel=0.01)


def test_onecycle_keeps_its_long_warmup_and_cosine_decay():
    r = rates("onecycle")
    peak = int(np.argmax(r))
    assert peak == pytest.approx(0.3 * len(r), abs=1)
    # A cosine falls slowly at first: a quarter of the way down the rate is
    # above the straight line's.
    quarter = peak + (len(r) - 1 - peak) // 4
    assert r[quarter] > 0.8 * r[peak]


@pytest.mark.parametrize("name", ["linear", "onecycle"])
def test_schedules_span_every_step_of_max_epochs(name):
    short, long = rates(name, epochs=4), rates(name, epochs=8)
    assert np.argmax(long) == pytest.approx(2 * np.argmax(short), abs=1)
    assert short[-1] == pytest.approx(long[-1])


def test_unknown_schedule_names_the_choices():
    with pytest.raises(ValueError, match="linear"):
        lr_schedule_callback(
            "triangle", lr=1e-3, max_epochs=2, steps_per_epoch=2, monitor="x"
        )


@pytest.mark.parametrize("name", ["linear", "onecycle"])
def test_short_runs_get_a_finite_positive_rate_every_step(name):
    # OneCycleLR divides by its warmup's length: a run of 20 steps once made
    # linear's 5% warmup a single step and the division one by zero.
    for steps in range(1, 120):
        r = rates(name, epochs=steps, steps=1)
        assert np.isfinite(r).all() and (r > 0).all() and r.max() <= 5e-3 * (1 + 1e-9)
