import numpy as np
import pytest

from sknnfit._auto import _n_parameters, epoch_seconds, muon_step_seconds
from sknnfit.bench.cost import time_steps


def test_time_steps_measures_each_configuration_against_the_model():
    df = time_steps(
        shapes=((3, 8, 32),),
        precisions=("float32",),
        optimizers=("adamw", "muon"),
        n_outputs=2,
        epochs=2,
        steps=4,
    )
    assert list(df["optimizer"]) == ["adamw", "muon"]
    assert (df["seconds_per_step"] > 0).all()
    widths = [3, 8, 8, 8, 2]
    adamw = epoch_seconds(1, 32, _n_parameters(widths))
    assert df["model_seconds_per_step"].tolist() == pytest.approx(
        [adamw, adamw + muon_step_seconds(widths)]
    )
    assert np.allclose(
        df["ratio"], df["seconds_per_step"] / df["model_seconds_per_step"]
    )
