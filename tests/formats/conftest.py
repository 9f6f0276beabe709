"""Fixtures for the format tests: the real annotation files, and helpers that compare parsed
files geometry by geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from exact_lab import formats


@pytest.fixture(scope="session")
def annotations_dir(shared_data) -> Path:
    d = shared_data / "annotations"
    if not d.is_dir():
        pytest.skip(f"real annotation files not present at {d}")
    return d


def same_geometry(a, b, tol=1e-9) -> bool:
    """Equal shapes, point for point (normalised ring start/orientation), within tol."""
    if a is None or b is None:
        return a is None and b is None
    if a.geom_type != b.geom_type:
        return False
    return shapely.equals_exact(shapely.normalize(a), shapely.normalize(b), tolerance=tol)


def assert_same_annotations(a: pd.DataFrame, b: pd.DataFrame, tol=1e-9, *, types=True, order=True):
    """Same number of annotations, same classes and geometry (in order, or as multisets)."""
    assert len(a) == len(b), f"{len(a)} annotations before, {len(b)} after"
    if not order:
        def key(df):  # by type, image and position (rounded, so tiny rounding does not reorder)
            pos = df["geometry"].map(lambda g: "" if g is None else
                                     ",".join(f"{v:012.2f}" for v in np.round(g.bounds, 2))).to_numpy(str)
            return np.lexsort([pos, df["image"].to_numpy(str), df["type"].to_numpy(str)])
        a, b = a.iloc[key(a)].reset_index(drop=True), b.iloc[key(b)].reset_index(drop=True)
    if types:
        assert list(a["type"]) == list(b["type"])
    assert list(a["image"]) == list(b["image"])
    bad = [i for i, (g, h) in enumerate(zip(a["geometry"], b["geometry"])) if not same_geometry(g, h, tol)]
    assert not bad, f"geometry differs at rows {bad[:5]}: {a['geometry'].iloc[bad[0]]} vs {b['geometry'].iloc[bad[0]]}"


@pytest.fixture
def roundtrip(tmp_path):
    """Parse ``src``, write it as ``fmt`` and parse that again: (before, after, write report)."""

    def run(src, fmt, *, out_name="out", read_options=None, reread_options=None, **write_options):
        before = formats.read(src, **(read_options or {}))
        ann, img, tps = formats.frames_from_parsed(before)
        out = tmp_path / out_name
        report = formats.write(out, fmt, ann, img, tps, **write_options)
        opts = {"images": before.images, **(reread_options or {})}
        after = formats.read(out, fmt, **opts)
        return before, after, report

    return run
