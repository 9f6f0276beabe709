import numpy as np
import pytest
import shapely
from recorder import chunk_vertices

from exact_lab.widgets import encode


def decode(head, buffers):
    """Rebuild shapely geometries from one chunk the way the browser reads it."""
    f32 = chunk_vertices(head, buffers).astype(np.float64)
    n = head["count"]
    if head["kind"] == "box":
        return [shapely.box(*f32[4 * i:4 * i + 4]) for i in range(n)]
    if head["kind"] == "point":
        return [shapely.Point(f32[2 * i:2 * i + 2]) for i in range(n)]
    off = np.frombuffer(buffers[1], np.uint32)
    xy = f32.reshape(-1, 2)
    if head["kind"] == "path":
        return [shapely.LineString(xy[off[i]:off[i + 1]]) for i in range(n)]
    g = np.frombuffer(buffers[2], np.uint32)
    out = []
    for i in range(n):
        rings = [xy[off[r]:off[r + 1]] for r in range(g[i], g[i + 1])]
        out.append(shapely.Polygon(rings[0], rings[1:]))
    return out


def test_kinds_follow_the_geometry_and_rectangles_become_boxes():
    geoms = np.array([
        shapely.box(0, 0, 10, 5),
        shapely.Polygon([(0, 0), (4, 0), (0, 3)]),
        shapely.Point(1, 2),
        shapely.LineString([(0, 0), (5, 5)]),
        None,
        shapely.Polygon(),
        shapely.MultiPoint([(1, 1), (2, 2)]),
        shapely.box(0, 0, 4, 4).union(shapely.box(10, 10, 12, 12)),  # multipolygon of two rectangles
        shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (4, 4), (2, 4)]]),  # a hole
    ], dtype=object)
    cols = {c.kind: c for c in encode.geometry_columns(geoms)}
    assert sorted(cols["box"].rows) == [0, 7, 7]
    assert list(cols["polygon"].rows) == [1, 8]
    assert list(cols["point"].rows) == [2, 6, 6]
    assert list(cols["path"].rows) == [3]
    assert list(cols["polygon"].geom_offsets) == [0, 1, 3]  # the holed polygon has two rings
    assert list(cols["polygon"].offsets) == [0, 3, 7, 11]  # rings without their closing vertex


@pytest.mark.parametrize("n", [10, 70_000])
def test_chunks_carry_every_shape_and_are_spatially_compact(n):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 50_000, n), rng.uniform(0, 40_000, n)
    polys = shapely.buffer(shapely.points(x, y), rng.uniform(2, 20, n), quad_segs=2)
    [c] = encode.geometry_columns(polys, "polygon")
    c = encode.reorder(c, encode.spatial_order(c.bounds, (0, 0, 50_000, 40_000)))
    seen, areas = [], []
    for head, buffers in encode.chunk_payloads(c, id_start=100, chunk_size=8192):
        got = decode(head, buffers)
        rows = c.rows[head["id_start"] - 100: head["id_start"] - 100 + head["count"]]
        for g, r in zip(got, rows):
            assert shapely.equals_exact(g, polys[r], tolerance=0.01)
        seen.extend(rows)
        x0, y0, x1, y1 = head["bbox"]
        areas.append((x1 - x0) * (y1 - y0))
    assert sorted(seen) == list(range(n))
    if n > 8192:  # a chunk covers a small part of the slide, not all of it
        assert max(areas) < 0.3 * 50_000 * 40_000


def test_box_types_use_the_bbox_columns():
    boxes = np.array([[0, 0, 10, 10], [5, 5, 6, 9]], float)
    [c] = encode.geometry_columns(np.array([None, None], object), "ellipse", boxes=boxes)
    assert c.kind == "box" and np.array_equal(c.coords, boxes)


@pytest.mark.parametrize("geom, hint", [
    (shapely.box(1, 2, 30, 40), "box"),
    (shapely.Point(3.5, 4.25), None),
    (shapely.LineString([(0, 0), (3, 4), (5, 1)]), None),
    (shapely.Polygon([(0, 0), (10, 0), (5, 8)]), None),
    (shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(2, 2), (4, 2), (3, 4)]]), None),
])
def test_single_shapes_round_trip(geom, hint):
    kind, coords, rings = encode.shape_of(geom, hint)
    back = encode.geometry_of(kind, coords, rings)
    assert shapely.equals(back, geom)


def test_polygons_without_holes_read_in_one_pass_give_the_general_columns():
    """The one-pass read of hole-free polygons (and no split when nothing is multi-part) gives the
    columns the ring-by-ring read gives."""
    from shapely.geometry import MultiPolygon, Polygon

    rng = np.random.default_rng(4)
    cells = list(shapely.buffer(shapely.points(rng.uniform(0, 500, 40), rng.uniform(0, 500, 40)), 6, quad_segs=4))
    holed = Polygon([(0, 0), (50, 0), (50, 50), (0, 50)], [[(10, 10), (20, 10), (20, 20)]])
    multi = MultiPolygon([cells[0], cells[1]])
    for geoms in (cells, cells + [holed], cells + [multi, holed]):
        (got,) = [c for c in encode.geometry_columns(np.array(geoms, dtype=object), "polygon")]
        parts, idx = shapely.get_parts(np.array(geoms, dtype=object), return_index=True)
        rings, ring_geom = shapely.get_rings(parts, return_index=True)
        coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
        counts = np.bincount(ring_idx, minlength=len(rings))
        keep = np.ones(len(coords), bool)
        keep[np.cumsum(counts) - 1] = False  # rings are drawn as loops: no closing vertex
        assert got.rows.tolist() == idx.tolist()
        assert np.array_equal(got.coords, coords[keep])
        assert got.offsets.tolist() == [0, *np.cumsum(counts - 1).tolist()]
        assert got.geom_offsets.tolist() == [0, *np.cumsum(np.bincount(ring_geom, minlength=len(parts))).tolist()]
        assert np.array_equal(got.bounds, shapely.bounds(parts))


def test_columns_ordered_on_the_way_out_equal_columns_ordered_afterwards():
    """geometry_columns(extent=) gives what Layers.place's reorder gives (hole-free polygons take
    another way there: one gather that also drops the closing vertices), and placing them again
    leaves them as they are."""
    from shapely.geometry import MultiPolygon, Polygon

    rng = np.random.default_rng(7)
    points = shapely.points(rng.uniform(0, 900, 300), rng.uniform(0, 700, 300))
    cells = [shapely.buffer(p, rng.uniform(3, 9), quad_segs=int(rng.integers(2, 6))) for p in points]  # 9-21 vertices
    holed = Polygon([(0, 0), (50, 0), (50, 50), (0, 50)], [[(10, 10), (20, 10), (20, 20)]])
    others = [shapely.Point(5, 600), shapely.LineString([(800, 10), (850, 60), (870, 20)]), shapely.Point(880, 5)]
    extent = (0, 0, 1000, 800)
    for geoms in (cells, cells + others, cells + [MultiPolygon([cells[0], cells[1]]), holed] + others):
        geoms = np.array(geoms, dtype=object)
        ordered = {c.kind: c for c in encode.geometry_columns(geoms, extent=extent)}
        expected = {c.kind: encode.reorder(c, encode.spatial_order(c.bounds, extent)) for c in encode.geometry_columns(geoms)}
        assert ordered.keys() == expected.keys()
        for kind, want in expected.items():
            got = ordered[kind]
            assert got.rows.tolist() == want.rows.tolist(), kind
            assert np.array_equal(got.coords, want.coords) and np.array_equal(got.bounds, want.bounds), kind
            for name in ("offsets", "geom_offsets"):
                a, b = getattr(got, name), getattr(want, name)
                assert (a is None and b is None) or a.tolist() == b.tolist(), (kind, name)
            assert encode.reorder(got, encode.spatial_order(got.bounds, extent)) is got  # place() again: no copy
