"""The documentation site builds with no warning, and its API reference holds every public
function of DESIGN §11 with a docstring that says what it returns."""

from __future__ import annotations

import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# DESIGN §11: the names users rely on, as methods of a Project unless said otherwise.
PROJECT_API = [
    "add_image_set", "add_annotation_type", "add_images", "images", "add_annotations", "annotations",
    "update_annotations", "delete_annotations", "flush", "commit", "versions", "diff", "history", "restore",
    "import_annotations", "export_annotations", "viewer",
    "start_screening", "screening_progress", "verify", "review_queue", "consensus", "reveal", "agreement",
    "label_agreement",
    "annotation_map", "density_map", "features", "cluster_map", "infer",
    "split", "dataset", "mask", "set_mask",
]
VIEWER_API = ["goto", "add_layer", "on_view"]


def _mkdocs():
    pytest.importorskip("mkdocs", reason="the docs extra is not installed (make setup installs it)")
    pytest.importorskip("mkdocstrings")
    return [sys.executable, "-m", "mkdocs"]


ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's end-of-life banner is not a build warning


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(_mkdocs() + ["build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=ENV)
    return proc, out


def test_the_site_builds_strict_with_no_warning(site):
    proc, out = site
    assert proc.returncode == 0, proc.stderr[-4000:]
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line]
    assert warnings == []
    assert (out / "index.html").exists() and (out / "api" / "project" / "index.html").exists()


def test_a_broken_link_fails_the_strict_build(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    (docs / "guides" / "annotate.md").write_text("# Annotate\n\nSee [nowhere](no-such-page.md).\n")
    config = (ROOT / "mkdocs.yml").read_text().replace("docs_dir: docs", f"docs_dir: {docs}")
    config = config.replace("scripts/docs_cli_help.py", str(ROOT / "scripts" / "docs_cli_help.py"))
    (tmp_path / "mkdocs.yml").write_text(config)
    proc = subprocess.run(_mkdocs() + ["build", "--strict", "-f", str(tmp_path / "mkdocs.yml"),
                                       "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=ENV)
    assert proc.returncode != 0
    assert "no-such-page.md" in proc.stderr


def _lookup(cls, name):
    member = getattr(cls, name, None)
    if member is None:
        pytest.fail(f"DESIGN §11 names {cls.__name__}.{name}, and it does not exist")
    return member


@pytest.mark.parametrize("name", PROJECT_API)
def test_every_project_function_of_the_design_is_in_the_api_reference(site, name):
    from exact_lab.project import Project

    member = _lookup(Project, name)
    doc = inspect.getdoc(member) or ""
    assert re.search(r"\breturn", doc, re.IGNORECASE), f"Project.{name}'s docstring does not say what it returns: {doc!r}"
    page = (site[1] / "api" / "project" / "index.html").read_text()
    assert f'id="exact_lab.project.Project.{name}"' in page, f"Project.{name} missing from the API reference"


@pytest.mark.parametrize("name", VIEWER_API)
def test_every_viewer_function_of_the_design_is_in_the_api_reference(site, name):
    from exact_lab.widgets import SlideViewer

    member = _lookup(SlideViewer, name)
    doc = inspect.getdoc(member) or ""
    assert re.search(r"\breturn", doc, re.IGNORECASE), f"SlideViewer.{name}'s docstring does not say what it returns"
    page = (site[1] / "api" / "viewer" / "index.html").read_text()
    assert f'id="exact_lab.widgets.SlideViewer.{name}"' in page or f'id="exact_lab.widgets.viewer.SlideViewer.{name}"' in page


@pytest.mark.parametrize("path", ["exact_lab.project.open_project", "exact_lab.slides.open_slide"])
def test_the_module_functions_of_the_design_are_documented(site, path):
    import importlib

    module, name = path.rsplit(".", 1)
    doc = inspect.getdoc(getattr(importlib.import_module(module), name)) or ""
    assert re.search(r"\breturn", doc, re.IGNORECASE), doc
    page = "project" if "project" in module else "slides"
    assert f'id="{path}"' in (site[1] / "api" / page / "index.html").read_text()


def test_the_command_line_page_shows_every_command_help(site):
    from exact_lab.cli import build_parser

    page = (site[1] / "cli" / "index.html").read_text()
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices
    assert commands, "the parser has no sub-commands"
    for name, parser in commands.items():
        assert f"exact-lab {name}" in page, name
        first_option = next((a.option_strings[-1] for a in parser._actions if a.option_strings and a.dest != "help"), None)
        if first_option:
            assert first_option in page, (name, first_option)
