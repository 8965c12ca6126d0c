"""The names NNRegressor's parameters accept, in a module that imports no torch.

``import sknnfit`` declares the estimators' parameter constraints from these
tuples; the modules that implement each option (``modules``, ``training``)
import them from here, so there is one list of each.
"""

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "gelu", "silu", "sin")

#: Training precisions of :class:`~sknnfit.modules.MLP` (and
#: ``NNRegressor(precision=...)``).
PRECISIONS = ("float32", "bfloat16", "float64")

OPTIMIZERS = ("adam", "adamw", "muon", "sgd", "lbfgs", "signagree")

LOSSES = ("mse", "mae", "huber", "relative", "peak", "quantile")

LR_SCHEDULES = ("none", "linear", "onecycle", "wsd", "cosine", "plateau")
