"""Two viewers of one image in one kernel, an edit from another kernel, and panning while the
kernel is busy."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, tempfile, shapely, pandas as pd, ipywidgets
folder = tempfile.mkdtemp() + "/p"
proj = xl.open_project(folder, user="tester")
proj.session.interval = 5.0  # the session commits 5 s after an edit: what arrives sooner was forwarded
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
proj.add_annotation_type("cell", "box")
a = proj.viewer(iid, height="380px")
b = proj.viewer(iid, height="380px")
v = ipywidgets.VBox([a, b])
"""


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.page.wait_for_function("() => globalThis.__exactLabViewers.size === 2 && [...globalThis.__exactLabViewers].every(v => v.session.store.complete)")
    for name in ("a", "b"):
        notebook.kernel.run(f"{name}.goto(1000, 1000, zoom=1.0)")
    notebook.page.wait_for_function("() => [...globalThis.__exactLabViewers].every(v => v.camera.scale === 1)")
    return notebook


def count(nb, which):
    return nb.js("v.session.store.count('t:1')", which=which)


def test_second_viewer_in_the_same_kernel_shows_edits_at_once(nb):
    nb.page.locator(".xl-root").first.locator("button[data-tool='box']").click()
    nb.drag([(950, 950), (1000, 980), (1050, 1010)], which=0)
    t0 = time.monotonic()
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers][1].session.store.count('t:1') === 1", timeout=5000)
    at_once = time.monotonic() - t0
    # forwarded from the edit itself, not through the store's commit (5 s after the edit here;
    # a 1.0 s bound against the default 1 s interval failed on a slow CI machine at 1.45 s)
    assert at_once < 3.0, at_once
    assert nb.kernel.wait("len(proj.annotations(image=iid)) == 1")
    # and a deletion in the second viewer reaches the first
    nb.page.locator(".xl-root").nth(1).locator("button[data-tool='select']").click()
    nb.click(1000, 980, which=1)
    nb.press("Delete")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers][0].session.store.count('t:1') === 0", timeout=5000)
    assert nb.kernel.wait("len(proj.annotations(image=iid)) == 0")


def test_edits_from_python_show_in_the_viewers(nb):
    nb.kernel.run("proj.add_annotations(pd.DataFrame({'image_id': [iid], 'type': ['cell'], 'geometry': [shapely.box(800, 800, 860, 850)]}))")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].every(v => v.session.store.count('t:1') === 1)", timeout=5000)
    counts = nb.page.evaluate("() => [...globalThis.__exactLabViewers].map(v => v.session.store.count('t:1'))")
    assert counts == [1, 1], counts  # both viewers of the notebook


def test_an_edit_in_another_kernel_shows_within_two_seconds(nb):
    folder, iid = nb.kernel.value("[folder, iid]")
    script = (
        "import sys, time, shapely, pandas as pd, exact_lab as xl\n"
        f"proj = xl.open_project({folder!r}, user='colleague')\n"
        f"proj.add_annotations(pd.DataFrame({{'image_id': [{iid}], 'type': ['cell'], 'geometry': [shapely.box(1100, 1100, 1180, 1150)]}}))\n"
        "proj.close()\n"
        "print('committed', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent)
    line = proc.stdout.readline()
    t0 = time.monotonic()
    assert "committed" in line, proc.communicate()
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].every(v => v.session.store.count('t:1') === 2)", timeout=10_000, polling=50)
    delay = time.monotonic() - t0
    proc.wait(30)
    assert delay <= 2.0, f"another kernel's edit took {delay:.2f} s to show"
    nb.screenshot("viewer-two-viewers.png")


def test_panning_goes_on_while_the_kernel_sleeps(nb):
    nb.show("v = xl.SlideViewer('slides/CMU-1-Small-Region.svs')")
    transport = nb.kernel.wait("v.transport_active", timeout=20)
    if transport != "server":
        pytest.skip(f"tiles come over the {transport!r} transport: the exact-lab server extension is not serving "
                    "in this environment, and comm tiles wait for the kernel by design")
    nb.kernel.run("v.goto(300, 300, zoom=2.0)")
    nb.page.wait_for_timeout(1500)
    before = nb.js("v.tileStats.loaded")
    sleeping = nb.kernel.start("import time; time.sleep(10)")  # a busy cell (not waited for)
    t0 = time.monotonic()
    box = nb.page.locator(".xl-root .xl-canvas").last.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for _ in range(6):  # drag the slide up and left: the view travels down and right, new tiles
        nb.page.mouse.move(cx + 150, cy + 100)
        nb.page.mouse.down()
        nb.page.mouse.move(cx - 150, cy - 100, steps=8)
        nb.page.mouse.up()
    nb.page.wait_for_timeout(1500)
    loaded = nb.js("v.tileStats.loaded")
    moved = nb.js("[v.camera.cx, v.camera.cy]")
    assert time.monotonic() - t0 < 9, "the drags themselves were slow"
    assert moved[0] > 300 + 400 and moved[1] > 300 + 250, moved
    assert loaded >= before + 4, (before, loaded)
    # the cell's own idle status (the server's execution state also follows the browser's comm messages)
    assert not sleeping.done(), "the kernel should still be sleeping"
    # the full-resolution picture is back once the movement stops (not a blank canvas)
    import io

    import numpy as np
    from PIL import Image

    shot = np.asarray(Image.open(io.BytesIO(nb.page.locator(".xl-root .xl-canvas").last.screenshot())).convert("L"), float)
    assert shot.std() > 20, "blank canvas after panning"
    assert nb.js("v.lowRes") is False
    nb.screenshot("viewer-busy-kernel.png")
    sleeping.wait(30)


def test_frames_of_a_series(nb):
    nb.show("v = xl.SlideViewer('slides/4D-series.ome.tiff')")
    frames = nb.js("v.meta.frames")
    if not frames or frames < 2:
        pytest.skip("4D-series.ome.tiff not present or read as one frame")
    nb.click(200, 80)
    nb.press("Shift+E")
    assert nb.kernel.wait("v.frame == 1")
    nb.press("Shift+E")
    assert nb.kernel.wait("v.frame == 2")
    nb.press("Shift+Q")
    assert nb.kernel.wait("v.frame == 1")
    assert nb.page.locator(".xl-root .xl-frame").last.inner_text() == f"2/{frames}"
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).tileStats.loaded > 0")
