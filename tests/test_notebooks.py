"""The workflow notebooks run top to bottom on the demo data, and no notebook is committed with
outputs (they would go stale, and a viewer's state would bloat the file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exact_lab.demo.run_notebook import run_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_no_notebook_is_committed_with_outputs(path):
    notebook = json.loads(path.read_text())
    dirty = [i for i, cell in enumerate(notebook["cells"])
             if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))]
    assert dirty == [], f"{path.name}: cells {dirty} carry outputs (clear them before committing)"
    assert "widgets" not in notebook.get("metadata", {}), f"{path.name} carries saved widget state"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from exact_lab.demo import build_demo

    folder = tmp_path_factory.mktemp("demo")
    build_demo(folder, width=3072, height=2048, log=lambda *_: None)
    return folder


def run(name, tmp_path, monkeypatch, demo):
    monkeypatch.setenv("EXACT_LAB_DEMO", str(demo))  # the kernel inherits it; restored after
    source = NOTEBOOKS / name
    report = run_notebook(source, tmp_path / name.replace(".ipynb", ".executed.ipynb"), cwd=NOTEBOOKS, timeout=600)
    print(report.summary())
    assert report.ok, report.summary()
    assert report.executed == report.cells
    return "\n".join(text for _, text in report.outputs)


@pytest.mark.slow
def test_the_formats_notebook_runs_top_to_bottom(tmp_path, monkeypatch, demo):
    text = run("formats.ipynb", tmp_path, monkeypatch, demo)
    assert "identical after COCO: True" in text
    assert "coco" in text and "yolo" in text and "qupath" in text


@pytest.mark.slow
def test_the_versions_notebook_runs_top_to_bottom(tmp_path, monkeypatch, demo):
    text = run("versions.ipynb", tmp_path, monkeypatch, demo)
    assert "now equals v2: True" in text
    assert "v3" in text and "carol" in text


@pytest.mark.slow
@pytest.mark.postgres
def test_the_team_notebook_runs_on_a_postgresql_catalog(tmp_path, monkeypatch, demo, postgres_server):
    shared = tmp_path / "shared"
    for folder in (tmp_path, *tmp_path.parents):  # the data folder's parents open to other users
        folder.chmod(folder.stat().st_mode | 0o001)
    catalog = f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/nb_{tmp_path.name[-8:].lower().replace('-', '_')}"
    monkeypatch.setenv("EXACT_LAB_CATALOG", catalog)
    monkeypatch.setenv("EXACT_LAB_DATA", str(shared))
    text = run("team.ipynb", tmp_path, monkeypatch, demo)
    assert "created the project, the team 'lab' and its admin 'alice'" in text
    assert "made by ['alice']" in text
    assert "bob: looks mitotic" in text and "alice: agreed" in text


@pytest.mark.slow
def test_the_team_notebook_runs_without_a_catalog_on_a_project_folder(tmp_path, monkeypatch, demo):
    monkeypatch.delenv("EXACT_LAB_CATALOG", raising=False)
    monkeypatch.delenv("EXACT_LAB_DATA", raising=False)
    text = run("team.ipynb", tmp_path, monkeypatch, demo)
    assert "made by ['alice']" in text


@pytest.mark.slow
def test_the_review_notebook_runs_top_to_bottom(tmp_path, monkeypatch, demo):
    text = run("review.ipynb", tmp_path, monkeypatch, demo)
    # the annotators agree on most figures; the screening resumes where it was left
    f1 = float(text.split(" F1=")[1].split()[0])
    assert 0.7 < f1 < 1.0, text
    resumed = text.split("resumed at tile ")[1].split()
    assert resumed[0] == resumed[3].rstrip(");"), resumed
    assert "screened 4 of" in text  # four moves that mark
    assert "after 6 verdicts:" in text and "accepted proposals: 5" in text
    queued = int(text.split("queue: ")[1].split()[0])
    assert f"after 6 verdicts: {queued - 6} left" in text
