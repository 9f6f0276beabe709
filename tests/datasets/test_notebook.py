"""notebooks/training-data.ipynb runs top to bottom: split, datasets, a model, the manifest attached."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_lab.demo.run_notebook import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "training-data.ipynb"


@pytest.mark.slow
def test_the_training_data_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    monkeypatch.setenv("EXACT_LAB_DEMO", str(tmp_path / "demo"))
    report = run_notebook(NOTEBOOK, tmp_path / "training-data.executed.ipynb", cwd=NOTEBOOK.parent, timeout=900)
    print(report.summary())
    assert report.ok, report.summary()
    assert report.executed == report.cells
    text = "\n".join(t for _, t in report.outputs)
    assert "val accuracy" in text and "dataset-manifest.json" in text
    accuracy = float(text.split("val accuracy ")[1].split()[0])
    assert accuracy >= 0.9  # the two kinds of blob differ plainly in colour
    assert "lymphocyte" in text and "eosinophil" in text
