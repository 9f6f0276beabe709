"""An annotation map in the viewer, beside a viewer of its source slide in the same notebook: a box
selection and a number key relabel the sources (and the source's viewer shows it), o opens the
source at a patch. Screenshots for docs/analysis.md."""

from __future__ import annotations

import pytest
from labserver import screenshot_path

pytestmark = pytest.mark.browser

# The project lives under the lab's root, so the server extension serves the map's tiles too.
SETUP = """
import exact_lab as xl, tempfile, shapely, pandas as pd, ipywidgets
proj = xl.open_project(tempfile.mkdtemp(dir=".") + "/p", user="tester")
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
proj.add_annotation_type("tumor cell", "polygon", color="#e6194b")
proj.add_annotation_type("immune cell", "polygon", color="#3cb44b")
cells = [shapely.Point(400 + 260 * (k % 5), 500 + 260 * (k // 5)).buffer(22, quad_segs=4) for k in range(20)]
proj.add_annotations(pd.DataFrame({"image_id": iid, "type": "tumor cell", "geometry": cells}))
m = proj.annotation_map(types="tumor cell", columns=5, patch_size=64)
tumor, immune = (int(t) for t in proj.annotation_types().set_index("name").loc[["tumor cell", "immune cell"], "type_id"])
on_map = m.viewer(height="330px")
on_source = proj.viewer(iid, height="330px")
v = ipywidgets.VBox([on_map, on_source])

def source_count(name):
    proj.flush()
    return int((proj.annotations(image=iid)["type"] == name).sum())
"""

MAP, SOURCE = 0, 1


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP, settle=False)
    notebook.page.wait_for_function(
        "() => globalThis.__exactLabViewers.size === 2 && [...globalThis.__exactLabViewers].every(v => v.session.store.complete && v.source)",
        timeout=60_000)
    notebook.kernel.run("on_map.fit(); on_source.goto(900, 900, zoom=0.3)")
    # both views where the kernel put them, their annotations loaded (a fixed pause was too short
    # for a loaded machine)
    notebook.page.wait_for_function(
        "() => { const [m, s] = [...globalThis.__exactLabViewers];"
        " return Math.abs(s.camera.cx - 900) < 1e-6 && Math.abs(s.camera.scale - 0.3) < 1e-9"
        " && m.session.store.complete && s.session.store.complete; }", timeout=30_000)
    return notebook


def store_count(nb, layer: str, which: int) -> int:
    return nb.js(f"v.session.store.count({layer!r})", which=which)


def test_a_box_selection_and_a_number_key_relabel_the_sources_and_the_source_viewer_shows_it(nb):
    tumor, immune = nb.kernel.value("[f't:{tumor}', f't:{immune}']")
    nb.page.wait_for_function(
        f"() => [...globalThis.__exactLabViewers][{SOURCE}].session.store.count({tumor!r}) === 20", timeout=20_000)
    assert store_count(nb, immune, SOURCE) == 0
    # the map's first row of patches, in map pixels
    x0, y0, x1, y1 = nb.kernel.value(
        "(lambda r: [float(r.map_x0.min()), float(r.map_y0.min()), float(r.map_x1.max()), float(r.map_y1.max())])"
        "(m.mapping[m.mapping['row'] == 0])")
    nb.page.locator(".xl-root").nth(MAP).locator("button[data-tool='select']").click()
    nb.drag([(x0 + 1, y0 + 1), ((x0 + x1) / 2, (y0 + y1) / 2), (x1 - 1, y1 - 1)], which=MAP)
    assert nb.js("v.session.store.selection.size", which=MAP) == 5
    nb.press("2")  # "immune cell"
    assert nb.kernel.wait("source_count('immune cell') == 5", timeout=15), "the sources were not relabelled"
    nb.page.wait_for_function(
        f"() => [...globalThis.__exactLabViewers][{SOURCE}].session.store.count({immune!r}) === 5", timeout=20_000)
    assert store_count(nb, tumor, SOURCE) == 15
    relabelled = nb.kernel.value("sorted(proj.annotations(image=iid).query('type == \"immune cell\"')['uuid'])")
    assert relabelled == nb.kernel.value("sorted(m.mapping[m.mapping['row'] == 0]['uuid'])")
    nb.page.wait_for_timeout(600)
    nb.page.locator(".jp-OutputArea-output").last.screenshot(path=str(screenshot_path("analysis-map-relabel.png")))


def test_o_opens_the_source_at_the_patch(nb):
    mx0, my0, mx1, my1 = nb.kernel.value("[float(m.mapping.iloc[12][c]) for c in ('map_x0', 'map_y0', 'map_x1', 'map_y1')]")
    where = nb.kernel.value("(lambda w: [float(w['x']), float(w['y']), float(w['zoom']), str(w['uuid'])])(m.locate(m.mapping.iloc[12]['map_uuid']))")
    nb.press("Escape")
    nb.click((mx0 + mx1) / 2, (my0 + my1) / 2, which=MAP)  # select the patch's annotation
    nb.page.wait_for_function(f"() => [...globalThis.__exactLabViewers][{MAP}].session.store.selection.size === 1",
                              timeout=10_000)
    nb.press("o")
    nb.page.wait_for_function(
        "([x, y, s]) => { const v = [...globalThis.__exactLabViewers][1];"
        " return Math.abs(v.camera.cx - x) < 1e-6 && Math.abs(v.camera.cy - y) < 1e-6 && Math.abs(v.camera.scale - s) < 1e-9; }",
        arg=where[:3], timeout=10_000)
    assert nb.kernel.wait(f"list(on_source.selected['uuid']) == [{where[3]!r}]", timeout=10)
    nb.page.wait_for_function(f"() => [...globalThis.__exactLabViewers][{SOURCE}].session.store.selection.size === 1", timeout=5000)
    nb.page.wait_for_timeout(800)
    nb.page.locator(".jp-OutputArea-output").last.screenshot(path=str(screenshot_path("analysis-map-open-source.png")))
