"""Round trips of random geometry through every writer and reader (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exact_lab import formats
from exact_lab.formats._common import Parsed, image_table, table

from .conftest import assert_same_annotations

W, H = 4000, 3000
coord_x = st.floats(0, W, allow_nan=False, allow_infinity=False, width=64)
coord_y = st.floats(0, H, allow_nan=False, allow_infinity=False, width=64)


@st.composite
def boxes(draw):
    x0, x1 = sorted([draw(coord_x), draw(coord_x)])
    y0, y1 = sorted([draw(coord_y), draw(coord_y)])
    if x1 - x0 < 1e-3 or y1 - y0 < 1e-3:  # too thin: a small box that still lies in the image
        x0, y0 = min(x0, W - 1.5), min(y0, H - 2.25)
        x1, y1 = x0 + 1.5, y0 + 2.25
    return shapely.box(x0, y0, x1, y1), "box"


@st.composite
def polygons(draw):
    """A star-shaped polygon around a centre: always simple, any number of vertices."""
    n = draw(st.integers(3, 12))
    cx, cy = draw(st.floats(200, W - 200)), draw(st.floats(200, H - 200))
    radii = draw(st.lists(st.floats(5, 150), min_size=n, max_size=n))
    angles = np.sort(draw(st.lists(st.floats(0, 2 * np.pi, exclude_max=True), min_size=n, max_size=n, unique=True)))
    xy = np.column_stack([cx + np.array(radii) * np.cos(angles), cy + np.array(radii) * np.sin(angles)])
    p = shapely.Polygon(xy)
    if not p.is_valid or p.area < 1:
        p = shapely.box(cx, cy, cx + 10, cy + 10)
    return p, "polygon" if len(p.exterior.coords) != 5 or p.area != shapely.box(*p.bounds).area else "box"


@st.composite
def points(draw):
    n = draw(st.integers(1, 5))
    xy = [(draw(coord_x), draw(coord_y)) for _ in range(n)]
    return (shapely.Point(xy[0]) if n == 1 else shapely.MultiPoint(xy)), "point"


@st.composite
def polylines(draw):
    n = draw(st.integers(3, 8))
    xy = [(draw(coord_x), draw(coord_y)) for _ in range(n)]
    return shapely.LineString(xy), "polyline"


def _whole(g):
    if g.geom_type == "Polygon":
        x0, y0, x1, y1 = np.round(g.bounds)
        return shapely.box(x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))
    return shapely.transform(g, np.round)


def parsed_of(shapes, classes):
    rows = [{"image": "img.png", "type": f"{c}-{s}", "geometry": g, "shape": s}
            for (g, s), c in zip(shapes, classes)]
    return Parsed(annotations=table(rows), images=image_table([{"name": "img.png", "width": W, "height": H}]))


def through(tmp_path, parsed, fmt, name, **read_options):
    ann, img, tps = formats.frames_from_parsed(parsed)
    out = tmp_path / name
    formats.write(out, fmt, ann, img, tps)
    return formats.read(out, fmt, images=parsed.images, **read_options)


PROFILE = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# format, file name, which shapes it holds, tolerance, read options, keeps order
CASES = [
    ("coco", "a.json", ("box", "polygon", "point"), 1e-9, {}),
    ("cvat", "a.xml", ("box", "polygon", "point", "polyline"), 1e-9, {}),
    ("labelme", "lm", ("box", "polygon", "point", "polyline"), 1e-9, {}),
    ("datumaro", "dm", ("box", "polygon", "point", "polyline"), 1e-9, {}),
    ("qupath", "a.geojson", ("box", "polygon", "point", "polyline"), 1e-9, {"image": "img.png"}),
    ("asap", "a.xml", ("box", "polygon", "point"), 1e-9, {"image": "img.png"}),
    ("yolo", "y", ("box", "polygon"), 1e-6 * W, {}),
    ("voc", "voc", ("box",), 1e-9, {}),
    ("createml", "c.json", ("box",), 1e-9, {}),
    ("csv", "a.csv", ("box",), 1e-9, {}),
    ("exact", "a.txt", ("box", "polygon", "point", "polyline"), 1e-9, {}),
    ("sliderunner", "a.sqlite", ("box", "spot"), 0, {}),  # a point set becomes single spots there
]
STRATEGY = {"box": boxes(), "polygon": polygons(), "point": points(), "polyline": polylines(),
            "spot": st.tuples(coord_x, coord_y).map(lambda xy: (shapely.Point(xy), "point"))}


@pytest.mark.parametrize("fmt,name,kinds,tol,opts", CASES, ids=[c[0] for c in CASES])
def test_random_geometry_roundtrip(tmp_path, fmt, name, kinds, tol, opts):
    shape_lists = st.lists(st.one_of(*[STRATEGY[k] for k in kinds]), min_size=1, max_size=6)

    @PROFILE
    @given(shapes=shape_lists, classes=st.lists(st.sampled_from(["a", "b"]), min_size=6, max_size=6))
    def check(shapes, classes):
        if fmt == "sliderunner":  # SlideRunner stores whole pixels: start from whole pixels
            shapes = [(_whole(g), k) for g, k in shapes]
        parsed = parsed_of(shapes, classes)
        if fmt == "exact":  # the pipe file does not say which vector type: the project's types do
            opts["vector_types"] = {t: s if s != "point" else "point" for t, s in
                                    zip(parsed.annotations["type"], parsed.annotations["shape"])}
        back = through(tmp_path, parsed, fmt, name, **opts)
        before = parsed.annotations
        assert_same_annotations(before, back.annotations, tol, types=fmt not in ("exact",), order=False)

    check()
