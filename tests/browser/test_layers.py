"""User layers in the page: a layer added from Python is held and drawn; removed, nothing of it
stays (chunks, edited shapes, selection, pixels); added again under its name, only the new rows
show."""

from __future__ import annotations

import numpy as np
import pytest
from test_display import canvas_image, wait_tiles

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, pandas as pd, shapely
v = xl.SlideViewer("slides/CMU-1-Small-Region.svs")
def add_cells(y, xs, points=(), editable=False):
    # solid cyan boxes of 40 x 40 at (x, y) for each x, and points
    shapes = [shapely.box(x, y, x + 40, y + 40) for x in xs] + [shapely.Point(p) for p in points]
    v.add_layer(pd.DataFrame({"geometry": shapes}), "cells", style={"color": "#00ffff", "fill_opacity": 1.0}, editable=editable)
"""

ROW_A = [700, 800, 900, 1000, 1100, 1200]  # boxes at y 950..990, centres at x + 20, y 970
ROW_B = [750, 950, 1150]  # boxes at y 1150..1190, centres at x + 20, y 1170
POINTS = [(760, 1060), (960, 1060)]


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.goto(1000, 1000, 1.0)
    wait_tiles(notebook)
    return notebook


def store(nb, expr: str):
    return nb.js(f"v.session.store.{expr}")


def wait_page(nb, condition: str, timeout: float = 15_000) -> None:
    """Wait until ``condition`` (with ``v`` the newest viewer) holds, then for a drawn frame."""
    nb.page.wait_for_function(f"() => {{ const v = [...globalThis.__exactLabViewers].at(-1); return {condition}; }}",
                              timeout=timeout)
    nb.page.wait_for_timeout(400)


def colours_at(nb, img: np.ndarray, points) -> list[np.ndarray]:
    """Mean colour of the 3 x 3 screen pixels at each level-0 point (inside a point's dot, which
    has a dark rim)."""
    out = []
    for x, y in points:
        sx, sy = (int(round(c)) for c in nb.js("v.camera.toScreen(arg[0], arg[1])", [x, y]))
        out.append(img[sy - 1:sy + 2, sx - 1:sx + 2].reshape(-1, 3).mean(axis=0))
    return out


def is_cyan(rgb) -> bool:
    return rgb[0] < 90 and rgb[1] > 180 and rgb[2] > 180


def drawn_layer_ids(nb) -> list[str]:
    """Ids of the deck.gl layers the renderer makes for the current view (annotations, selection)."""
    return nb.js("(() => { const view = {bounds: v.camera.bounds(), scale: v.camera.scale};"
                 " return [...v.renderer.layers(v.layers, view, true), ...v.renderer.selectionLayers(v.layers, view)].map(l => l.id); })()")


def status(nb) -> str:
    return nb.page.locator(".xl-root .xl-status").last.inner_text()


def test_a_removed_layer_leaves_nothing_in_the_page(nb):
    bare = np.asarray(canvas_image(nb), dtype=np.float64)
    centres = [(x + 20, 970) for x in ROW_A]
    nb.kernel.run(f"add_cells(950, {ROW_A}, editable=True)")
    wait_page(nb, "v.session.store.count('u:cells') === 6")
    shown = np.asarray(canvas_image(nb), dtype=np.float64)
    assert all(is_cyan(c) for c in colours_at(nb, shown, centres)), colours_at(nb, shown, centres)
    assert "6 annotations" in status(nb)
    assert any(i.startswith("ann-u:cells") for i in drawn_layer_ids(nb))

    # select the first box and move it down by 60: it now lives among the browser's edited shapes
    nb.page.locator(".xl-root button[data-tool='select']").last.click()
    nb.click(720, 970)
    nb.drag([(720, 970), (720, 1000), (720, 1030)])
    assert nb.kernel.wait("v.layer('cells')['geometry'].iloc[0].bounds[1] == 1010")
    assert nb.kernel.wait("len(v.selected) == 1")
    assert store(nb, "overlay.size") == 1 and store(nb, "selection.size") == 1
    moved = (720, 1030)

    nb.kernel.run("v.remove_layer('cells')")
    wait_page(nb, "!v.session.store.layers.has('u:cells')")
    assert store(nb, "count('u:cells')") == 0
    assert store(nb, "overlay.size") == 0
    assert store(nb, "selection.size") == 0
    assert nb.kernel.wait("len(v.selected) == 0")  # the browser told the kernel
    assert drawn_layer_ids(nb) == []
    assert "0 annotations" in status(nb)
    # where the boxes (and the selected, moved one) were, the slide shows again
    gone = np.asarray(canvas_image(nb), dtype=np.float64)
    for before, after in zip(colours_at(nb, bare, [*centres, moved]), colours_at(nb, gone, [*centres, moved])):
        assert not is_cyan(after) and np.abs(after - before).max() < 20, (before, after)
    # and undo has nothing of the removed layer to bring back
    assert nb.js("v.session.editor.canUndo") is False


def test_a_layer_added_again_under_its_name_shows_only_the_new_rows(nb):
    bare = np.asarray(canvas_image(nb), dtype=np.float64)
    old = [(x + 20, 970) for x in ROW_A] + POINTS
    new = [(x + 20, 1170) for x in ROW_B]
    # boxes and points: two chunks, where the new rows have only one
    nb.kernel.run(f"add_cells(950, {ROW_A}, points={POINTS})")
    wait_page(nb, "v.session.store.count('u:cells') === 8")
    shown = np.asarray(canvas_image(nb), dtype=np.float64)
    assert all(is_cyan(c) for c in colours_at(nb, shown, old)), colours_at(nb, shown, old)

    nb.kernel.run(f"add_cells(1150, {ROW_B})")
    wait_page(nb, "v.session.store.count('u:cells') === 3")
    assert store(nb, "layers.get('u:cells').chunks.filter(Boolean).length") == 1
    again = np.asarray(canvas_image(nb), dtype=np.float64)
    assert all(is_cyan(c) for c in colours_at(nb, again, new)), colours_at(nb, again, new)
    for before, after in zip(colours_at(nb, bare, old), colours_at(nb, again, old)):
        assert not is_cyan(after) and np.abs(after - before).max() < 20, (before, after)
    assert "3 annotations" in status(nb)
    nb.kernel.run("v.remove_layer('cells')")
    wait_page(nb, "!v.session.store.layers.has('u:cells')")


def test_cells_are_drawn_filled_with_their_outline_by_fans_and_other_polygons_the_general_way(nb):
    # a round cell (16 vertices: a fan from its centre), a C shape whose vertices' mean lies
    # outside it (no fan: earcut fill and segment outline), and a ring with a hole (no fan)
    nb.goto(1000, 1000, 2.0)
    wait_tiles(nb)
    nb.kernel.run(
        "c_shape = shapely.Polygon([(1030, 960), (1070, 960), (1070, 970), (1040, 970), (1040, 1030), (1070, 1030),"
        " (1070, 1040), (1030, 1040)])\n"
        "donut = shapely.Point(1000, 1060).buffer(15, quad_segs=4).difference(shapely.Point(1000, 1060).buffer(7, quad_segs=4))\n"
        "v.add_layer(pd.DataFrame({'geometry': [shapely.Point(980, 990).buffer(20, quad_segs=4), c_shape, donut]}), 'cells',"
        " style={'color': '#00ffff', 'fill_opacity': 0.5, 'line_width': 5})")
    wait_page(nb, "v.session.store.count('u:cells') === 3")
    wait_tiles(nb)
    ids = drawn_layer_ids(nb)
    assert [i for i in ids if i.startswith("fan-u:cells")] and [i for i in ids if i.startswith("fill-u:cells")], ids
    img = np.asarray(canvas_image(nb), dtype=np.float64)
    # the slide without the shapes, the same tiles (the view has not moved)
    nb.kernel.run("v.remove_layer('cells')")
    wait_page(nb, "!v.session.store.layers.has('u:cells')")
    wait_tiles(nb)
    bare = np.asarray(canvas_image(nb), dtype=np.float64)

    def at(points):
        return colours_at(nb, img, points), colours_at(nb, bare, points)

    def tinted(shown, before):
        return not is_cyan(shown) and shown[0] < before[0] - 40 and shown[2] >= before[2] - 10

    # outlines: the round cell's vertex on the right and an edge's middle, the C's outer corner
    # and the middle of its inner edge, the donut's outer and inner rings
    edge = [(1000, 990), (990 + 10 * np.cos(np.pi / 8), 990 + 10 * np.sin(np.pi / 8)), (1030, 1000), (1040, 1000),
            (1015, 1060), (1007, 1060)]
    for point, shown in zip(edge, at(edge)[0]):
        assert is_cyan(shown), (point, shown)
    # fills: tinted, not the outline's colour
    inside = [(980, 990), (990, 980), (1035, 1000), (1060, 965), (1000 - 11, 1060)]
    for shown, before in zip(*at(inside)):
        assert tinted(shown, before), (shown, before)
    # outside every shape, and in the C's mouth and the donut's hole: the slide as it was
    outside = [(980, 1014), (956, 990), (1055, 1000), (1045, 1000), (1000, 1060), (1000, 1078)]
    for point, shown, before in zip(outside, *at(outside)):
        assert np.abs(shown - before).max() < 20, (point, shown, before)
    nb.goto(1000, 1000, 1.0)
