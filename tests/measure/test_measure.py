"""Measurements in the view: the panel's counts are the store's, on_view callbacks, densest area."""

from __future__ import annotations

import time

import numpy as np
import pytest
from mitosis_fields import add_mitosis_field

MPP = 0.499  # CMU-1-Small-Region.svs


@pytest.fixture
def counted(project, small_svs):
    """300 cells and 40 mitoses over the slide, with a dense cluster of mitoses at (1500, 2000)."""
    image_id = add_mitosis_field(project, small_svs, seed=0, cells=300, spread=20, cluster=20)
    return project, image_id


def store_counts(project, image_id, bounds):
    x0, y0, x1, y1 = bounds
    rows = project.sql(
        "SELECT t.name, count(*) FROM annotations a JOIN annotation_types t USING (type_id) "
        "WHERE a.image_id = ? AND NOT a.deleted AND (a.min_x + a.max_x) / 2 >= ? AND (a.min_x + a.max_x) / 2 < ? "
        "AND (a.min_y + a.max_y) / 2 >= ? AND (a.min_y + a.max_y) / 2 < ? GROUP BY t.name ORDER BY t.name",
        params=[image_id, x0, x1, y0, y1]).fetchall()
    return dict(rows)


@pytest.mark.parametrize("bounds", [(0, 0, 2220, 2967), (1000, 1500, 1900, 2400), (100.5, 200.25, 600, 700)])
def test_the_panel_counts_equal_a_store_query_for_the_same_bounds(counted, bounds):
    proj, image_id = counted
    viewer = proj.viewer(image_id)
    viewer.show_measurements()
    viewer.view = {"x": 0, "y": 0, "scale": 1, "bounds": list(bounds), "width": 800, "height": 600}
    html = viewer.refresh_panel()
    measured = viewer.last_measurement
    assert measured["counts"]["count"].to_dict() == store_counts(proj, image_id, bounds)
    area = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) * (MPP / 1000) ** 2
    assert measured["fov_mm2"] == pytest.approx(area, rel=1e-3)
    per_10 = measured["counts"]["count"] / area * 2.37
    assert np.allclose(measured["counts"]["per_10_hpf"], per_10, rtol=1e-3)
    assert f"{measured['fov_mm2']:.3f}" in html and "mitosis" in html
    # counts are shown as whole numbers, as the store holds them
    for name, count in measured["counts"]["count"].items():
        assert f"<td>{name}</td><td>{count}</td>" in html
    viewer.close()


def test_the_view_outside_the_image_counts_only_its_inside(counted):
    proj, image_id = counted
    measured = proj.measure_view(image_id, (-1000, -1000, 500, 500), types=["mitosis", "cell"])
    assert measured["bounds"] == (0, 0, 500, 500)
    assert measured["counts"].index.tolist() == ["mitosis", "cell"]
    expected = store_counts(proj, image_id, (0, 0, 500, 500))
    assert measured["counts"]["count"].to_dict() == {"mitosis": expected.get("mitosis", 0), "cell": expected.get("cell", 0)}


def test_on_view_is_debounced_and_shows_a_figure(counted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proj, image_id = counted
    viewer = proj.viewer(image_id)
    seen = []

    def histogram(view):
        seen.append(view["bounds"])
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.hist(view["annotations"]["xmin"], bins=5)
        return fig

    viewer.on_view(histogram, debounce=0.2)
    for k in range(5):  # a pan: five views in quick succession
        viewer.view = {"x": 0, "y": 0, "scale": 1, "bounds": [k * 10, 0, 1000 + k * 10, 1000], "width": 800, "height": 600}
    deadline = time.monotonic() + 10
    while not viewer._panel and time.monotonic() < deadline:
        time.sleep(0.05)
    assert seen == [(40, 0, 1040, 1000)]  # only the view it rested on
    assert "<img" in viewer._panel and "data:image/png;base64," in viewer._panel
    viewer.off_view(histogram)
    assert viewer._panel == ""
    viewer.close()


def test_a_failing_callback_shows_its_error_in_the_panel(counted):
    proj, image_id = counted
    viewer = proj.viewer(image_id)
    viewer.on_view(lambda view: 1 / 0)
    viewer.on_view(lambda view: f"{len(view['annotations'])} in view")
    viewer.view = {"x": 0, "y": 0, "scale": 1, "bounds": [0, 0, 2220, 2967], "width": 800, "height": 600}
    html = viewer.refresh_panel()
    assert "ZeroDivisionError" in html and "340 in view" in html
    viewer.close()


def brute_force(cx, cy, side, width, height):
    best = 0
    for left in np.minimum(cx, width - side):
        for top in np.minimum(cy, height - side):
            best = max(best, int(((cx >= left) & (cx < left + side) & (cy >= top) & (cy < top + side)).sum()))
    return best


def test_the_densest_area_holds_the_most_centres(counted):
    proj, image_id = counted
    found = proj.densest_area(image_id, types=["mitosis"], area_mm2=0.1)
    side = np.sqrt(0.1) * 1000 / MPP
    assert found["side"] == pytest.approx(side)
    x0, y0, x1, y1 = found["bounds"]
    assert x1 - x0 == pytest.approx(side) and 0 <= x0 and x1 <= 2220 and y1 <= 2967
    rows = proj.annotations(image=image_id, types=["mitosis"])
    cx, cy = ((rows["xmin"] + rows["xmax"]) / 2).to_numpy(), ((rows["ymin"] + rows["ymax"]) / 2).to_numpy()
    cluster = (cx >= 1460) & (cx <= 1560) & (cy >= 1960) & (cy <= 2060)
    assert cluster.sum() >= 20 and ((cx[cluster] >= x0) & (cx[cluster] < x1) & (cy[cluster] >= y0) & (cy[cluster] < y1)).all()
    assert found["count"] == brute_force(cx, cy, side, 2220, 2967) >= 20
    assert found["count"] == store_counts(proj, image_id, found["bounds"])["mitosis"]


def test_the_binned_search_agrees_with_the_exact_one():
    from exact_lab.measure.densest import binned_window, exact_window

    rng = np.random.default_rng(5)
    cx = np.r_[rng.uniform(0, 5000, 3000), rng.normal(3000, 60, 200)]
    cy = np.r_[rng.uniform(0, 4000, 3000), rng.normal(1000, 60, 200)]

    def count(x0, y0):
        return int(((cx >= x0) & (cx < x0 + 400) & (cy >= y0) & (cy < y0 + 400)).sum())

    exact, binned = count(*exact_window(cx, cy, 400, 5000, 4000)), count(*binned_window(cx, cy, 400, 5000, 4000))
    assert binned >= 0.95 * exact and exact >= 200


def test_the_hpf_frame_is_a_layer_on_the_densest_area(counted):
    proj, image_id = counted
    viewer = proj.viewer(image_id)
    found = viewer.show_hpf_frame(types=["mitosis"], area_mm2=0.1)
    layer = viewer.layer("10 HPF")
    assert [layer["xmin"].iloc[0], layer["ymin"].iloc[0]] == pytest.approx(list(found["bounds"][:2]))
    viewer.close()
