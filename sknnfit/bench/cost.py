"""Seconds per training step against ``max_epochs="auto"``'s cost model.

The cost model (:mod:`sknnfit._auto`) counts the seconds of one reference core,
so that a seed gives the same fit on every machine. A machine runs it faster or
slower by one factor if the model is right: :func:`time_steps` measures real
seconds per step for a grid of shapes, optimizers and precisions and reports
``ratio``, real seconds per model second, which should then be about the same
in every row.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import torch

from .._auto import steps_seconds


def time_steps(
    shapes=((150, 192, 1024), (50, 128, 1024), (50, 256, 1024), (50, 192, 256)),
    precisions=("float32", "bfloat16"),
    optimizers=("adamw", "muon"),
    n_outputs=19,
    threads=1,
    epochs=5,
    steps=64,
):
    """Median seconds per step of ``NNRegressor``'s training loop, and the model's.

    Parameters
    ----------
    shapes : iterable of (int, int, int)
        ``(inputs, width, batch size)``: a network of three hidden layers of
        ``width``, trained on ``steps`` batches a pass.
    precisions, optimizers : iterable of str
        Values of ``NNRegressor``'s ``precision`` and ``optimizer``.
    n_outputs : int, default=19
        Outputs of the network.
    threads : int, default=1
        ``torch.set_num_threads`` while timing (restored after).
    epochs : int, default=5
        Passes per fit; the first is not counted.
    steps : int, default=64
        Steps per pass.

    Returns
    -------
    pandas.DataFrame
        One row per shape, optimizer and precision: ``seconds_per_step`` (median
        of skorch's ``dur`` over the passes after the first, per step),
        ``model_seconds_per_step`` and their ``ratio``.
    """
    from ..estimators import NNRegressor

    rows = []
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        for (n_in, width, batch), opt, prec in itertools.product(
            shapes, optimizers, precisions
        ):
            rng = np.random.default_rng(0)
            n_valid = 2000
            n = steps * batch + n_valid
            X = rng.uniform(size=(n, n_in))
            y = np.sin(X @ rng.normal(size=(n_in, n_outputs)))
            model = NNRegressor(
                (width,) * 3,
                batch_size=batch,
                precision=prec,
                optimizer=opt,
                max_epochs=epochs,
                embedding="none",
                input_transform="standard",
                base="none",
                n_stages=1,
                n_ensemble=1,
                validation_fraction=n_valid / n,
                random_state=0,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # short fits, emulated bfloat16
                model.fit(X, y)
            net = model.nets_[0][1]
            real = float(np.median(net.history[1:, "dur"])) / steps
            widths = [n_in, width, width, width, n_outputs]
            modelled = steps_seconds(opt, prec, 1, batch, widths)
            rows.append(
                {
                    "inputs": n_in,
                    "width": width,
                    "batch": batch,
                    "optimizer": opt,
                    "precision": prec,
                    "threads": threads,
                    "seconds_per_step": real,
                    "model_seconds_per_step": modelled,
                    "ratio": real / modelled,
                }
            )
    finally:
        torch.set_num_threads(before)
    return pd.DataFrame(rows)
