"""notebooks/analysis.ipynb runs top to bottom on a demo it builds (a smaller slide)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_lab.demo.run_notebook import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "analysis.ipynb"


@pytest.mark.slow
def test_the_analysis_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.setenv("EXACT_LAB_DEMO", str(tmp_path / "demo"))  # the kernel inherits it; restored after
    report = run_notebook(NOTEBOOK, tmp_path / "analysis.executed.ipynb", cwd=NOTEBOOK.parent, timeout=900)
    print(report.summary())
    assert report.ok, report.summary()
    assert report.executed == report.cells
    text = "\n".join(t for _, t in report.outputs)
    assert "SyncReport(retyped=1" in text and "verified=1" in text
    assert "classic-nuclei:1 detection" in text and "complete>" in text
    assert "nuclei-v1" in text and "mitosis-lr.joblib" in text
