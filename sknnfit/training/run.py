"""train_net: one skorch net built and trained from the plan."""

from __future__ import annotations

import copy


def copy_params(params):
    """Deep copy of the ``net_params`` escape hatch, so fit never mutates it."""
    return copy.deepcopy(dict(params or {}))
