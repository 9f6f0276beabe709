"""The SlideViewer's kernel side: what it sends, and what browser edits do to the store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely
import traitlets
from recorder import Recorder, browser_edit, eventually

from exact_lab.widgets import SlideViewer


def chunk_shapes(rec):
    out = {}
    for m, _ in rec.of("chunk"):
        out.setdefault(m["layer"], 0)
        out[m["layer"]] += m["count"]
    return out


def test_quick_look_sends_binary_chunks_after_hello(small_svs):
    df = pd.DataFrame({"type": ["box", "point"], "geometry": [shapely.box(10, 10, 50, 40), shapely.Point(5, 6)]})
    v = SlideViewer(small_svs, annotations=df)
    rec = Recorder(v)
    assert v._source["width"] == 2220 and v._source["mpp"] == pytest.approx(0.499)
    assert not rec.messages  # nothing before the browser asks
    v._on_msg(v, {"type": "hello"}, [])
    kinds = [m["type"] for m, _ in rec.messages]
    assert kinds[0] == "reset" and kinds[-1] == "done"
    box = [(m, b) for m, b in rec.of("chunk") if m["kind"] == "box"][0]
    assert np.frombuffer(box[1][0], np.float32).tolist() == [10, 10, 50, 40]
    assert chunk_shapes(rec) == {"t:1": 1, "t:3": 1}
    # widget state stays small: no geometry in traits
    state = v.get_state()
    assert len(json.dumps({k: v for k, v in state.items() if k != "_esm"}, default=str)) < 10_000


def test_perf_says_how_long_the_kernel_took_to_send_a_batch(small_svs):
    v = SlideViewer(small_svs)
    Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    cells = shapely.buffer(shapely.points(np.random.default_rng(0).uniform(20, 1000, (500, 2))), 6, quad_segs=4)
    v.add_layer(pd.DataFrame({"geometry": cells}), "cells")
    assert v.perf["batch"] == v._model.batch and 0 < v.perf["send_s"] < 60
    assert "drawn_s" not in v.perf  # the browser has not reported yet


def test_browser_edits_change_the_in_memory_annotations(small_svs):
    v = SlideViewer(small_svs)
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    edits = []
    v.on_edit(edits.append)
    new = 2**30 + 5
    browser_edit(v, 1, [{"op": "put", "id": new, "uuid": "7d0f5c1e-8a5b-4f1e-9a57-2c5e0d6a1b11", "layer": "t:7", "kind": "polygon", "n": 3}],
                 [0, 0, 100, 0, 50, 80])
    assert rec.of("ack")[-1][0] == {"type": "ack", "seq": 1, "errors": []}
    ann = v.annotations
    assert list(ann["type"]) == ["polygon"] and ann["uuid"][0] == "7d0f5c1e-8a5b-4f1e-9a57-2c5e0d6a1b11"
    assert shapely.equals(ann["geometry"][0], shapely.Polygon([(0, 0), (100, 0), (50, 80)]))
    assert edits[0]["action"] == "add" and edits[0]["layer"] == "polygon"
    # change of type: the polygon layer to ... the box layer refuses a non-rectangle? no: the
    # browser only sends what fits; here a move, then a delete
    browser_edit(v, 2, [{"op": "put", "id": new, "layer": "t:7", "kind": "polygon", "n": 3}], [10, 0, 110, 0, 60, 80])
    assert v.annotations["geometry"][0].bounds == (10, 0, 110, 80)
    browser_edit(v, 3, [{"op": "delete", "id": new}])
    assert len(v.annotations) == 0
    browser_edit(v, 4, [{"op": "put", "id": new, "layer": "t:7", "kind": "polygon", "n": 3}], [10, 0, 110, 0, 60, 80])
    assert len(v.annotations) == 1 and edits[-1]["action"] == "add"  # undo of a delete


def test_selection_maps_ids_to_rows(small_svs):
    df = pd.DataFrame({"type": ["box"] * 3, "geometry": [shapely.box(i * 100, 0, i * 100 + 50, 50) for i in range(3)]})
    v = SlideViewer(small_svs, annotations=df)
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    uuids = list(v.annotations["uuid"])
    v.selected = [uuids[2], uuids[0]]
    sel_msg, sel_buf = rec.of("select")[-1]
    ids = np.frombuffer(sel_buf[0], np.float64)
    assert len(ids) == 2
    # the browser echoes a selection of ids: the kernel maps them back to rows
    v._on_msg(v, {"type": "selection", "gen": v._gen}, [memoryview(ids[:1].copy())])
    assert list(v.selected["uuid"]) == [uuids[2]]


def test_user_layers(small_svs):
    v = SlideViewer(small_svs)
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    rec.clear()
    n = 100_000
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 2000, n), rng.uniform(0, 2900, n)
    v.add_layer(pd.DataFrame({"xmin": x, "ymin": y, "xmax": x + 5, "ymax": y + 5, "score": rng.random(n)}), "cells",
                style={"color": "#00ffff", "opacity": 0.5})
    assert chunk_shapes(rec) == {"u:cells": n}
    assert len(rec.of("chunk")) == 2  # 65536 per chunk
    meta = [m for m in v._layers if m["key"] == "u:cells"][0]
    assert meta["color"] == "#00ffff" and meta["opacity"] == 0.5 and meta["count"] == n
    assert len(v.annotations) == n and set(v.annotations["layer"]) == {"cells"}
    v.remove_layer("cells")
    assert rec.of("drop")[-1][0]["layer"] == "u:cells"
    assert not any(m["key"] == "u:cells" for m in v._layers)


def test_goto_and_fit_are_small_traits(small_svs):
    v = SlideViewer(small_svs)
    v.goto(100, 200, zoom=0.5)
    assert v._goto["x"] == 100 and v._goto["scale"] == 0.5
    v.fit((0, 0, 10, 10))
    assert v._goto["bbox"] == [0, 0, 10, 10]
    with pytest.raises(traitlets.TraitError):
        v.tool = "laser"


@pytest.fixture
def proj_image(project, small_svs):
    iid = int(project.add_images([small_svs])["image_id"][0])
    project.add_annotation_type("cell", "box")
    project.add_annotation_type("region", "polygon")
    return project, iid


def test_project_edits_reach_the_store_and_other_viewers(proj_image):
    proj, iid = proj_image
    a, b = proj.viewer(iid), proj.viewer(iid)
    ra, rb = Recorder(a), Recorder(b)
    for v in (a, b):
        v._on_msg(v, {"type": "hello"}, [])
    cell = f"t:{int(proj.annotation_types().set_index('name').loc['cell', 'type_id'])}"
    region = f"t:{int(proj.annotation_types().set_index('name').loc['region', 'type_id'])}"
    new = 2**30 + 1
    browser_edit(a, 1, [{"op": "put", "id": new, "uuid": "0b5a5f4e-5f0e-4a4e-8f43-0f3a4e5b6c7d", "layer": cell, "kind": "box", "n": 2}], [10, 20, 60, 70])
    # the other viewer hears of it at once, before any commit
    up = rb.of("upsert")[-1][0]
    assert up["shapes"][0]["uuid"] == "0b5a5f4e-5f0e-4a4e-8f43-0f3a4e5b6c7d" and up["shapes"][0]["kind"] == "box"
    proj.flush()
    rows = proj.annotations(image=iid)
    assert list(rows["type"]) == ["cell"] and rows["geometry"][0].bounds == (10, 20, 60, 70)
    # a refused edit (a triangle into a box type) is answered with an error and the stored state
    browser_edit(a, 2, [{"op": "put", "id": new, "layer": cell, "kind": "polygon", "n": 3}], [0, 0, 10, 0, 5, 9])
    ack = ra.of("ack")[-1][0]
    assert ack["seq"] == 2 and ack["errors"] and ack["errors"][0]["id"] == new
    restored = ra.of("upsert")[-1]
    assert restored[0]["shapes"][0]["id"] == new
    assert np.frombuffer(restored[1][0], np.float64).tolist() == [10, 20, 60, 70]
    # a type change (box -> polygon type) and a delete
    browser_edit(a, 3, [{"op": "put", "id": new, "layer": region, "kind": "polygon", "n": 4}], [10, 20, 60, 20, 60, 70, 10, 70])
    proj.flush()
    assert list(proj.annotations(image=iid)["type"]) == ["region"]
    browser_edit(a, 4, [{"op": "delete", "id": new}])
    proj.flush()
    assert len(proj.annotations(image=iid)) == 0
    assert proj.annotations(image=iid, include_deleted=True)["deleted"].all()


def test_committed_rows_confirm_or_correct(proj_image):
    proj, iid = proj_image
    v = proj.viewer(iid)
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    cell = v._types[0]["layer"]
    browser_edit(v, 1, [{"op": "put", "id": 2**30, "uuid": "1c2d3e4f-0000-4000-8000-000000000001", "layer": cell, "kind": "box", "n": 2}], [1, 2, 3, 4])
    rec.clear()
    proj.flush()  # commit -> on_change -> the viewer compares the committed rows with what it sent

    def confirmed():
        saved = rec.of("saved")
        assert saved and saved[-1][0]["pending"] == 0

    eventually(confirmed)
    assert not rec.of("upsert")  # equal: confirmed, nothing to correct
    # someone else moved it: the browser is told
    proj.update_annotations(pd.DataFrame({"uuid": ["1c2d3e4f-0000-4000-8000-000000000001"], "geometry": [shapely.box(5, 5, 9, 9)]}))

    def told():
        upserts = rec.of("upsert")
        assert upserts and np.frombuffer(upserts[-1][1][0], np.float64).tolist() == [5, 5, 9, 9]

    eventually(told)


def test_large_store_layer_is_chunked(proj_image):
    proj, iid = proj_image
    n = 70_000
    rng = np.random.default_rng(2)
    x, y = rng.uniform(0, 2100, n), rng.uniform(0, 2900, n)
    proj.add_annotations(pd.DataFrame({"image_id": iid, "type": "cell", "xmin": x, "ymin": y, "xmax": x + 4, "ymax": y + 4}))
    v = proj.viewer(iid)
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    chunks = [m for m, _ in rec.of("chunk")]
    assert sum(m["count"] for m in chunks) == n and len(chunks) == 2
    ids = np.concatenate([np.arange(m["id_start"], m["id_start"] + m["count"]) for m in chunks])
    assert len(set(ids)) == n


def test_q_and_e_move_through_the_image_set(project, shared_data):
    slides = shared_data / "slides"
    paths = [slides / "aperio" / "CMU-1-Small-Region.svs", slides / "tiff" / "wsic_CMU-1-Small-Region.jpeg.tiff"]
    project.add_image_set("set")
    ids = [int(i) for i in project.add_images(paths, image_set="set")["image_id"]]
    v = project.viewer(ids[0])
    rec = Recorder(v)
    v._on_msg(v, {"type": "hello"}, [])
    v._on_msg(v, {"type": "navigate", "delta": 1}, [])
    assert v.image == ids[1] and v._source["name"] == paths[1].name
    assert rec.of("reset")[-1][0]["gen"] == v._gen  # the browser starts over with the new image
    v._on_msg(v, {"type": "navigate", "delta": 1}, [])
    assert v.image == ids[1] and "no further image" in rec.of("notice")[-1][0]["text"]
    v._on_msg(v, {"type": "navigate", "delta": -1}, [])
    assert v.image == ids[0]


def test_a_slide_that_does_not_open_is_reported_in_the_widget(tmp_path):
    bad = tmp_path / "broken.svs"
    bad.write_bytes(b"not a slide at all")
    v = SlideViewer(bad)
    assert v._source["error"] and "Cannot open the slide" in v._source["error"]


def test_leaflet_bridge(small_svs):
    pytest.importorskip("ipyleaflet")
    from exact_lab.widgets import leaflet

    v = SlideViewer(small_svs)
    v._source = {**v._source, "path": "slides/CMU 1.svs"}  # as if under the server's root
    url = leaflet.tile_url(v, base_url="/user/alice/")
    assert url.startswith("/user/alice/exact-lab/dz/slides/CMU%201.svs_files/{z}/{x}_{y}.jpeg?v=")
    layer = leaflet.slide_layer(v, base_url="/")
    ml = v._source["max_level"]
    assert layer.max_native_zoom == ml and layer.tile_size == 254
    assert leaflet.to_latlng(2 ** ml, 2 ** ml, ml) == (-1.0, 1.0)
    m = leaflet.slide_map(v, base_url="/")
    assert m.crs["name"] == "Simple"
    v._source = {**v._source, "path": None, "token": None}
    with pytest.raises(ValueError, match="not under the Jupyter server's root"):
        leaflet.tile_url(v)


def test_pseudonymised_images_never_show_their_path(project, small_svs, tmp_path, monkeypatch):
    monkeypatch.setenv("EXACT_LAB_ALIASES", str(tmp_path / "aliases.json"))
    row = project.add_images([small_svs], pseudonymize=True).iloc[0]
    v = project.viewer(int(row["image_id"]))
    src = v._source
    assert src["token"] and src["path"] is None and src["abs_path"] is None
    assert src["name"] == row["public_name"] != small_svs.name
    state = json.dumps({k: x for k, x in v.get_state().items() if k != "_esm"}, default=str)
    assert str(small_svs) not in state and small_svs.name not in state
    from exact_lab.slides import aliases

    assert aliases.resolve(src["token"]) == small_svs.resolve()


def test_polygon_layers_are_filled_and_polygon_fill_changes_every_one(proj_image):
    proj, iid = proj_image
    v = proj.viewer(iid)
    fills = {m["name"]: m["fill_opacity"] for m in v._layers}
    assert fills == {"cell": 0.0, "region": 0.25}  # boxes keep their outline only
    v.polygon_fill = 0.6
    assert {m["name"]: m["fill_opacity"] for m in v._layers} == {"cell": 0.0, "region": 0.6}
    v.polygon_fill = 0.0  # outlines only
    assert [m["fill_opacity"] for m in v._layers if m["name"] == "region"] == [0.0]
    with pytest.raises(Exception, match="between 0 and 1"):
        v.polygon_fill = 1.5
    assert v.polygon_fill == 0.0
    with pytest.raises(Exception, match="between 0 and 1"):
        proj.viewer(iid, polygon_fill=-0.1)
    # and a viewer can be opened with its own fill
    w = proj.viewer(iid, polygon_fill=0.4)
    assert [m["fill_opacity"] for m in w._layers if m["name"] == "region"] == [0.4]
