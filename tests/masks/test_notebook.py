"""notebooks/pixel-labelling.ipynb runs top to bottom."""

from __future__ import annotations

from pathlib import Path

import pytest

from exact_lab.demo.run_notebook import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "pixel-labelling.ipynb"


@pytest.mark.slow
def test_the_pixel_labelling_notebook_runs_top_to_bottom(tmp_path, small_svs):  # the notebook opens it
    report = run_notebook(NOTEBOOK, tmp_path / "pixel-labelling.executed.ipynb", cwd=NOTEBOOK.parent, timeout=600)
    assert report.ok, report.summary()
    assert report.executed == report.cells
    text = "\n".join(t for _, t in report.outputs)
    assert "pixels_removed" in text and "superpixels;" in text and "1 file(s)" in text
