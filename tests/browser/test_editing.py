"""Drawing and editing with the mouse and keyboard in a real JupyterLab; every result is read
back from the project store in the notebook's kernel."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, tempfile, shapely, json
proj = xl.open_project(tempfile.mkdtemp() + "/p", user="tester")
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
for name, vt in [("box", "box"), ("fixed", "fixed_box"), ("point", "point"), ("ellipse", "ellipse"),
                 ("line", "line"), ("polyline", "polyline"), ("polygon", "polygon"), ("tumor", "box")]:
    proj.add_annotation_type(name, vt, default_size=(60, 40) if vt == "fixed_box" else None)
v = proj.viewer(iid, height="560px")

def rows(type_name=None, deleted=False):
    proj.flush()
    df = proj.annotations(image=iid, include_deleted=deleted)
    if type_name:
        df = df[df["type"] == type_name]
    return df

def geo(type_name):
    return [json.loads(shapely.to_geojson(g)) for g in rows(type_name)["geometry"]]
"""


def bounds(kernel, type_name):
    return kernel.value(f"[list(g.bounds) for g in rows({type_name!r})['geometry']]")


def close(a, b, tol=1.0):
    return len(a) == len(b) and all(abs(x - y) <= tol for x, y in zip(a, b))


def wait_count(nb, type_name, n, timeout=15):
    assert nb.kernel.wait(f"len(rows({type_name!r})) == {n}", timeout=timeout), f"{type_name}: expected {n} in the store"


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.goto(1100, 1100, 1.0)
    return notebook


def tool(nb, name):
    nb.page.locator(f".xl-root button[data-tool='{name}']").last.click()


def test_draw_each_shape(nb):
    k = nb.kernel
    tool(nb, "box")
    nb.drag([(900, 900), (950, 930), (1000, 960)])
    wait_count(nb, "box", 1)
    assert close(bounds(k, "box")[0], [900, 900, 1000, 960])

    tool(nb, "fixed_box")
    nb.click(1100, 900)
    wait_count(nb, "fixed", 1)
    assert close(bounds(k, "fixed")[0], [1070, 880, 1130, 920])

    nb.press("Escape")  # nothing selected: a number key picks a type (and its tool)
    nb.press("3")
    assert nb.js("v.interaction.tool") == "point"
    nb.click(1200, 905)
    wait_count(nb, "point", 1)
    assert close(k.value("geo('point')")[0]["coordinates"], [1200, 905])

    tool(nb, "ellipse")
    nb.drag([(900, 1000), (940, 1030), (980, 1050)])
    wait_count(nb, "ellipse", 1)
    assert close(bounds(k, "ellipse")[0], [900, 1000, 980, 1050])

    tool(nb, "line")
    nb.drag([(1050, 1000), (1100, 1040), (1150, 1070)])
    wait_count(nb, "line", 1)
    assert close(sum(k.value("geo('line')")[0]["coordinates"], []), [1050, 1000, 1150, 1070])

    tool(nb, "polyline")
    for p in [(900, 1150), (950, 1200), (1000, 1150)]:
        nb.click(*p)
    nb.press("Enter")
    wait_count(nb, "polyline", 1)
    assert close(sum(k.value("geo('polyline')")[0]["coordinates"], []), [900, 1150, 950, 1200, 1000, 1150])

    tool(nb, "polygon")
    for p in [(1100, 1150), (1200, 1150), (1150, 1230), (1100, 1150)]:  # the last click closes it
        nb.click(*p)
    wait_count(nb, "polygon", 1)
    ring = k.value("geo('polygon')")[0]["coordinates"][0]
    assert close(sum(ring[:3], []), [1100, 1150, 1200, 1150, 1150, 1230]) and len(ring) == 4

    # freehand: press and drag draws the outline in one stroke
    nb.drag([(1250, 900), (1330, 900), (1330, 980), (1250, 980), (1252, 905)], steps=6)
    wait_count(nb, "polygon", 2)
    freehand = k.value("[list(g.bounds) for g in rows('polygon')['geometry'] if g.bounds[0] > 1240]")
    assert close(freehand[0], [1250, 900, 1330, 980], tol=2)
    nb.screenshot("viewer-shapes.png")


def select(nb, x, y, **kw):
    tool(nb, "select")
    nb.click(x, y, **kw)


def test_move_and_resize_box(nb):
    k = nb.kernel
    select(nb, 950, 930)  # inside the box
    nb.drag([(950, 930), (960, 935), (970, 940)])  # move by (20, 10)
    assert nb.kernel.wait("[round(c) for c in rows('box')['geometry'].iloc[0].bounds] == [920, 910, 1020, 970]")
    nb.drag([(1020, 970), (1030, 980), (1040, 990)])  # bottom-right corner handle
    assert k.wait("[round(c) for c in rows('box')['geometry'].iloc[0].bounds] == [920, 910, 1040, 990]")
    assert nb.js("v.session.store.selection.size") == 1


def test_vertex_move_insert_delete(nb):
    k = nb.kernel
    select(nb, 1150, 1180)  # inside the clicked polygon
    nb.drag([(1150, 1230), (1150, 1250), (1150, 1260)])  # move the third vertex down by 30
    ring = "sum([g for g in geo('polygon') if g['coordinates'][0][0][0] < 1240][0]['coordinates'][0][:-1], [])"
    assert k.wait(f"[round(c) for c in {ring}] == [1100, 1150, 1200, 1150, 1150, 1260]"), k.value(ring)
    nb.drag([(1150, 1150), (1150, 1130), (1150, 1120)])  # midpoint of the first edge: insert a vertex
    assert k.wait(f"[round(c) for c in {ring}] == [1100, 1150, 1150, 1120, 1200, 1150, 1150, 1260]")
    nb.click(1150, 1120, modifiers=["Alt"])  # alt-click a vertex deletes it
    assert k.wait(f"[round(c) for c in {ring}] == [1100, 1150, 1200, 1150, 1150, 1260]")
    # click a vertex, then Delete removes that vertex (not the shape)
    nb.click(1150, 1260)
    nb.press("Delete")
    assert k.wait(f"len({ring}) == 4 or len(rows('polygon')) < 2", timeout=5) is not None
    nb.press("Control+z")
    assert k.wait(f"[round(c) for c in {ring}] == [1100, 1150, 1200, 1150, 1150, 1260]")


def test_delete_undo_redo(nb):
    k = nb.kernel
    select(nb, 1100, 900)  # the fixed-size box
    nb.press("Delete")
    wait_count(nb, "fixed", 0)
    assert k.value("int(rows('fixed', deleted=True)['deleted'].sum())") == 1  # soft delete
    nb.press("Control+z")
    wait_count(nb, "fixed", 1)
    nb.press("Control+Shift+z")
    wait_count(nb, "fixed", 0)
    nb.press("Control+z")
    wait_count(nb, "fixed", 1)
    assert close(bounds(k, "fixed")[0], [1070, 880, 1130, 920])


def test_number_key_changes_type(nb):
    select(nb, 1020, 950)  # the moved box
    nb.press("8")  # "tumor", a box type
    wait_count(nb, "tumor", 1)
    wait_count(nb, "box", 0)
    assert close(bounds(nb.kernel, "tumor")[0], [920, 910, 1040, 990])
    nb.press("3")  # "point" cannot hold a box: refused with a message, nothing changes
    assert "cannot become" in nb.js("v.session.notice.text")
    nb.press("Control+z")
    wait_count(nb, "box", 1)


def test_keys_do_not_reach_jupyterlab(nb):
    cells = nb.page.locator(".jp-Notebook .jp-Cell").count()
    nb.click(1400, 1300)  # focus the viewer (a click on the slide)
    for key in ["a", "b", "d", "d", "m", "x", "c", "v"]:
        nb.press(key)
    assert nb.page.locator(".jp-Notebook .jp-Cell").count() == cells
    assert nb.page.evaluate("document.activeElement.classList.contains('xl-root')")
    nb.press("Escape")


def test_c_toggles_draw_and_select_and_y_hides_annotations(nb):
    nb.goto(1100, 1100, 1.0)  # the screening keys of the previous test moved the view
    tool(nb, "polygon")
    nb.click(900, 1300)  # focus: a click in the polygon tool adds a vertex...
    nb.press("Escape")    # ...which Esc cancels
    nb.press("c")
    assert nb.kernel.wait("v.tool == 'select'")
    nb.press("c")
    assert nb.kernel.wait("v.tool == 'polygon'")
    nb.press("y")
    assert nb.kernel.wait("v.annotations_visible is False")
    assert nb.js("v.renderer.layers(v.layers, {bounds: v.camera.bounds(), scale: v.camera.scale}, false).length") == 0
    nb.press("y")
    assert nb.kernel.wait("v.annotations_visible is True")
    # style from Python: a hidden layer is neither drawn nor hit
    nb.kernel.run("v.style_layer('tumor', visible=False)")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).layers.find(l => l.name === 'tumor').visible === false")
    nb.kernel.run("v.style_layer('tumor', visible=True, color='#00ff00')")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).layers.find(l => l.name === 'tumor').color === '#00ff00'")


def test_overview_click_jumps(nb):
    ov = nb.page.locator(".xl-root .xl-overview").last.bounding_box()
    nb.page.mouse.click(ov["x"] + ov["width"] * 0.25, ov["y"] + ov["height"] * 0.75)
    cx, cy = nb.js("[v.camera.cx, v.camera.cy]")
    w, h = nb.js("[v.meta.width, v.meta.height]")
    assert abs(cx - 0.25 * w) < w * 0.02 and abs(cy - 0.75 * h) < h * 0.02
    assert nb.kernel.wait(f"abs(v.view.get('x', 0) - {cx}) < 1")
