"""The benchmark harness: compare regressors on reference problems or your data.

:func:`compare` fits models on problems for several seeds and returns one row per
fit; :func:`summarize` reduces the rows to medians and ranges over seeds. The
pieces live in submodules: :mod:`~sknnfit.bench.models` (the model names),
:mod:`~sknnfit.bench.baselines` (the non-neural baselines),
:mod:`~sknnfit.bench.metrics` (the error metrics), :mod:`~sknnfit.bench.report`
(summaries and text tables) and :mod:`~sknnfit.bench.plots` (figures; needs
matplotlib). The reference problems are :mod:`sknnfit.datasets`.

``import sknnfit`` does not load this package (it needs pandas, joblib, tqdm
and the tree models); ``sknnfit.compare`` and ``sknnfit.summarize`` import it on
first use.
"""

from .compare import compare
from .models import MODELS, make_model
from .report import SUMMARY_METRICS, format_results, format_summary, summarize

__all__ = [
    "MODELS",
    "SUMMARY_METRICS",
    "compare",
    "format_results",
    "format_summary",
    "make_model",
    "summarize",
]
