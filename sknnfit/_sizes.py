"""Sizes a saved model declares, checked against the tensors it stores.

A file's JSON says how wide things are (``n_features_in_``, ``n_outputs_``, the
hidden layers, the log columns, the output groups of each net); its tensors
hold the actual statistics and weights. Loading trusts neither alone: before
any network is built, every declared size must agree with the shapes of the
stored tensors, so a crafted file cannot make :func:`sknnfit.load` (or a later
``predict``) allocate more than the file itself holds.

Each check raises ValueError naming the attribute and both sizes; the caller
adds the file's path.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_module_state", "check_nnregressor", "check_sklearn", "check_ttr"]


def _fail(what, value, expected):
    return ValueError(f"{what} is {value!r}, but the stored tensors give {expected!r}")


def _count(value, what, low=1):
    """``value`` as an int of at least ``low``; refuses bools, floats, strings."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{what} must be an integer; the file gives {value!r}")
    if value < low:
        raise ValueError(f"{what} must be at least {low}; the file gives {value!r}")
    return int(value)


def _shape(owner, name, shape, where, optional=False):
    value = getattr(owner, name, None)
    if value is None and optional:
        return
    got = getattr(value, "shape", None)
    if got != shape:
        raise _fail(f"the shape of {where}{name}", got, shape)


def _indices(values, size, what):
    """A non-empty list of distinct ints in ``range(size)``."""
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError(f"{what} must be a non-empty list; the file gives {values!r}")
    out = [_count(v, f"an entry of {what}", low=0) for v in values]
    if max(out) >= size or len(set(out)) != len(out):
        raise ValueError(
            f"{what} = {out} must be distinct indices below {size} (the width the "
            "stored tensors give)"
        )
    return out


# ------------------------------------------------------------------ NNRegressor


def check_nnregressor(est, groups, states):
    """Refuse a rebuilt NNRegressor whose declared sizes disagree with its tensors.

    Runs after the fitted attributes and transformers are set (which allocates
    nothing beyond the stored arrays) and before any net is built.
    """
    n_in = _count(est.n_features_in_, "n_features_in_")
    n_out = _count(est.n_outputs_, "n_outputs_")
    for name in ("x_min_", "x_max_"):
        _shape(est, name, (n_in,), "", optional=True)
    for name in ("y_mean_", "y_scale_", "residual_scale_"):
        _shape(est, name, (n_out,), "")
    _shape(est, "network_weight_", (n_out,), "", optional=True)  # newer than files
    _shape(est, "feature_names_in_", (n_in,), "", optional=True)
    if getattr(est, "_y_ndim", 2) not in (1, 2) or (est._y_ndim == 1 and n_out != 1):
        raise ValueError(f"_y_ndim = {est._y_ndim!r} does not fit {n_out} outputs")
    if est.log_columns_:
        _indices(est.log_columns_, n_in, "log_columns_")
    width = check_chain(est.input_transformer_, n_in, "input_transformer_")
    if est.base_ is not None:
        base_out = check_chain(est.base_, n_in, "base_")
        if base_out != n_out:
            raise _fail("the base's number of outputs", base_out, n_out)
    if not isinstance(groups, list) or not groups or len(groups) != len(states):
        raise ValueError(f"the file lists {groups!r} as the nets' output groups")
    for i, (group, state) in enumerate(zip(groups, states, strict=True)):
        if group is not None:
            _indices(group, n_out, f"the output group of net {i}")
        first = state.get("hidden.0.weight", state.get("out.weight"))
        columns = width + periodic_columns(state)
        if first is None or first.ndim != 2 or first.shape[1] != columns:
            got = None if first is None else tuple(first.shape)
            raise _fail(f"the first layer of net {i}", got, f"(*, {columns})")


def periodic_columns(state):
    """Columns an MLP state's periodic features add to its first layer (0 if none).

    Their frequencies' own shape is checked with the module's (check_module_state).
    """
    frequencies = state.get("periodic.frequencies")
    return 0 if frequencies is None else 2 * frequencies.numel()


def check_module_state(net, state, where):
    """Refuse stored weights that are not exactly those of the net's module.

    The module is instantiated on PyTorch's "meta" device, which allocates no
    memory, with the arguments ``net.initialize()`` will use; its parameter
    names and shapes must equal the stored ones. Call before initializing.
    """
    import torch

    kwargs = net.get_params_for("module")
    with torch.device("meta"):
        module = net.module(**kwargs)
    expected = {key: tuple(value.shape) for key, value in module.state_dict().items()}
    stored = {key: tuple(value.shape) for key, value in state.items()}
    if expected != stored:
        keys = sorted(set(expected) | set(stored))
        key = next(k for k in keys if expected.get(k) != stored.get(k))
        raise ValueError(
            f"{where}'s module has {key} of shape {expected.get(key)} (from the "
            f"settings the file declares, e.g. hidden_layer_sizes_), but the file "
            f"stores {stored.get(key)}"
        )


# ------------------------------------------------------ TargetTransformRegressor


def check_ttr(est):
    """Refuse a TargetTransformRegressor whose sizes disagree with its regressor."""
    regressor = est.regressor_
    n_in = _count(est.n_features_in_, "n_features_in_")
    if n_in != regressor.n_features_in_:
        raise _fail("n_features_in_", n_in, regressor.n_features_in_)
    for owner, where in ((est, ""), (est.ttr_, "ttr_.")):
        _shape(owner, "feature_names_in_", (n_in,), where, optional=True)
    if getattr(est.ttr_, "_training_dim", 2) not in (1, 2):
        raise ValueError(f"ttr_._training_dim is {est.ttr_._training_dim!r}")
    n_out = regressor.n_outputs_
    out = check_chain(est.transformer_, n_out, "transformer_")
    if out != n_out:
        raise _fail("the target transformer's width", out, n_out)


# ------------------------------------------------------- scikit-learn objects


def check_sklearn(est):
    """Refuse a scikit-learn transformer whose output is wider than its arrays.

    Most transformers give as many columns as they get, so a wrong declared
    size only makes ``transform`` fail. Two widen: OneHotEncoder (a column per
    category) and PolynomialFeatures; their declared output widths must agree
    with what they store, so a crafted file cannot make ``predict`` allocate
    more than the file holds.
    """
    name = type(est).__name__
    if name == "OneHotEncoder" and hasattr(est, "categories_"):
        categories, outs = est.categories_, est._n_features_outs
        n_in = _count(est.n_features_in_, "OneHotEncoder.n_features_in_")
        if not isinstance(categories, list) or len(categories) != n_in:
            raise _fail("OneHotEncoder.n_features_in_", n_in, len(categories))
        if not isinstance(outs, list) or len(outs) != n_in:
            raise _fail("OneHotEncoder._n_features_outs", outs, f"{n_in} widths")
        for i, (column, n_out) in enumerate(zip(categories, outs, strict=True)):
            n_out = _count(n_out, f"OneHotEncoder._n_features_outs[{i}]", low=0)
            if np.ndim(column) != 1 or n_out > len(column):
                raise _fail(
                    f"OneHotEncoder._n_features_outs[{i}]",
                    n_out,
                    f"at most {np.size(column)} (its categories)",
                )
    elif name == "PolynomialFeatures" and hasattr(est, "n_output_features_"):
        width = _count(est.n_features_in_, "PolynomialFeatures.n_features_in_")
        _polynomial(est, width, "PolynomialFeatures.")


# ------------------------------------------------------------ transformer steps


def check_chain(transformer, width, what):
    """Check each step against the width it receives; the width it returns."""
    steps = getattr(transformer, "steps", [("step", transformer)])
    for name, step in steps:
        where = f"{what}.{name}."
        declared = getattr(step, "n_features_in_", width)
        if _count(declared, f"{where}n_features_in_") != width:
            raise _fail(f"{where}n_features_in_", declared, width)
        rule = _RULES.get(type(step).__name__)
        if rule is None:
            raise ValueError(f"{where[:-1]} is a {type(step).__name__}, unknown here")
        width = rule(step, width, where)
    return width


def _per_column(*names):
    def rule(step, width, where):
        for name in names:
            _shape(step, name, (width,), where, optional=True)
        return width

    return rule


def _function(step, width, where):
    from .features import _append_log_columns

    columns = (step.kw_args or {}).get("columns", [])
    if columns:
        _indices(columns, width, f"{where}columns")
    return width + len(columns) if step.func is _append_log_columns else width


def _polynomial(step, width, where):
    n_out = _count(step.n_output_features_, f"{where}n_output_features_")
    degree = _count(step.degree, f"{where}degree", low=0)
    if degree > n_out + 1:  # each degree adds at least one feature
        raise _fail(f"{where}degree", degree, f"at most {n_out + 1}")
    if step.interaction_only:
        count = sum(math.comb(width, k) for k in range(1, min(degree, width) + 1))
    else:
        count = math.comb(width + degree, degree) - 1
    count += bool(step.include_bias)
    full = getattr(step, "_n_out_full", count)
    if (n_out, full, getattr(step, "_max_degree", degree)) != (count, count, degree):
        raise _fail(f"{where}n_output_features_", n_out, count)
    if getattr(step, "_min_degree", 0) != 0:
        raise _fail(f"{where}_min_degree", step._min_degree, 0)
    return n_out


def _linear(step, width, where):
    coef = np.asarray(step.coef_)
    if coef.ndim not in (1, 2) or coef.shape[-1] != width:
        raise _fail(f"the shape of {where}coef_", coef.shape, f"(*, {width})")
    n_out = 1 if coef.ndim == 1 else coef.shape[0]
    intercept = np.shape(step.intercept_)
    if len(intercept) > 1 or math.prod(intercept) != n_out:
        raise _fail(f"the shape of {where}intercept_", intercept, (n_out,))
    return n_out


def _quantile(step, width, where):
    quantiles = getattr(step, "quantiles_", None)
    if quantiles is None or quantiles.ndim != 2 or quantiles.shape[1] != width:
        got = getattr(quantiles, "shape", None)
        raise _fail(f"the shape of {where}quantiles_", got, f"(*, {width})")
    n_quantiles = quantiles.shape[0]
    _shape(step, "references_", (n_quantiles,), where)
    if step.n_quantiles_ != n_quantiles:
        raise _fail(f"{where}n_quantiles_", step.n_quantiles_, n_quantiles)
    return _per_column("transformed_min_", "transformed_max_")(step, width, where)


def _power_law(step, width, where):
    for name in ("x_offset_", "x_scale_", "logged_", "x_floor_"):
        _shape(step, name, (width,), where)
    coef = np.asarray(step.coef_)
    if coef.ndim != 2 or coef.shape[1] != width:
        raise _fail(f"the shape of {where}coef_", coef.shape, f"(*, {width})")
    for name in ("intercept_", "sign_", "y_offset_", "y_scale_"):
        _shape(step, name, (coef.shape[0],), where)
    return coef.shape[0]


def _laurent(step, width, where):
    for name in ("x_offset_", "x_scale_", "logged_", "x_floor_", "log_centre_"):
        _shape(step, name, (width,), where)
    exponents = np.asarray(step.exponents_)
    if exponents.ndim != 2 or exponents.shape[1] != width:
        raise _fail(f"the shape of {where}exponents_", exponents.shape, f"(*, {width})")
    coef = np.asarray(step.coef_)
    if coef.ndim != 2 or coef.shape[1] != exponents.shape[0]:
        got, want = coef.shape, f"(*, {exponents.shape[0]})"
        raise _fail(f"the shape of {where}coef_", got, want)
    for name in ("y_offset_", "y_scale_"):
        _shape(step, name, (coef.shape[0],), where)
    return coef.shape[0]


_RULES = {
    "StandardScaler": _per_column("mean_", "var_", "scale_"),
    "AsinhTransformer": _per_column("scale_"),
    "FunctionTransformer": _function,
    "PolynomialFeatures": _polynomial,
    "Ridge": _linear,
    "LinearRegression": _linear,
    "QuantileTargetTransformer": _quantile,
    "PowerLaw": _power_law,
    "LaurentPolynomial": _laurent,
}
