"""Seeded mutations of every real annotation file (byte flips, truncation, deleted keys and
elements, values of the wrong type, huge and non-finite numbers, changed table cells): each import
either succeeds or raises an error of the project's own that names a file of the import, and a
failed import leaves the project exactly as it was.

Reproducible: a case is rebuilt from its seed (printed with every failure). Bounded: a few cases
per file here; ``EXACT_LAB_FUZZ_CASES=200`` runs many more by hand.
"""

from __future__ import annotations

import os
import random
import zlib

import pytest

import exact_lab as xl
from exact_lab.errors import ExactLabError

from .mutations import annotation_files, copy_source, mutate_file
from .test_real_files import SOURCES

CASES = int(os.environ.get("EXACT_LAB_FUZZ_CASES", "4"))


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory):
    proj = xl.open_project(tmp_path_factory.mktemp("fuzz") / "project", user="fuzz")
    yield proj
    proj.close()


def _counts(proj) -> dict:
    info = proj.info()
    return {k: v for k, v in info.items() if k not in ("location", "data_path", "user", "mode")}


@pytest.mark.parametrize("rel,fmt", SOURCES, ids=[s for s, _ in SOURCES])
def test_mutated_files_import_cleanly_or_fail_naming_the_file(annotations_dir, fuzz_project, tmp_path, rel, fmt):
    failures = []
    before = _counts(fuzz_project)
    for case in range(CASES):
        seed = zlib.crc32(f"{rel}#{case}".encode())
        rng = random.Random(seed)
        root = copy_source(annotations_dir / rel, tmp_path / f"case{case}{(annotations_dir / rel).suffix}")
        target = rng.choice(annotation_files(root))
        what = mutate_file(target, rng)
        label = f"seed {seed} ({target.relative_to(root.parent)}: {what})"
        try:
            fuzz_project.import_annotations(root, format=fmt, image_set=f"fuzz-{case}")
        except ExactLabError as exc:
            if str(root) not in str(exc):
                failures.append(f"{label}: the error does not name the file: {exc}")
            after = _counts(fuzz_project)
            if after != before:
                failures.append(f"{label}: a failed import changed the project {before} -> {after}")
        except Exception as exc:  # anything else is a defect of the reader
            failures.append(f"{label}: {type(exc).__name__}: {str(exc)[:300]}")
        else:
            before = _counts(fuzz_project)
    assert not failures, "\n".join(failures)


def test_every_reader_given_any_real_file_or_folder_fails_cleanly(annotations_dir, tmp_path):
    """The wrong format on purpose (each reader on every other format's files, an empty folder, a
    path that does not exist): a result or an error of the project's own naming the path."""
    from exact_lab import formats

    (tmp_path / "empty").mkdir()
    paths = [annotations_dir / rel for rel, _ in SOURCES] + [tmp_path / "empty", tmp_path / "missing", annotations_dir]
    failures = []
    for fmt in formats.FORMATS:
        for path in paths:
            try:
                formats.read(path, fmt)
            except ExactLabError as exc:
                if str(path) not in str(exc):
                    failures.append(f"{fmt} on {path}: the error does not name it: {exc}")
            except Exception as exc:
                failures.append(f"{fmt} on {path}: {type(exc).__name__}: {str(exc)[:200]}")
    assert not failures, "\n".join(failures)
