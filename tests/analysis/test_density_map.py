"""Density maps: bins of a score left to right, each stacked from the bottom, labelled below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import exact_lab as xl
from exact_lab.analysis.reading import to_rgb
from exact_lab.errors import InvalidValueError


@pytest.fixture
def scored(demo_project):
    proj, image_id, blobs = demo_project
    sources = proj.annotations(image=image_id)
    scores = np.random.default_rng(4).beta(2, 5, len(sources))
    scores[:5] = np.nan  # a few without a score
    proj.update_annotations(pd.DataFrame({"uuid": sources["uuid"], "score": scores}))
    proj.update_annotations(pd.DataFrame({"uuid": sources["uuid"], "meta": [{"grade": int(s * 4)} if np.isfinite(s) else {}
                                                                            for s in scores]}))
    return proj, image_id


def test_patches_are_ordered_by_score_left_to_right_and_stacked_from_the_bottom(scored):
    proj, _ = scored
    d = proj.density_map(types=["tumor cell", "mitotic figure"], bins=5)
    m = d.mapping
    assert len(m) == 245 and m["uuid"].is_unique
    edges = proj.images(ids=[d.image_id])["meta"].iloc[0]["bins"]
    assert len(edges) == 6
    for b, rows in m.groupby("bin"):
        assert ((rows["score"] >= edges[b]) & (rows["score"] <= edges[b + 1])).all()
    left = m.groupby("bin")["map_x0"].min()
    assert left.is_monotonic_increasing and left.is_unique
    assert (m.groupby("bin")["map_x1"].max().to_numpy()[:-1] < left.to_numpy()[1:]).all()  # bins apart
    assert (m.groupby("bin")["row"].max() == m["row"].max()).all()  # every bin starts at the bottom row
    assert (m.groupby("row")["map_y0"].min().diff().dropna() > 0).all()  # rows go down the map
    for _, rows in m.groupby("bin"):
        ranked = rows.sort_values("score")
        assert (np.diff(ranked["row"].to_numpy()) <= 0).all()  # higher scores higher up


def test_axis_labels_are_drawn_below_the_patches(scored):
    proj, _ = scored
    d = proj.density_map(types="tumor cell", bins=4)
    image = proj.image(d.image_id)
    pixels = to_rgb(xl.open_slide(d.path).read_region((0, 0), 0, (image["width"], image["height"])))
    below = pixels[int(d.mapping["map_y1"].max()) + 1:]
    assert below.shape[0] > 20
    assert (below < 100).all(axis=2).sum() > 200  # dark text on white
    assert (pixels[:int(d.mapping["map_y0"].min())] == 255).all()  # nothing drawn above the top patch


def test_a_score_from_meta_and_given_edges(scored):
    proj, _ = scored
    d = proj.density_map(types="tumor cell", score="grade", bins=[-0.5, 0.5, 1.5, 2.5, 3.5])
    assert set(d.mapping["bin"]) <= {0, 1, 2, 3}
    assert (d.mapping["score"] == d.mapping["bin"]).all()


def test_edits_on_a_density_map_flow_back(scored):
    proj, image_id = scored
    d = proj.density_map(types="tumor cell", bins=3)
    top = d.mapping.sort_values("score").tail(3)
    d.relabel("immune cell", uuids=list(top["map_uuid"]))
    now = proj.annotations(image=image_id).set_index("uuid")
    assert (now.loc[top["uuid"], "type"] == "immune cell").all()
    assert isinstance(proj.open_map(d.image_id), type(d))


def test_a_score_that_is_not_there_is_named(scored):
    proj, _ = scored
    with pytest.raises(InvalidValueError, match="score 'hemosiderin' is neither"):
        proj.density_map(types="tumor cell", score="hemosiderin")
    with pytest.raises(InvalidValueError, match="increasing"):
        proj.density_map(types="tumor cell", bins=[1, 0])
