"""Pixel labelling in a real JupyterLab and Chromium: the brush paints what the kernel stores (within
a pixel at full zoom), a right-drag erases, SLIC superpixels of the view fill with a click, Ctrl+Z
reaches the kernel's mask history, a second viewer shows the painted mask, "finish" lands on the
next image; there, the fill tool fills a closed outline, Felzenszwalb superpixels chosen in the
mask bar fill with a click, and a mask painted by another process shows in the open viewer."""

from __future__ import annotations

import numpy as np
import pytest

from exact_lab.masks.tiles import stroke_mask

pytestmark = pytest.mark.browser

SETUP = """
import exact_lab as xl, tempfile, shutil, numpy as np
folder = tempfile.mkdtemp() + "/p"
shutil.copy("slides/CMU-1-Small-Region.svs", "slides/mask-second.svs")
proj = xl.open_project(folder, user="tester")
ids = [int(i) for i in proj.add_images(["slides/CMU-1-Small-Region.svs", "slides/mask-second.svs"])["image_id"]]
iid = ids[0]
tumour = proj.add_annotation_type("tumour", "mask")
stroma = proj.add_annotation_type("stroma", "mask")
v = proj.viewer(iid, height="560px")
"""

STROKE = [(500.0, 500.0), (650.0, 540.0)]
RADIUS = 15.0
WINDOW = (440, 440, 720, 600)  # level-0 box around the stroke


@pytest.fixture(scope="module")
def nb(notebook):
    notebook.show(SETUP)
    notebook.goto(600, 600, 1.0)
    notebook.kernel.run(f"v.brush_radius = {RADIUS}")
    notebook.page.wait_for_function(f"() => [...globalThis.__exactLabViewers].at(-1).session.model.get('brush_radius') === {RADIUS}")
    # the mask layer asks for the tiles in view as soon as it is drawn
    notebook.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.masks.received >= 1", timeout=20_000)
    return notebook


def tool(nb, name):
    nb.page.locator(".xl-root").last.locator(f"button[data-tool='{name}']").click()


def right_drag(nb, points, steps=6):
    m = nb.page.mouse
    m.move(*nb.to_page(*points[0]))
    m.down(button="right")
    for p in points[1:]:
        m.move(*nb.to_page(*p), steps=steps)
    m.up(button="right")


def kernel_mask(nb, box=WINDOW, image="iid"):
    flat = nb.kernel.value(f"proj.mask({image}, region={tuple(box)}).ravel().tolist()")
    return np.asarray(flat, np.int64).reshape(box[3] - box[1], box[2] - box[0])


def within(points, radius, box=WINDOW):
    """Pixels of ``box`` whose centre is within ``radius`` of the polyline (the kernel's rule)."""
    (x0, y0), m = stroke_mask(points, radius)
    out = np.zeros((box[3] - box[1], box[2] - box[0]), bool)
    ox, oy = x0 - box[0], y0 - box[1]
    out[oy:oy + m.shape[0], ox:ox + m.shape[1]] = m
    return out


def settled(nb, ok, timeout=20.0, box=WINDOW, image="iid"):
    """The kernel's mask of the window once ``ok(mask)`` holds (or the last read, after ``timeout``)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        m = kernel_mask(nb, box, image)
        if ok(m) or time.monotonic() > deadline:
            return m
        time.sleep(0.3)


def box_of(m):
    ys, xs = np.nonzero(m)
    return (int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())) if len(xs) else None


def shown(nb, x, y):
    return nb.js("v.session.masks.labelAt(v.model.frame, v.model.painter.level(), arg[0], arg[1])", [x, y])


def wait_shown(nb, x, y, value, timeout=20_000):
    nb.page.wait_for_function("([x, y, t]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
                              " return v.session.masks.labelAt(0, v.model.painter.level(), x, y) === t; }",
                              arg=[x, y, value], timeout=timeout)


def test_a_brush_stroke_paints_at_once_and_the_kernel_stores_it_within_a_pixel(nb):
    tumour = nb.kernel.value("tumour")
    tool(nb, "brush")
    nb.drag(STROKE, steps=12)
    # painted in the browser at once, before any answer from the kernel could have come back
    assert shown(nb, 575, 520) == tumour
    assert shown(nb, 575, 580) == 0
    sent = nb.js("v.session.lastMaskEdit")
    # the kernel stores exactly the polyline the browser sent (its own rule, pixel for pixel)
    assert sent["kind"] == "mask_stroke" and sent["value"] == tumour and sent["radius"] == RADIUS
    exact = within(np.reshape(sent["points"], (-1, 2)), RADIUS)
    got = settled(nb, lambda m: np.array_equal(m == tumour, exact)) == tumour
    assert np.array_equal(got, exact), f"{(got ^ exact).sum()} pixels differ from the stroke sent: {sent}"
    # mouse positions land on whole screen pixels: at zoom 1 the stroke may move by under a pixel
    inner, outer = within(STROKE, RADIUS - 1), within(STROKE, RADIUS + 1)
    assert got[inner].all(), (f"{(~got & inner).sum()} pixels within the radius are not painted; painted box "
                              f"{box_of(got)}, expected {box_of(inner)} (in the window {WINDOW})")
    assert not got[~outer].any(), f"{(got & ~outer).sum()} pixels outside the radius are painted"
    assert abs(int(got.sum()) - int(within(STROKE, RADIUS).sum())) < 0.05 * got.sum()


def test_a_right_drag_erases(nb):
    tumour = nb.kernel.value("tumour")
    before = kernel_mask(nb) == tumour
    erase = [(575.0, 470.0), (575.0, 570.0)]
    right_drag(nb, erase)
    band = within(erase, RADIUS - 1)
    after = settled(nb, lambda m: not (m == tumour)[band].any()) == tumour
    sent = nb.js("v.session.lastMaskEdit")
    assert sent["value"] == 0 and sent["kind"] == "mask_stroke"
    assert not after[within(erase, RADIUS - 1)].any(), (f"painted inside the erased band: {box_of(after & within(erase, RADIUS - 1))}; "
                                                        f"sent {sent}")
    # the rest of the stroke is untouched
    away = ~within(erase, RADIUS + 1)
    assert np.array_equal(after[away], before[away])
    nb.page.wait_for_function("() => { const v = [...globalThis.__exactLabViewers].at(-1);"
                              " return v.session.masks.labelAt(0, v.model.painter.level(), 575, 520) === 0; }", timeout=10_000)


FILL_CHECK = f"""
def near_stroke(x, y, w, h, r={RADIUS + 1}):
    (ax, ay), (bx, by) = {STROKE}
    cx = np.arange(x, x + w) + 0.5
    cy = (np.arange(y, y + h) + 0.5)[:, None]
    dx, dy = bx - ax, by - ay
    t = np.clip(((cx - ax) * dx + (cy - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return (cx - ax - t * dx) ** 2 + (cy - ay - t * dy) ** 2 <= r * r

def fill_state():
    # (pixels of the two superpixels painted, their size, painted pixels elsewhere but the stroke)
    x, y = op.l0_xy
    h, w = op.where.shape
    m = proj.mask(iid, region=(x, y, x + w, y + h)) == tumour
    return [int((m & op.where).sum()), int(op.where.sum()), int((m & ~op.where & ~near_stroke(x, y, w, h)).sum())]
"""


def test_slic_superpixels_of_the_view_fill_two_with_a_click_each(nb):
    tumour = nb.kernel.value("tumour")
    nb.page.locator(".xl-root").last.locator("button[data-action='superpixels']").click()
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.superpixels !== null", timeout=60_000)
    bbox = nb.js("v.session.superpixels.bbox")
    view = nb.js("v.camera.bounds()")
    assert np.allclose(bbox, np.clip(view, 0, None), atol=1), (bbox, view)
    tool(nb, "superpixel")
    a_pt, b_pt = (380.0, 800.0), (820.0, 820.0)
    nb.click(*a_pt)
    nb.click(*b_pt)
    nb.kernel.run(f"sp = v.mask_tools.current; a, b = sp.label_at({a_pt}), sp.label_at({b_pt}); "
                  f"op = sp.fill_op(iid, 0, {{a, b}}, tumour)")
    nb.kernel.run(FILL_CHECK)
    assert nb.kernel.value("bool(a and b and a != b)")
    # the fill's own rule (superpixels.py) says which level-0 pixels the two superpixels cover:
    # every one of them is painted, nothing else is but the stroke
    assert nb.kernel.wait("fill_state()[0] == fill_state()[1]", timeout=20)
    painted, size, elsewhere = nb.kernel.value("fill_state()")
    assert size > 500 and elsewhere == 0, (painted, size, elsewhere)
    nb.page.wait_for_function("([x, y, t]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
                              " return v.session.masks.labelAt(0, v.model.painter.level(), x, y) === t; }",
                              arg=[a_pt[0], a_pt[1], tumour], timeout=10_000)
    nb.page.wait_for_timeout(300)
    nb.screenshot("masks-brush-superpixels.png")


def test_ctrl_z_undoes_the_last_mask_edit_in_the_kernel(nb):
    tumour = nb.kernel.value("tumour")
    nb.page.locator(".xl-root .xl-canvas").last.hover()
    nb.kernel.run("op_a, op_b = sp.fill_op(iid, 0, {a}, tumour), sp.fill_op(iid, 0, {b}, tumour)\n"
                  "def painted(o):\n"
                  "    x, y = o.l0_xy; h, w = o.where.shape\n"
                  "    m = proj.mask(iid, region=(x, y, x + w, y + h)) == tumour\n"
                  "    return [int((m & o.where).sum()), int(o.where.sum())]")
    nb.press("Control+z")  # the second click's fill goes, the first's stays
    assert nb.kernel.wait("painted(op_b)[0] == 0", timeout=20)
    first, size = nb.kernel.value("painted(op_a)")
    assert first == size > 0
    nb.press("Control+z")
    assert nb.kernel.wait("fill_state()[0] == 0", timeout=20)
    assert (kernel_mask(nb) == tumour).sum() > 0  # the stroke is still there
    nb.press("Control+Shift+z")
    nb.press("Control+Shift+z")
    assert nb.kernel.wait("fill_state()[0] == fill_state()[1]", timeout=20)
    nb.press("Control+z")
    nb.press("Control+z")
    assert nb.kernel.wait("fill_state()[0] == 0", timeout=20)
    assert nb.kernel.value("fill_state()[2]") == 0


def test_a_second_viewer_of_the_image_shows_the_painted_mask(nb):
    tumour = nb.kernel.value("tumour")
    nb.show("first = v; v = proj.viewer(iid, height='560px')")
    nb.goto(600, 600, 1.0)
    wait_shown(nb, 520, 505, tumour)  # the stroke (tile 1, 0)
    wait_shown(nb, 630, 535, tumour)  # the stroke (tile 1, 1)
    assert shown(nb, 575, 520) == 0  # the erased gap
    assert shown(nb, 575, 590) == 0


def test_finish_image_marks_it_done_and_opens_the_next(nb):
    first, second = nb.kernel.value("ids")
    nb.page.locator(".xl-root").last.locator("button[data-action='finish-image']").click()
    assert nb.kernel.wait(f"v.image == {second}", timeout=20)
    assert nb.kernel.value("proj.done_images()") == [first]
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).meta.path.endsWith('mask-second.svs')", timeout=20_000)
    nb.goto(600, 600, 1.0)
    # the new image's tiles: nothing painted there
    nb.page.wait_for_function("() => { const v = [...globalThis.__exactLabViewers].at(-1);"
                              " return v.session.masks.labelAt(0, v.model.painter.level(), 520, 505) === 0; }", timeout=20_000)


# -- on the second image (empty after finish): the fill tool, and Felzenszwalb from the mask bar ----
# below the toolbar and the mask bar, which cover the top ~100 screen px
OUTLINE = [(420.0, 480.0), (700.0, 500.0), (760.0, 700.0), (560.0, 620.0), (440.0, 760.0)]
FILL_WINDOW = (380, 440, 800, 800)


def centres(geom, box):
    import shapely

    cx, cy = np.meshgrid(np.arange(box[0], box[2]) + 0.5, np.arange(box[1], box[3]) + 0.5)
    return shapely.contains_xy(geom, cx, cy)


def test_the_fill_tool_paints_a_closed_outline_at_once_and_the_kernel_stores_its_inside(nb):
    from shapely.geometry import Polygon

    from exact_lab.masks.tiles import polygon_mask

    tumour = nb.kernel.value("tumour")
    wait_shown(nb, 600, 560, 0)  # the tiles under the outline are loaded (and empty)
    wait_shown(nb, 560, 700, 0)
    tool(nb, "fill")
    nb.drag(OUTLINE + [OUTLINE[0]], steps=10)
    # painted in the browser on release, before the kernel's tiles come back
    assert shown(nb, 600, 560) == tumour
    assert shown(nb, 560, 700) == 0  # the notch between the last two vertices is outside
    sent = nb.js("v.session.lastMaskEdit")
    assert sent["kind"] == "mask_polygon" and sent["value"] == tumour
    # the kernel stores exactly the outline the browser sent, by its own rule
    (x0, y0), rule = polygon_mask([np.reshape(sent["points"], (-1, 2))])
    exact = np.zeros((FILL_WINDOW[3] - FILL_WINDOW[1], FILL_WINDOW[2] - FILL_WINDOW[0]), bool)
    exact[y0 - FILL_WINDOW[1]:y0 - FILL_WINDOW[1] + rule.shape[0], x0 - FILL_WINDOW[0]:x0 - FILL_WINDOW[0] + rule.shape[1]] = rule
    got = settled(nb, lambda m: np.array_equal(m == tumour, exact), box=FILL_WINDOW, image="v.image")
    assert np.array_equal(got == tumour, exact), f"{((got == tumour) ^ exact).sum()} pixels differ from the outline sent"
    # and that is the drawn outline within a pixel: mouse positions land on whole screen pixels
    shape = Polygon(OUTLINE)
    inner, outer = centres(shape.buffer(-1.5), FILL_WINDOW), centres(shape.buffer(1.5), FILL_WINDOW)
    assert (got[inner] == tumour).all(), f"{(got[inner] != tumour).sum()} pixels inside are not painted"
    assert not got[~outer].any(), f"{(got[~outer] != 0).sum()} pixels outside are painted"
    # a right-drag outline erases its inside and nothing else
    hole = [(520.0, 530.0), (640.0, 530.0), (640.0, 590.0), (520.0, 590.0)]
    right_drag(nb, hole + [hole[0]], steps=8)
    gap = centres(Polygon(hole).buffer(-1.5), FILL_WINDOW)
    after = settled(nb, lambda m: not m[gap].any(), box=FILL_WINDOW, image="v.image")
    assert not after[gap].any()
    away = ~centres(Polygon(hole).buffer(1.5), FILL_WINDOW)
    assert np.array_equal(after[away], got[away])
    wait_shown(nb, 580, 560, 0)
    # Ctrl+Z puts the erased inside back
    nb.page.locator(".xl-root .xl-canvas").last.hover()
    nb.press("Control+z")
    back = settled(nb, lambda m: (m[gap] == tumour).all(), box=FILL_WINDOW, image="v.image")
    assert np.array_equal(back, got)
    wait_shown(nb, 580, 560, tumour)
    nb.page.wait_for_timeout(300)
    nb.screenshot("masks-fill.png")


def test_felzenszwalb_from_the_mask_bar_fills_exactly_the_kernels_segment(nb):
    tumour = nb.kernel.value("tumour")
    root = nb.page.locator(".xl-root").last
    root.locator("select[data-action='superpixel-method']").select_option("felzenszwalb")
    params = root.locator(".xl-sp-params input")
    assert [params.nth(i).get_attribute("data-param") for i in range(params.count())] == ["scale", "sigma", "min_size"]
    assert root.locator("input[data-param='min_size']").input_value() == "50"  # the kernel's default
    root.locator("input[data-param='scale']").fill("300")
    root.locator("button[data-action='superpixels']").click()
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.superpixels?.method === 'felzenszwalb'",
                              timeout=60_000)
    # the kernel segmented the view with the parameters typed: recomputing them gives the same labels
    nb.kernel.run("from exact_lab.masks.superpixels import read_view, segment\n"
                  "from exact_lab.slides import open_slide\n"
                  "sp = v.mask_tools.current\n"
                  "rgb = read_view(open_slide(proj.image(v.image)['path']), sp.l0_box, sp.labels.shape[::-1])\n"
                  "same = bool((segment(rgb, 'felzenszwalb', scale=300, sigma=0.8, min_size=50) == sp.labels).all())\n"
                  "other = bool((segment(rgb, 'felzenszwalb') == sp.labels).all())")
    assert nb.kernel.value("sp.method") == "felzenszwalb"
    assert nb.kernel.value("same") and not nb.kernel.value("other")
    point = (320.0, 600.0)  # left of the filled outline
    x0, y0, x1, y1 = nb.js("v.camera.bounds()")
    assert x0 < point[0] < x1 and y0 < point[1] < y1
    nb.kernel.run(f"before = proj.mask(v.image, region=tuple(int(b) for b in sp.l0_box))\n"
                  f"seg = sp.label_at({point}); op = sp.fill_op(v.image, 0, {{seg}}, tumour)\n"
                  f"x, y = op.l0_xy; h, w = op.where.shape; bx, by = sp.l0_box[:2]\n"
                  f"want = before.copy(); want[y - by:y - by + h, x - bx:x - bx + w][op.where] = tumour")
    assert nb.kernel.value("seg") > 0 and nb.kernel.value("int(op.where.sum())") > 100
    tool(nb, "superpixel")
    nb.click(*point)
    # the kernel's mask of the view is what it was, with exactly that segment's level-0 pixels filled
    assert nb.kernel.wait("bool((proj.mask(v.image, region=tuple(int(b) for b in sp.l0_box)) == want).all())", timeout=20)
    wait_shown(nb, *point, tumour)


REMOTE_PAINT = """
import subprocess, sys
paint = ("import sys, numpy as np, exact_lab as xl; p = xl.open_project(sys.argv[1], user='bob'); "
         "p.set_mask(int(sys.argv[2]), np.full((60, 120), int(sys.argv[3]), np.uint8), offset=(880, 760)); p.close()")
subprocess.run([sys.executable, "-c", paint, folder, str(v.image), str(stroma)], check=True, timeout=120)
"""


def test_a_mask_painted_by_another_process_shows_in_the_open_viewer(nb):
    stroma = nb.kernel.value("stroma")
    x0, y0, x1, y1 = nb.js("v.camera.bounds()")
    assert x0 < 880 and 1000 < x1 and y0 < 760 and 820 < y1, "the block is in view"
    nb.page.wait_for_function("() => { const v = [...globalThis.__exactLabViewers].at(-1);"
                              " return v.session.masks.labelAt(0, v.model.painter.level(), 940, 790) !== null; }",
                              timeout=20_000)  # that tile is loaded (and cached) before
    assert shown(nb, 940, 790) != stroma
    nb.kernel.run(REMOTE_PAINT)
    # the cached tile is fetched again because the kernel announced the other process's commit
    wait_shown(nb, 940, 790, stroma, timeout=30_000)
    assert shown(nb, 875, 790) != stroma and shown(nb, 940, 825) != stroma


SNAP = """(name) => { const v = [...globalThis.__exactLabViewers].at(-1), c = v.scene.deck.getCanvas();
  const o = new OffscreenCanvas(c.width, c.height), g = o.getContext('2d');
  g.drawImage(c, 0, 0);
  (globalThis.__canvasSnaps ??= {})[name] = g.getImageData(0, 0, c.width, c.height).data; }"""
DIFF = """([a, b]) => { const x = globalThis.__canvasSnaps[a], y = globalThis.__canvasSnaps[b]; let n = 0;
  for (let i = 0; i < x.length; i += 4)
    if (x[i] !== y[i] || x[i + 1] !== y[i + 1] || x[i + 2] !== y[i + 2] || x[i + 3] !== y[i + 3]) n++;
  return n; }"""


def frames_drawn(nb):
    return nb.js("({...v.frameCounts})")


def test_brush_moves_redraw_only_their_box_and_show_what_a_whole_redraw_and_the_stored_mask_show(nb):
    nb.goto(600, 600, 1.0)
    tool(nb, "brush")
    stroke = [(250.0, 800.0), (330.0, 785.0), (410.0, 815.0)]  # in view, away from the other tests' labels
    m = nb.page.mouse
    m.move(*nb.to_page(*stroke[0]))
    nb.page.wait_for_timeout(500)
    nb.page.evaluate(SNAP, "before")
    m.down()
    nb.page.wait_for_timeout(200)
    start = frames_drawn(nb)
    for (ax, ay), (bx, by) in zip(stroke, stroke[1:]):
        for t in np.linspace(0.1, 1, 6):
            m.move(*nb.to_page(ax + t * (bx - ax), ay + t * (by - ay)))
            nb.page.wait_for_timeout(60)  # a frame or more between moves
    nb.page.wait_for_timeout(300)
    during = frames_drawn(nb)
    assert during["brush"] - start["brush"] >= 5 and during["all"] == start["all"], (start, during)
    nb.page.evaluate(SNAP, "stroke")
    # the stroke shows at once: about its area of pixels changed (a 15 px radius over ~165 px)
    changed = nb.page.evaluate(DIFF, ["before", "stroke"])
    assert changed > 0.8 * 30 * 165, changed
    # a whole redraw of the same scene (the stroke not sent yet) draws exactly those pixels
    nb.js("v.requestFrame()")
    nb.page.wait_for_function("(n) => [...globalThis.__exactLabViewers].at(-1).frameCounts.all > n", arg=during["all"])
    nb.page.evaluate(SNAP, "whole")
    assert nb.page.evaluate(DIFF, ["stroke", "whole"]) == 0
    # released: sent, stored, fetched again from the kernel and drawn whole: nothing moves
    received = nb.js("v.session.masks.received")
    m.up()
    nb.page.wait_for_function("(n) => [...globalThis.__exactLabViewers].at(-1).session.masks.received > n",
                              arg=received, timeout=20_000)
    nb.page.wait_for_timeout(500)
    nb.page.evaluate(SNAP, "stored")
    assert nb.page.evaluate(DIFF, ["stroke", "stored"]) == 0
    sent = nb.js("v.session.lastMaskEdit")
    box = (200, 765, 460, 860)
    exact = within(np.reshape(sent["points"], (-1, 2)), sent["radius"], box)
    got = settled(nb, lambda m: np.array_equal(m == sent["value"], exact), box=box, image="v.image")
    assert np.array_equal(got == sent["value"], exact), (f"{((got == sent['value']) ^ exact).sum()} pixels differ from "
                                                         f"the stroke sent {sent}; classes in the box {np.unique(got)}")
