"""Annotation maps: every annotation exactly once, patches apart and equal to their source pixels,
and edits on the map reaching the source annotations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import exact_lab as xl
from exact_lab.analysis.reading import read_window, to_rgb
from exact_lab.errors import InvalidValueError


def _assert_patches_equal_sources(proj, m, rows):
    """Each patch of the map, read back from its TIFF, equals its source window read directly."""
    image = proj.image(m.image_id)
    whole = to_rgb(xl.open_slide(m.path).read_region((0, 0), 0, (image["width"], image["height"])))
    slides = {i: xl.open_slide(proj.image(int(i))["path"]) for i in rows["image_id"].unique()}
    for row in rows.itertuples():
        patch = whole[row.map_y0:row.map_y1, row.map_x0:row.map_x1]
        source = read_window(slides[row.image_id], row.src_x0, row.src_y0, row.src_w, row.src_h,
                             row.map_x1 - row.map_x0, row.map_y1 - row.map_y0)
        np.testing.assert_array_equal(patch, source)


def test_map_holds_every_annotation_of_its_types_exactly_once(demo_project):
    proj, image_id, blobs = demo_project
    m = proj.annotation_map(types=["tumor cell", "mitotic figure"])
    sources = proj.annotations(image=image_id)
    assert len(m.mapping) == len(sources) == len(blobs)
    assert m.mapping["uuid"].is_unique and set(m.mapping["uuid"]) == set(sources["uuid"])
    drawn = proj.annotations(image=m.image_id)
    assert len(drawn) == len(sources)
    assert sorted(d["source_uuid"] for d in drawn["meta"]) == sorted(sources["uuid"])
    assert set(drawn["uuid"]) == set(m.mapping["map_uuid"])
    by_uuid = sources.set_index("uuid")["type"]
    assert (m.mapping["type"].to_numpy() == by_uuid.loc[m.mapping["uuid"]].to_numpy()).all()


def test_patches_never_overlap(demo_project):
    proj, _, _ = demo_project
    m = proj.annotation_map(types=["tumor cell", "mitotic figure"])
    image = proj.image(m.image_id)
    cover = np.zeros((image["height"], image["width"]), dtype=np.uint8)
    for r in m.mapping.itertuples():
        cover[r.map_y0:r.map_y1, r.map_x0:r.map_x1] += 1
    assert cover.max() == 1
    assert int(cover.sum()) == int(((m.mapping.map_x1 - m.mapping.map_x0) * (m.mapping.map_y1 - m.mapping.map_y0)).sum())


def test_every_patch_equals_its_source_region(demo_project):
    proj, _, _ = demo_project
    m = proj.annotation_map(types=["tumor cell", "mitotic figure"])
    _assert_patches_equal_sources(proj, m, m.mapping)
    row = m.mapping.iloc[5]
    np.testing.assert_array_equal(m.read_patch(row["map_uuid"]), m.read_patch(row))


def test_shrunk_patches_equal_the_resampled_source_and_record_their_scale(demo_project):
    proj, _, _ = demo_project
    m = proj.annotation_map(types="tumor cell", patch_size=10, context=0.2)
    assert (m.mapping["scale_x"] > 1).any()
    assert ((m.mapping["map_x1"] - m.mapping["map_x0"]) == 12).all()
    _assert_patches_equal_sources(proj, m, m.mapping)


def test_map_annotations_are_the_sources_moved_onto_their_patches(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="tumor cell", patch_size=14)
    sources = proj.annotations(image=image_id, types="tumor cell").set_index("uuid")
    drawn = proj.annotations(image=m.image_id).set_index("uuid")
    for _, row in m.mapping.iterrows():
        on_map = drawn.at[row["map_uuid"], "geometry"]
        src = sources.at[row["uuid"], "geometry"]
        expect = shapely.affinity.affine_transform(
            src, [1 / row["scale_x"], 0, 0, 1 / row["scale_y"],
                  row["map_x0"] - row["src_x0"] / row["scale_x"], row["map_y0"] - row["src_y0"] / row["scale_y"]])
        assert shapely.equals_exact(on_map, expect, tolerance=1e-6)
        patch = shapely.box(row["map_x0"], row["map_y0"], row["map_x1"], row["map_y1"])
        assert patch.buffer(1e-6).contains(on_map)


def test_relabel_on_the_map_changes_the_source_type(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="tumor cell")
    chosen = m.mapping.head(7)
    report = m.relabel("immune cell", uuids=list(chosen["map_uuid"]))
    assert sorted(report.retyped) == sorted(chosen["uuid"])
    now = proj.annotations(image=image_id).set_index("uuid")
    assert (now.loc[chosen["uuid"], "type"] == "immune cell").all()
    assert (now.drop(index=chosen["uuid"])["type"] != "immune cell").all()
    assert (proj.annotations(image=m.image_id).set_index("uuid").loc[chosen["map_uuid"], "type"] == "immune cell").all()


def test_relabel_by_a_map_box_changes_only_the_patches_inside(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="tumor cell", columns=10)
    first_row = m.mapping[m.mapping["row"] == 0]
    box = (0, 0, float(first_row["map_x1"].max()) + 1, float(first_row["map_y1"].max()) + 1)
    m.relabel("immune cell", box=box)
    now = proj.annotations(image=image_id).set_index("uuid")
    assert set(now.index[now["type"] == "immune cell"]) == set(first_row["uuid"])


def test_delete_on_the_map_soft_deletes_the_source(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="mitotic figure")
    gone = m.mapping["uuid"].iloc[0]
    report = m.delete(uuids=[m.mapping["map_uuid"].iloc[0]])
    assert report.deleted == [gone]
    assert gone not in set(proj.annotations(image=image_id)["uuid"])
    assert gone in set(proj.annotations(image=image_id, include_deleted=True)["uuid"])


def test_verify_and_reject_on_the_map_become_the_same_users_verdicts_on_the_sources(demo_project, tmp_path):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="tumor cell")
    yes, no = m.mapping.iloc[0], m.mapping.iloc[1]
    proj.verify([yes["map_uuid"]], verified=True, user="bob")  # as the viewer would record it
    proj.verify([no["map_uuid"]], verified=False, user="bob")
    report = m.sync()
    assert report.verified == [yes["uuid"]] and report.rejected == [no["uuid"]]
    verdicts = proj.verifications(image=image_id, user="bob").set_index("uuid")["verified"]
    assert verdicts.to_dict() == {yes["uuid"]: True, no["uuid"]: False}
    assert m.sync().counts() == dict.fromkeys(report.counts(), 0)


def test_a_moved_vertex_on_the_map_moves_the_source_vertex_scaled_back(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="tumor cell", patch_size=12)
    drawn = proj.annotations(image=m.image_id).set_index("uuid")
    shrunk = m.mapping[m.mapping["scale_x"] > 1.2].iloc[0]
    plain = proj.annotation_map(types="tumor cell", patch_size=60).mapping.iloc[0]
    assert plain["scale_x"] == 1.0
    before = proj.annotations(image=image_id).set_index("uuid")

    ring = np.asarray(drawn.at[shrunk["map_uuid"], "geometry"].exterior.coords)
    ring[0] += (3.0, -2.0)
    ring[-1] = ring[0]
    m.apply_edits([{"uuid": shrunk["map_uuid"], "geometry": shapely.Polygon(ring)}])
    after = proj.annotations(image=image_id).set_index("uuid")
    old = np.asarray(before.at[shrunk["uuid"], "geometry"].exterior.coords)
    new = np.asarray(after.at[shrunk["uuid"], "geometry"].exterior.coords)
    np.testing.assert_allclose(new[0] - old[0], (3.0 * shrunk["scale_x"], -2.0 * shrunk["scale_y"]), atol=1e-6)
    np.testing.assert_allclose(new[1:-1], old[1:-1], atol=1e-6)
    untouched = m.mapping["uuid"][m.mapping["uuid"] != shrunk["uuid"]]
    assert all(before.at[u, "geometry"].equals_exact(after.at[u, "geometry"], 1e-9) for u in untouched)


def test_edits_saved_on_map_annotations_reach_the_sources_on_sync(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="mitotic figure")
    row = m.mapping.iloc[2]
    drawn = proj.annotations(image=m.image_id).set_index("uuid")
    moved = shapely.affinity.translate(drawn.at[row["map_uuid"], "geometry"], 5, 0)
    proj.update_annotations(pd.DataFrame({"uuid": [row["map_uuid"]], "geometry": [moved]}))  # as the viewer saves
    before = proj.annotations(image=image_id).set_index("uuid").at[row["uuid"], "geometry"]
    report = m.sync()
    assert report.moved == [row["uuid"]]
    after = proj.annotations(image=image_id).set_index("uuid").at[row["uuid"], "geometry"]
    assert after.equals_exact(shapely.affinity.translate(before, 5, 0), 1e-9)
    assert m.sync().moved == []


def test_open_map_finds_the_map_again_from_its_image(demo_project):
    proj, _, _ = demo_project
    m = proj.annotation_map(types="mitotic figure")
    again = proj.open_map(m.image_id)
    assert type(again) is type(m)
    pd.testing.assert_frame_equal(again.mapping, m.mapping)
    assert proj.image(m.image_id)["image_set_id"] != proj.image(int(m.mapping["image_id"].iloc[0]))["image_set_id"]


def test_locate_gives_the_source_image_and_the_annotation_centre(demo_project):
    proj, image_id, _ = demo_project
    m = proj.annotation_map(types="mitotic figure")
    row = m.mapping.iloc[0]
    where = m.locate(((row["map_x0"] + row["map_x1"]) / 2, (row["map_y0"] + row["map_y1"]) / 2))
    source = proj.annotations(uuids=[row["uuid"]]).iloc[0]
    assert where["image_id"] == image_id and where["uuid"] == row["uuid"]
    assert abs(where["x"] - (source["xmin"] + source["xmax"]) / 2) <= 0.5
    assert abs(where["y"] - (source["ymin"] + source["ymax"]) / 2) <= 0.5
    assert where == m.locate(row["map_uuid"]) == m.locate(row["uuid"])


def test_maps_leave_other_maps_out(demo_project):
    proj, image_id, _ = demo_project
    first = proj.annotation_map(types="mitotic figure")
    second = proj.annotation_map(types="mitotic figure")
    assert set(second.mapping["image_id"]) == {image_id}
    assert len(second.mapping) == len(first.mapping)


def test_map_errors_name_what_was_wrong(demo_project):
    proj, _, _ = demo_project
    with pytest.raises(InvalidValueError, match="order_by column 'grade'"):
        proj.annotation_map(types="mitotic figure", order_by="grade")
    m = proj.annotation_map(types="mitotic figure")
    with pytest.raises(InvalidValueError, match="not an annotation of this map"):
        m.apply_edits([{"uuid": "00000000-0000-4000-8000-000000000000", "type": "tumor cell"}])
    with pytest.raises(InvalidValueError, match="cannot apply colour"):
        m.apply_edits([{"uuid": m.mapping["map_uuid"].iloc[0], "colour": "red"}])
