"""Cluster maps: one grid cell per patch, an assignment that beats a greedy snap, and a group
relabelled in the source by a box or a lasso on the map."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from exact_lab.analysis import gridassign


def clustered(n, clusters, seed):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, 2)) * 5
    return np.concatenate([c + rng.normal(size=(n // clusters, 2)) * rng.uniform(0.1, 1) for c in centres])


@pytest.mark.parametrize("n, clusters, seed", [(600, 1, 0), (2400, 6, 3), (3000, 12, 5)])
def test_grid_assignment_puts_each_point_on_its_own_cell_and_beats_a_greedy_snap(n, clusters, seed):
    points = clustered(n, clusters, seed)
    columns, rows = gridassign.grid_shape(points)
    assert columns * rows >= len(points)
    cells = gridassign.assign(points, columns, rows)
    assert len(np.unique(cells)) == len(points) and cells.min() >= 0 and cells.max() < columns * rows
    xy = gridassign.to_grid_units(points, columns, rows)
    ours = gridassign.cost(xy, cells, columns)
    greedy = gridassign.cost(xy, gridassign.greedy_snap(points, columns, rows), columns)
    print(f"{n} points in {clusters} clusters: assignment cost {ours:.0f}, greedy snap {greedy:.0f}")
    assert ours <= greedy


def test_grid_assignment_is_close_to_the_exact_optimum_on_a_small_problem():
    points = clustered(400, 4, 9)
    columns, rows = gridassign.grid_shape(points)
    xy = gridassign.to_grid_units(points, columns, rows)
    exact = gridassign.cost(xy, gridassign._solve(xy, np.arange(columns * rows), columns), columns)
    ours = gridassign.cost(xy, gridassign.assign(points, columns, rows), columns)
    assert ours <= 1.15 * exact


def test_a_cluster_map_places_patches_apart_near_their_embedding(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id)
    c = proj.cluster_map(rows, method="pca")
    m = c.mapping
    assert len(m) == len(rows) and m["uuid"].is_unique
    assert not m.duplicated(["col", "row"]).any()
    assert c.embedding.shape == (len(rows), 2)
    boxes = shapely.box(m["map_x0"], m["map_y0"], m["map_x1"] - 1e-6, m["map_y1"] - 1e-6)
    i, j = shapely.STRtree(boxes).query(boxes, predicate="intersects")
    assert (i == j).all()
    # rank order survives: the patch placed leftmost lies left of the rightmost in the embedding
    assert np.corrcoef(m["embed_x"], m["col"])[0, 1] > 0.8 and np.corrcoef(m["embed_y"], m["row"])[0, 1] > 0.8


def test_a_umap_cluster_map_of_classic_features_keeps_the_dark_figures_together(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id)
    c = proj.cluster_map(rows, method="umap")
    m = c.mapping
    assert len(m) == len(rows) and not m.duplicated(["col", "row"]).any()
    dark = m[m["type"] == "mitotic figure"]
    spread = np.hypot(dark["col"] - dark["col"].mean(), dark["row"] - dark["row"].mean()).mean()
    everyone = np.hypot(m["col"] - m["col"].mean(), m["row"] - m["row"].mean()).mean()
    assert spread < 0.8 * everyone


def test_tsne_embeds_features_in_two_dimensions():
    from exact_lab.analysis.embedding import embed

    x = np.concatenate([np.random.default_rng(0).normal(size=(60, 8)), np.random.default_rng(1).normal(size=(60, 8)) + 6])
    xy = embed(x, "tsne")
    assert xy.shape == (120, 2)
    a, b = xy[:60].mean(axis=0), xy[60:].mean(axis=0)
    assert np.linalg.norm(a - b) > 2 * max(xy[:60].std(), xy[60:].std())


def test_a_lasso_on_the_cluster_map_relabels_that_group_in_the_source(demo_project):
    proj, image_id, _ = demo_project
    rows = proj.annotations(image=image_id, types="tumor cell")
    c = proj.cluster_map(rows, method="pca")
    m = c.mapping
    x_mid = float(m["map_x1"].median())
    lasso = [(0, 0), (x_mid, 0), (x_mid, float(m["map_y1"].max()) + 10), (0, float(m["map_y1"].max()) + 10)]
    chosen = c.select(polygon=lasso)
    assert 0 < len(chosen) < len(m)
    report = c.relabel("immune cell", polygon=lasso)
    assert sorted(report.retyped) == sorted(chosen["uuid"])
    now = proj.annotations(image=image_id).set_index("uuid")
    assert set(now.index[now["type"] == "immune cell"]) == set(chosen["uuid"])
