"""The HPF frame: a draggable square of fixed area whose count is the store's wherever it goes."""

from __future__ import annotations

import math

import pytest
from mitosis_fields import add_mitosis_field
from recorder import Recorder, browser_edit, eventually
from shapely.geometry import box

from exact_lab.errors import InvalidValueError

MPP = 0.499  # CMU-1-Small-Region.svs
AREA = 0.1   # mm²: a side of ~634 px on this slide


@pytest.fixture
def clustered(project, small_svs):
    """Mitoses spread over the slide and a cluster of 30 at (1500, 2000); cells everywhere."""
    image_id = add_mitosis_field(project, small_svs, seed=2, cells=200, spread=15, cluster=30)
    return project, image_id


def store_count(project, image_id, bounds, type_name="mitosis"):
    x0, y0, x1, y1 = bounds
    return project.sql(
        "SELECT count(*) FROM annotations a JOIN annotation_types t USING (type_id) WHERE a.image_id = ? AND t.name = ? "
        "AND NOT a.deleted AND (a.min_x + a.max_x) / 2 >= ? AND (a.min_x + a.max_x) / 2 < ? "
        "AND (a.min_y + a.max_y) / 2 >= ? AND (a.min_y + a.max_y) / 2 < ?",
        params=[image_id, type_name, x0, x1, y0, y1]).fetchone()[0]


def frame_id(rec) -> int:
    return [m for m, _ in rec.of("chunk") if m["layer"] == "u:10 HPF"][-1]["id_start"]


def test_the_frame_starts_on_the_densest_area_and_counts_there(clustered):
    proj, image_id = clustered
    v = proj.viewer(image_id)
    shown = v.show_hpf_frame(types=["mitosis"], area_mm2=AREA)
    side = math.sqrt(AREA) / (MPP / 1000)
    x0, y0, x1, y1 = shown["bounds"]
    assert shown["side"] == pytest.approx(side) and x1 - x0 == pytest.approx(side)
    assert shown["bounds"] == pytest.approx(proj.densest_area(image_id, types=["mitosis"], area_mm2=AREA)["bounds"])
    assert shown["count"] == store_count(proj, image_id, shown["bounds"]) >= 30
    assert v._hpf["count"] == shown["count"] and v._hpf["layer"] == "u:10 HPF"
    mitosis_layer = [t["layer"] for t in v._types if t["name"] == "mitosis"]
    assert v._hpf["types"] == mitosis_layer  # what the browser counts live
    v.close()


def test_a_dragged_frame_keeps_its_area_and_counts_what_the_store_holds_there(clustered):
    proj, image_id = clustered
    v = proj.viewer(image_id)
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    v.show_hpf_frame(at=(0, 0), types=["mitosis"], area_mm2=AREA)
    side = v.hpf_frame["side"]
    assert v.hpf_frame["count"] == store_count(proj, image_id, v.hpf_frame["bounds"])
    # the browser moves the box (select, drag): an edit of the frame's layer
    browser_edit(v, 1, [{"op": "put", "id": frame_id(rec), "layer": "u:10 HPF", "kind": "box", "n": 2}],
                 [1200, 1700, 1200 + side, 1700 + side])
    moved = v.hpf_frame
    assert moved["bounds"] == pytest.approx((1200, 1700, 1200 + side, 1700 + side))
    assert moved["count"] == store_count(proj, image_id, moved["bounds"]) >= 30  # on the cluster
    assert v._hpf["bounds"] == pytest.approx(list(moved["bounds"])) and v._hpf["count"] == moved["count"]
    # a resize snaps back to the frame's area, at the new corner
    browser_edit(v, 2, [{"op": "put", "id": frame_id(rec), "layer": "u:10 HPF", "kind": "box", "n": 2}],
                 [300, 400, 300 + side / 2, 400 + side])
    assert v.hpf_frame["bounds"] == pytest.approx((300, 400, 300 + side, 400 + side))
    layer = v.layer("10 HPF")
    assert layer["xmax"].iloc[0] - layer["xmin"].iloc[0] == pytest.approx(side)
    v.close()


def test_python_places_the_frame_where_densest_area_found_it(clustered):
    proj, image_id = clustered
    v = proj.viewer(image_id)
    v.show_hpf_frame(at=(0, 0), area_mm2=AREA)  # every type counts
    assert v.hpf_frame["count"] == (store_count(proj, image_id, v.hpf_frame["bounds"])
                                    + store_count(proj, image_id, v.hpf_frame["bounds"], "cell"))
    densest = proj.densest_area(image_id, types=["mitosis"], area_mm2=AREA)
    placed = v.place_hpf_frame(densest)
    assert placed["bounds"] == pytest.approx(densest["bounds"])
    assert v.layer("10 HPF")["xmin"].iloc[0] == pytest.approx(densest["bounds"][0])
    with pytest.raises(InvalidValueError, match="level-0 pixels"):
        v.place_hpf_frame("the middle")
    v.hide_hpf_frame()
    assert v.hpf_frame is None and "10 HPF" not in set(v.layers["name"]) and v._hpf == {}
    v.close()


def test_the_store_count_follows_commits_while_the_frame_rests(clustered):
    """Rows added inside the resting frame (by this kernel), then one deleted: the frame's count
    is the store's after each commit, not the count of when it was placed."""
    proj, image_id = clustered
    v = proj.viewer(image_id)
    shown = v.show_hpf_frame(types=["mitosis"], area_mm2=AREA)
    before = shown["count"]
    x0, y0, _, _ = shown["bounds"]
    added = proj.add_annotations([{"image_id": image_id, "type": "mitosis", "geometry": box(x0 + 5 + 30 * k, y0 + 5, x0 + 25 + 30 * k, y0 + 25)}
                                  for k in range(3)])

    def counted(n):
        assert v.hpf_frame["count"] == before + n == store_count(proj, image_id, shown["bounds"])
        assert v._hpf["count"] == before + n  # what the browser shows while the frame rests

    eventually(lambda: counted(3))
    proj.delete_annotations(added[:1])
    eventually(lambda: counted(2))
    outside = proj.add_annotations({"image_id": image_id, "type": "cell", "geometry": "POINT (5 5)"})
    assert outside
    eventually(lambda: counted(2))  # a type it does not count
    v.close()
