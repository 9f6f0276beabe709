"""The HPF frame dragged onto a cluster: the count shown follows it while it moves and equals the
store's count for the frame's bounds."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, tempfile, pandas as pd, numpy as np
from shapely.geometry import box
proj = xl.open_project(tempfile.mkdtemp() + "/p", user="tester")
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
proj.add_annotation_type("mitosis", "box")
rng = np.random.default_rng(3)
spread = [(x, y) for x in range(1100, 2200, 350) for y in range(150, 2900, 450)]   # none in the frame's start
cluster = list(zip(rng.uniform(1420, 1580, 25), rng.uniform(1920, 2080, 25)))
proj.add_annotations(pd.DataFrame({"image_id": iid, "type": "mitosis",
    "geometry": [box(x, y, x + 20, y + 20) for x, y in spread + cluster]}))
v = proj.viewer(iid, height="600px")
v.show_hpf_frame(at=(100, 100), types=["mitosis"], area_mm2=0.1)
SIDE = v.hpf_frame["side"]
def store_count(x0, y0):
    return int(proj.sql(
        "SELECT count(*) FROM annotations WHERE image_id = ? AND NOT deleted AND (min_x + max_x) / 2 >= ? "
        "AND (min_x + max_x) / 2 < ? AND (min_y + max_y) / 2 >= ? AND (min_y + max_y) / 2 < ?",
        params=[iid, x0, x0 + SIDE, y0, y0 + SIDE]).fetchone()[0])
"""


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.kernel.run("v.fit()")
    notebook.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).tileStats.loaded > 0", timeout=30_000)
    return notebook


def readout(nb) -> dict:
    return nb.js("(() => { const el = v.root.querySelector('.xl-hpf'); return {text: el.innerText, ...el.dataset,"
                 " hidden: el.classList.contains('xl-hidden')}; })()")


def test_dragging_the_frame_onto_a_cluster_shows_the_store_count_there(nb):
    k = nb.kernel
    side = k.value("SIDE")
    start = readout(nb)
    assert not start["hidden"] and start["source"] == "store"
    assert int(start["count"]) == k.value("store_count(100, 100)") == 0
    nb.page.locator(".xl-root button[data-tool='select']").last.click()
    centre = (100 + side / 2, 100 + side / 2)
    nb.click(*centre)
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.store.selection.size === 1")
    # press inside the frame and drag it until it covers the cluster (centred on 1500, 2000)
    m = nb.page.mouse
    m.move(*nb.to_page(*centre))
    m.down()
    m.move(*nb.to_page(800, 1100), steps=5)
    m.move(*nb.to_page(1500, 2000), steps=5)
    # still held: the count shown is the browser's, for where the frame is now, and the store agrees
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).root.querySelector('.xl-hpf').dataset.source === 'view'")
    moving = readout(nb)
    assert int(moving["count"]) == k.value(f"store_count({moving['x0']}, {moving['y0']})") >= 25
    m.up()
    # released: the move reaches the kernel, which counts in the store
    assert k.wait("v.hpf_frame['bounds'][0] > 1000", timeout=30)
    frame = k.value("v.hpf_frame")
    x0, y0, x1, y1 = frame["bounds"]
    assert x1 - x0 == pytest.approx(side) and x0 < 1500 < x1 and y0 < 2000 < y1
    assert frame["count"] == k.value(f"store_count({x0}, {y0})") >= 25
    nb.page.wait_for_function("(n) => { const el = [...globalThis.__exactLabViewers].at(-1).root.querySelector('.xl-hpf');"
                              " return el.dataset.source === 'store' && el.dataset.count === String(n); }", arg=frame["count"])
    assert readout(nb)["text"].startswith(f"10 HPF: {frame['count']} in 0.1 mm")
    nb.screenshot("viewer-hpf-frame.png")


def test_python_places_the_frame_on_the_densest_area(nb):
    k = nb.kernel
    k.run("v.place_hpf_frame((100, 100))\n"
          "densest = proj.densest_area(iid, types=['mitosis'], area_mm2=0.1)\nv.place_hpf_frame(densest)")
    densest = k.value("densest")
    nb.page.wait_for_function("(n) => { const el = [...globalThis.__exactLabViewers].at(-1).root.querySelector('.xl-hpf');"
                              " return el.dataset.source === 'store' && el.dataset.count === String(n); }", arg=densest["count"])
    assert float(readout(nb)["x0"]) == pytest.approx(densest["bounds"][0], abs=0.01)
