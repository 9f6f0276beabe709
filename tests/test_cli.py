"""The exact-lab command: help, info, versions, and the headless demo."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from exact_lab.cli import main


def test_help_lists_the_commands(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for command in ("demo", "info", "versions"):
        assert command in text


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from exact_lab.demo import build_demo

    folder = tmp_path_factory.mktemp("demo")
    # a smaller slide keeps the test quick; the project is built the same way
    return build_demo(folder, width=3072, height=2048, log=lambda *_: None)


def test_demo_project_has_three_types_and_two_versions(demo):
    import exact_lab as xl

    proj = xl.open_project(demo["project"], user="checker")
    types = proj.annotation_types()
    assert types["name"].tolist() == ["mitotic figure", "tumor cell", "immune cell"]
    counts = proj.annotations().groupby("type").size()
    assert set(counts.index) == set(types["name"]) and counts.min() > 0
    assert proj.versions()["name"].tolist() == ["v1", "v2"]
    changes = proj.diff("v1", "v2")["change"].value_counts().to_dict()
    assert changes == {"changed": 25, "removed": 15, "added": 10}
    slide = xl.open_slide(demo["slide"])
    assert slide.level_count >= 3 and slide.mpp == pytest.approx(0.25)
    proj.close()


def test_demo_slide_is_deterministic(tmp_path):
    import numpy as np
    import pyvips

    from exact_lab.demo import make_demo_slide

    a, blobs_a = make_demo_slide(tmp_path / "a.tiff", width=1024, height=768, n_nuclei=200)
    b, blobs_b = make_demo_slide(tmp_path / "b.tiff", width=1024, height=768, n_nuclei=200)
    pa_, pb = (np.ndarray(buffer=pyvips.Image.new_from_file(str(p)).write_to_memory(), dtype=np.uint8,
                          shape=(768, 1024, 3)) for p in (a, b))
    assert np.array_equal(pa_, pb) and blobs_a == blobs_b
    # tissue-like: pink stroma and purple nuclei, not a flat image
    assert pa_.std() > 10 and pa_[..., 0].mean() > pa_[..., 1].mean()


def test_info_and_versions(demo, capsys):
    assert main(["info", demo["project"], "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["images"] == 1 and info["versions"] == 2 and info["annotation_types"] == 3
    assert main(["info", demo["project"]]) == 0
    text = capsys.readouterr().out
    assert "mitotic figure" in text and "tumor cell" in text
    assert main(["versions", demo["project"], "--diff"]) == 0
    text = capsys.readouterr().out
    assert "v1" in text and "v2" in text and "25 changed" in text and "15 removed" in text and "10 added" in text


def test_errors_are_reported_without_a_traceback(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = subprocess.run([sys.executable, "-m", "exact_lab.cli", "info", str(target)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "is a file" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_demo_headless_runs_the_quickstart(tmp_path):
    result = subprocess.run([sys.executable, "-m", "exact_lab.cli", "demo", "--headless", "--dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "result: ok" in result.stdout
    assert (tmp_path / "quickstart.executed.ipynb").is_file()
    assert "{'changed': 25, 'removed': 15, 'added': 10}" in result.stdout
