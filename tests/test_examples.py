"""Smoke tests for examples/: each script runs as is and prints its table.

Tiny sizes and two epochs: this checks that the scripts run against the current
API, not their numbers (the scripts' docstrings record those).
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--n-train", "80", "--max-epochs", "2"]

# script -> a column of the table it must print
EXAMPLES = {
    "quickstart.py": "mean_test_score",
    "steep_peaks.py": "peak_nmae",
    "decades_formula.py": "median_rel_error",
    "square_extrapolation.py": "rmse_outside",
    "noisy_sine.py": "n_extrema",
}


@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_runs_and_prints_table(script):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *TINY],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert EXAMPLES[script] in out
    assert "fit_seconds" in out
    if script != "quickstart.py":
        assert "sknnfit default" in out and "poly" in out and "hgb" in out
        assert "smaller than the full problem" in out
