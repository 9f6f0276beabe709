"""A viewer on an annotation map: it knows its map, browser edits of map annotations reach the
source annotations (and a viewer of the source hears of them), f verifies the sources, o opens
the source of a patch."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from recorder import Recorder, browser_edit, browser_polygons, eventually


@pytest.fixture
def mapped(project, small_svs):
    """(project, source image id, map) with twelve cell outlines on a 4 x 3 grid of the slide."""
    iid = int(project.add_images([small_svs])["image_id"][0])
    project.add_annotation_type("tumor cell", "polygon")
    project.add_annotation_type("immune cell", "polygon")
    cells = [shapely.Point(300 + 200 * (k % 4), 300 + 200 * (k // 4)).buffer(14, quad_segs=4) for k in range(12)]
    project.add_annotations(pd.DataFrame({"image_id": iid, "type": "tumor cell", "geometry": cells}))
    return project, iid, project.annotation_map(types="tumor cell", columns=4)


def layer_key(proj, name):
    return f"t:{int(proj.annotation_types().set_index('name').loc[name, 'type_id'])}"


def ids_of(viewer, uuids):
    return viewer._model.layers.ids_of_many(list(uuids))


def source_types(proj, iid):
    return proj.annotations(image=iid).set_index("uuid")["type"]


def test_the_project_says_which_images_are_maps(mapped):
    proj, iid, m = mapped
    assert proj.map_of(iid) is None
    found = proj.map_of(m.image_id)
    assert found.image_id == m.image_id and len(found) == 12
    assert m.viewer().source_map.image_id == m.image_id
    assert proj.viewer(iid).source_map is None


def test_a_number_key_on_map_annotations_relabels_their_sources_and_the_source_viewer_updates(mapped):
    proj, iid, m = mapped
    on_map, on_source = m.viewer(), proj.viewer(iid)
    rec_map, rec_source = Recorder(on_map), Recorder(on_source)
    for v in (on_map, on_source):
        v._on_msg(v, {"type": "hello"}, [])
    group = m.mapping.head(3)  # what a box selection over the first row's patches holds
    held = browser_polygons(rec_map.of("chunk"))  # the vertices as the browser decoded them
    ops, coords = [], []
    for id_ in ids_of(on_map, group["map_uuid"]):
        ring = held[int(id_)]
        ops.append({"op": "put", "id": int(id_), "layer": layer_key(proj, "immune cell"), "kind": "polygon", "n": len(ring)})
        coords.extend(ring.ravel())
    browser_edit(on_map, 1, ops, coords)  # the number key's edit: the same shapes in another layer
    proj.flush()  # the session commits the map annotations; the map viewer syncs them to the sources

    def relabelled():
        types = source_types(proj, iid)
        assert set(types[types == "immune cell"].index) == set(group["uuid"])
        assert (types.drop(index=group["uuid"]) == "tumor cell").all()
        pushed = [s for msg, _ in rec_source.of("upsert") for s in msg["shapes"]]
        assert {s["uuid"] for s in pushed if s["layer"] == layer_key(proj, "immune cell")} == set(group["uuid"])
        # one notice per commit (the session may have committed the edit in more than one batch)
        notices = [msg["text"] for msg, _ in rec_map.of("notice")]
        assert all(re.fullmatch(r"sources updated: \d retyped", t) for t in notices), notices  # the steps' rounding is no move
        assert sum(int(t.split()[2]) for t in notices) == 3

    eventually(relabelled)


def test_a_delete_and_a_moved_vertex_on_the_map_reach_the_sources(mapped):
    proj, iid, m = mapped
    v = m.viewer()
    v._on_msg(v, {"type": "hello"}, [])
    gone, moved = m.mapping.iloc[0], m.mapping.iloc[1]
    ring = np.asarray(proj.annotations(image=m.image_id).set_index("uuid").at[moved["map_uuid"], "geometry"].exterior.coords)
    ring[0] += (3.0, -2.0)
    ring[-1] = ring[0]
    before = np.asarray(proj.annotations(image=iid).set_index("uuid").at[moved["uuid"], "geometry"].exterior.coords)
    del_id, move_id = ids_of(v, [gone["map_uuid"], moved["map_uuid"]])
    browser_edit(v, 1, [{"op": "delete", "id": int(del_id)},
                        {"op": "put", "id": int(move_id), "layer": layer_key(proj, "tumor cell"), "kind": "polygon", "n": len(ring)}],
                 ring.ravel())
    proj.flush()

    def reached():
        now = proj.annotations(image=iid, include_deleted=True).set_index("uuid")
        assert bool(now.at[gone["uuid"], "deleted"])
        after = np.asarray(now.at[moved["uuid"], "geometry"].exterior.coords)
        np.testing.assert_allclose(after[0] - before[0], (3.0, -2.0), atol=1e-6)  # patches here are unscaled
        np.testing.assert_allclose(after[1:-1], before[1:-1], atol=1e-6)

    eventually(reached)


def test_f_on_the_map_verifies_the_sources(mapped):
    proj, iid, m = mapped
    v = m.viewer()
    v._on_msg(v, {"type": "hello"}, [])
    chosen = m.mapping.iloc[[2, 5]]
    v._on_msg(v, {"type": "verify"}, [memoryview(ids_of(v, chosen["map_uuid"]).astype(np.float64))])
    verdicts = proj.verifications(image=iid).set_index("uuid")["verified"]
    assert verdicts.to_dict() == dict.fromkeys(chosen["uuid"], True)


def test_o_moves_an_open_source_viewer_to_the_patch_or_else_the_map_viewer_itself(mapped):
    proj, iid, m = mapped
    on_map, on_source = m.viewer(), proj.viewer(iid)
    for v in (on_map, on_source):
        v._on_msg(v, {"type": "hello"}, [])
    row = m.mapping.iloc[6]
    # nothing selected: the patch under the pointer
    px, py = (row["map_x0"] + row["map_x1"]) / 2, (row["map_y0"] + row["map_y1"]) / 2
    on_map._on_msg(on_map, {"type": "open_source", "x": float(px), "y": float(py)}, [memoryview(np.zeros(0))])
    where = m.locate(row["map_uuid"])
    assert on_source._goto["x"] == where["x"] and on_source._goto["y"] == where["y"]
    assert list(on_source.selected["uuid"]) == [row["uuid"]]
    assert on_map.image == m.image_id  # the map stays where it was

    # a callback takes the place of moving viewers; the selection wins over the pointer
    seen = []
    on_map.on_open_source(seen.append)
    other = m.mapping.iloc[1]
    on_map._on_msg(on_map, {"type": "open_source", "x": float(px), "y": float(py)},
                   [memoryview(ids_of(on_map, [other["map_uuid"]]).astype(np.float64))])
    assert [w["uuid"] for w in seen] == [other["uuid"]]

    # no viewer of the source open: the map's viewer goes to the source
    on_source.close()
    alone = m.viewer()
    alone._on_msg(alone, {"type": "hello"}, [])
    alone._on_msg(alone, {"type": "open_source", "x": float(px), "y": float(py)}, [memoryview(np.zeros(0))])
    assert alone.image == iid and alone.source_map is None
    assert (alone._goto["x"], alone._goto["y"]) == (where["x"], where["y"])


def test_o_on_an_image_that_is_no_map_says_so(mapped):
    proj, iid, _ = mapped
    v = proj.viewer(iid)
    rec = Recorder(v)
    v._on_msg(v, {"type": "open_source", "x": 1.0, "y": 1.0}, [])
    assert "not a map" in rec.of("notice")[-1][0]["text"]
