"""The measurement panel beside the slide follows the view while panning, and a callback's
figure shows in it."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, tempfile, shapely, pandas as pd, numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
folder = tempfile.mkdtemp() + "/p"
proj = xl.open_project(folder, user="tester")
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
proj.add_annotation_type("cell", "point")
rng = np.random.default_rng(1)
proj.add_annotations(pd.DataFrame({"image_id": iid, "type": "cell",
    "geometry": [shapely.Point(x, y) for x, y in zip(rng.uniform(0, 2220, 2000), rng.uniform(0, 2967, 2000))]}))
v = proj.viewer(iid, height="500px")
v.show_measurements()
def xs(view):
    fig, ax = plt.subplots(figsize=(2.5, 1.5))
    ax.hist(view["annotations"]["xmin"], bins=8)
    ax.set_title(f"{len(view['annotations'])} in view")
    return fig
v.on_view(xs, debounce=0.2)
def panel_count():
    b = v.view["bounds"]
    return int(proj.sql(
        "SELECT count(*) FROM annotations WHERE image_id = ? AND NOT deleted AND (min_x + max_x) / 2 >= ? "
        "AND (min_x + max_x) / 2 < ? AND (min_y + max_y) / 2 >= ? AND (min_y + max_y) / 2 < ?",
        params=[iid, max(0, b[0]), min(2220, b[2]), max(0, b[1]), min(2967, b[3])]).fetchone()[0])
"""


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.goto(1000, 1200, 1.0)
    return notebook


def panel_text(nb) -> str:
    return nb.page.locator(".xl-root .xl-viewpanel").last.inner_text()


def wait_panel_change(nb, before: str, timeout: float = 20_000) -> str:
    nb.page.wait_for_function(
        "(before) => { const el = [...document.querySelectorAll('.xl-root .xl-viewpanel')].at(-1);"
        " return el && !el.classList.contains('xl-hidden') && el.innerText.includes('FOV') && el.innerText !== before; }",
        arg=before, timeout=timeout)
    return panel_text(nb)


def shown_count(text: str) -> int:
    for line in text.splitlines():
        if line.startswith("cell"):
            return int(line.split()[1])
    raise AssertionError(f"no cell row in the panel: {text!r}")


def test_the_panel_follows_the_view_and_counts_what_the_store_holds_there(nb):
    first = wait_panel_change(nb, "")
    assert "mm²" in first and "/10 HPF" in first.replace("\t", " ")
    views = [settled_panel(nb)]
    for dx, dy in [(300, 0), (0, 250), (-500, -100)]:  # three pans with the mouse
        cx, cy = nb.js("[v.camera.cx, v.camera.cy]")
        nb.drag([(cx, cy), (cx - dx, cy - dy)], steps=6)
        views.append(settled_panel(nb))
    # four different views, each counted right (two views may hold the same count by chance)
    assert len({tuple(round(b) for b in bounds) for bounds in views}) == 4


def settled_panel(nb) -> list:
    """Waits until the panel shows the view the browser rests at: the kernel measured that view,
    and the count shown equals a store query for the same bounds. Returns the view's bounds."""
    bounds = nb.js("v.camera.bounds()")
    # a slow drag reports views on the way too: wait until the kernel has the last one and measured it
    nb.kernel.wait(f"v.view.get('bounds') and max(abs(a - b) for a, b in zip(v.view['bounds'], {bounds!r})) < 1e-6 "
                   "and v.last_measurement is not None "
                   "and v.last_measurement['bounds'][0] == max(0, v.view['bounds'][0]) "
                   "and int(v.last_measurement['counts']['count'].sum()) == panel_count()", timeout=20)
    expected = nb.kernel.value("panel_count()")
    nb.page.wait_for_function(
        "(n) => { const el = [...document.querySelectorAll('.xl-root .xl-viewpanel')].at(-1);"
        " return el && el.innerText.split('\\n').some((line) => line.split('\\t')[0] === 'cell' && line.split('\\t')[1] === String(n)); }",
        arg=expected, timeout=20_000)
    assert shown_count(panel_text(nb)) == expected
    return bounds


def test_an_on_view_figure_appears_in_the_panel(nb):
    nb.page.wait_for_selector(".xl-root .xl-viewpanel img.xl-panel-figure", timeout=20_000)
    size = nb.js("(() => { const img = v.root.querySelector('.xl-viewpanel img'); return [img.naturalWidth, img.naturalHeight]; })()")
    assert size[0] > 50 and size[1] > 30
    nb.screenshot("measure-panel.png")
