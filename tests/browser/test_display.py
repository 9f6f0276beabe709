"""The slide on screen, image adjustments, selection both ways, density maps, frames."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

SLIDE = "slides/CMU-1-Small-Region.svs"


def canvas_image(nb) -> Image.Image:
    """The canvas alone: toolbar, overview and scale bar hidden for the shot."""
    hide = ".xl-toolbar, .xl-overview, .xl-scalebar, .xl-panel"
    nb.js("v.root.querySelectorAll(arg).forEach(e => e.style.visibility = 'hidden')", hide)
    png = nb.page.locator(".xl-root .xl-canvas").last.screenshot()
    nb.js("v.root.querySelectorAll(arg).forEach(e => e.style.visibility = '')", hide)
    return Image.open(io.BytesIO(png)).convert("RGB")


def wait_tiles(nb, quiet_ms=800, timeout_ms=30_000):
    """Wait until tiles stop arriving (every tile the view needs is drawn)."""
    nb.page.wait_for_function(
        "([quiet]) => { const v = [...globalThis.__exactLabViewers].at(-1); const n = v.tileStats.loaded;"
        " const now = performance.now(); if (v.__n !== n) { v.__n = n; v.__t = now; return false; }"
        " return n > 0 && now - v.__t > quiet; }",
        arg=[quiet_ms], timeout=timeout_ms, polling=100)


def image_rect(nb):
    """Screen rectangle (inside the canvas) that the whole slide covers."""
    return nb.js("(() => { const [x0, y0] = v.camera.toScreen(0, 0);"
                 " const [x1, y1] = v.camera.toScreen(v.meta.width, v.meta.height); return [x0, y0, x1, y1]; })()")


def test_slide_shows_with_its_colours(notebook, small_svs):
    import openslide

    nb = notebook
    nb.show(f"import exact_lab as xl\nv = xl.SlideViewer({SLIDE!r})")
    wait_tiles(nb)
    shot = np.asarray(canvas_image(nb), dtype=np.float64)
    x0, y0, x1, y1 = [int(round(c)) for c in image_rect(nb)]
    on_screen = shot[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
    assert on_screen.std() > 20, "the slide area is blank"
    with openslide.OpenSlide(str(small_svs)) as s:
        ref = s.get_thumbnail((x1 - x0, y1 - y0)).convert("RGB").resize((x1 - x0, y1 - y0))
    ref = np.asarray(ref, dtype=np.float64)[2:-2, 2:-2]
    h, w = min(len(ref), len(on_screen)), min(ref.shape[1], on_screen.shape[1])
    a, b = on_screen[:h, :w], ref[:h, :w]
    # same colours (mean per channel) and the same picture (correlation of grey levels)
    assert np.abs(a.mean(axis=(0, 1)) - b.mean(axis=(0, 1))).max() < 12, (a.mean(axis=(0, 1)), b.mean(axis=(0, 1)))
    # compare 4x4 block means: the GPU minifies tiles bilinearly, the reference with Lanczos
    def blocks(img):
        g = img.mean(axis=2)[: h // 4 * 4, : w // 4 * 4]
        return g.reshape(h // 4, 4, w // 4, 4).mean(axis=(1, 3)).ravel()

    corr = np.corrcoef(blocks(a), blocks(b))[0, 1]
    assert corr > 0.95, corr
    nb.screenshot("viewer-slide.png")

    # brightness on the GPU: no new tiles, a brighter picture
    loaded = nb.js("v.tileStats.loaded")
    nb.kernel.run("v.brightness = 0.25; v.gamma = 1.2")
    nb.page.wait_for_timeout(500)
    brighter = np.asarray(canvas_image(nb), dtype=np.float64)[y0 + 2:y1 - 2, x0 + 2:x1 - 2]
    assert brighter.mean() > on_screen.mean() + 10
    assert nb.js("v.tileStats.loaded") == loaded
    nb.kernel.run("v.brightness = 0.0; v.gamma = 1.0")


QUICK = f"""
import exact_lab as xl, pandas as pd, shapely
boxes = pd.DataFrame({{"type": ["box", "box", "box", "point"],
                       "geometry": [shapely.box(500, 500, 600, 560), shapely.box(700, 500, 760, 600),
                                    shapely.box(1500, 1500, 1600, 1600), shapely.Point(550, 700)]}})
v = xl.SlideViewer({SLIDE!r}, annotations=boxes)
uuids = list(v.annotations["uuid"])
"""


def test_selection_both_ways(notebook):
    nb = notebook
    nb.show(QUICK)
    nb.kernel.run("v.goto(700, 600, zoom=1.0)")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).camera.scale === 1")
    nb.page.locator(".xl-root button[data-tool='select']").last.click()
    nb.drag([(450, 450), (700, 600), (800, 750)])  # a box around two boxes and the point
    assert nb.kernel.wait("sorted(v.selected['uuid']) == sorted(uuids[:2] + uuids[3:])")
    nb.click(350, 400)  # an empty spot: clears the selection
    assert nb.kernel.wait("len(v.selected) == 0")
    nb.click(550, 530, modifiers=["Shift"])
    nb.click(730, 550, modifiers=["Shift"])
    assert nb.kernel.wait("sorted(v.selected['uuid']) == sorted(uuids[:2])")

    # lasso (Alt+drag) around the point only
    nb.drag([(520, 680), (580, 680), (580, 720), (520, 720), (520, 685)], modifiers=["Alt"])
    assert nb.kernel.wait("list(v.selected['uuid']) == [uuids[3]]")

    # from Python: the third box, highlighted in the browser
    nb.kernel.run("v.goto(1550, 1550, zoom=1.0); v.selected = [uuids[2]]")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.store.selection.size === 1")
    nb.page.wait_for_timeout(300)
    img = np.asarray(canvas_image(nb))
    sx, sy = [int(round(c)) for c in nb.js("v.camera.toScreen(1550, 1500)")]
    edge = img[sy - 2:sy + 3, sx - 3:sx + 4].reshape(-1, 3)
    assert (edge.min(axis=1) > 235).any(), "no white selection outline on the box's top edge"
    inside = img[sy + 20, sx]
    assert inside[2] < 235 or inside[0] > 200  # the translucent yellow fill tints the inside
    nb.screenshot("viewer-selection.png")


def test_density_when_zoomed_out(notebook):
    nb = notebook
    nb.show(QUICK)
    nb.kernel.run(
        "import numpy as np\nrng = np.random.default_rng(1)\nx = rng.uniform(0, 2100, 200_000); y = rng.uniform(0, 2900, 200_000)\n"
        "cells = pd.DataFrame({'xmin': x, 'ymin': y, 'xmax': x + 8, 'ymax': y + 8})\n"
        "v.add_layer(cells, 'cells', style={'color': '#00ffff'})")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).session.store.count('u:cells') === 200000", timeout=30_000)
    nb.kernel.run("v.fit()")
    nb.page.wait_for_timeout(800)
    assert "(density)" in nb.page.locator(".xl-status").last.inner_text()
    nb.screenshot("viewer-density.png")
    nb.kernel.run("v.goto(1000, 1000, zoom=2.0)")
    nb.page.wait_for_timeout(800)
    assert "(density)" not in nb.page.locator(".xl-status").last.inner_text()
    drawn = nb.kernel.wait("v.perf.get('drawn_s')")
    assert drawn, "the browser did not report the layer drawn"
    nb.kernel.run("v.remove_layer('cells')")
    nb.page.wait_for_function("() => !([...globalThis.__exactLabViewers].at(-1).layers.some(l => l.key === 'u:cells'))")


def test_no_tile_source_is_explained(notebook, small_svs):
    nb = notebook
    # the shared copy lies outside the lab's root: the extension may not serve it
    nb.show(f"import exact_lab as xl\nv = xl.SlideViewer({str(small_svs)!r}, transport='server')", settle=False)
    nb.page.wait_for_function("() => { const v = [...(globalThis.__exactLabViewers ?? [])].at(-1);"
                              " return v && v.root.querySelector('.xl-banner:not(.xl-hidden)'); }", timeout=30_000)
    text = nb.page.locator(".xl-root .xl-banner").last.inner_text()
    assert text.startswith("Cannot load tiles"), text
    assert nb.kernel.wait("v.transport_active == 'none'")
    # "auto" falls back to tiles over the comm and shows the slide
    nb.kernel.run("v.transport = 'auto'")
    assert nb.kernel.wait("v.transport_active == 'comm'")
    nb.page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).tileStats.loaded > 0", timeout=30_000)
    assert nb.page.locator(".xl-root .xl-banner.xl-hidden").count() == 1
