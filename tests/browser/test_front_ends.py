"""The viewer outside JupyterLab: in Jupyter Notebook 7, and on a server without the exact-lab
extension (as VS Code and Colab are), where tiles come over the widget comm."""

from __future__ import annotations

import json
import shutil
import urllib.error
from pathlib import Path

import pytest
from labserver import CHROMIUM, CHROMIUM_ARGS, Lab, notebook_json, screenshot_path

pytestmark = pytest.mark.browser


SHOW = """
import exact_lab as xl, tempfile
proj = xl.open_project(tempfile.mkdtemp() + "/p", user="tester")
proj.add_annotation_type("cell", "box")
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
v = proj.viewer(iid, height="420px")
"""


def serve(tmp_path_factory, small_svs, name, **lab_options) -> Lab:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    server = Lab(tmp_path_factory.mktemp(name), **lab_options)
    (server.root / "slides").mkdir(parents=True)
    shutil.copy(small_svs, server.root / "slides" / small_svs.name)
    (server.root / "viewer.ipynb").write_text(notebook_json("v"))
    server.start()
    return server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def open_viewer(server: Lab, browser, url_path: str):
    """Open the notebook page, run its cell showing ``v``, wait until the viewer has drawn."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}{url_path}?token={server.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    kernel = server.kernel_client("viewer.ipynb")
    kernel.run(SHOW)
    page.locator(".jp-Notebook .jp-Cell").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "() => { const v = [...(globalThis.__exactLabViewers ?? [])].at(-1);"
        " return v && v.root.isConnected && v.session.store.complete && v.source && v.tileStats.loaded > 0; }",
        timeout=90_000)
    return context, page, kernel


def draw_box(page, kernel, x0, y0, x1, y1):
    kernel.run("v.goto(1000, 1000, zoom=1.0)")
    page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).camera.scale === 1", timeout=15_000)
    page.wait_for_timeout(100)
    page.locator(".xl-root button[data-tool='box']").last.click()

    def at(x, y):
        return page.evaluate(
            "([x, y]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
            " const r = v.root.querySelector('.xl-canvas').getBoundingClientRect();"
            " const [sx, sy] = v.camera.toScreen(x, y); return [r.left + sx, r.top + sy]; }", [x, y])

    page.mouse.move(*at(x0, y0))
    page.mouse.down()
    page.mouse.move(*at((x0 + x1) / 2, (y0 + y1) / 2), steps=4)
    page.mouse.move(*at(x1, y1), steps=4)
    page.mouse.up()


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory, small_svs):
    pytest.importorskip("notebook", reason="Jupyter Notebook 7 is not installed (the test extra has it)")
    server = serve(tmp_path_factory, small_svs, "notebook7", app="notebook")
    yield server
    server.stop()


def test_notebook7_renders_the_viewer_and_a_drawn_box_reaches_the_store(notebook7, browser):
    context, page, kernel = open_viewer(notebook7, browser, "notebooks/viewer.ipynb")
    try:
        assert page.locator("#main-panel, .jp-NotebookPanel").count() > 0
        # Notebook 7's one-document page (titled by the notebook), not a JupyterLab tab
        assert page.evaluate("() => document.title") == "viewer" and "/notebooks/viewer.ipynb" in page.url
        assert page.locator(".jp-LabShell").count() == 0 or "/lab" not in page.url
        assert kernel.wait("v.transport_active == 'server'", timeout=20)
        draw_box(page, kernel, 950, 950, 1050, 1010)
        assert kernel.wait("len(proj.annotations(image=iid)) == 1", timeout=15)
        box = kernel.value("proj.annotations(image=iid).iloc[0][['xmin', 'ymin', 'xmax', 'ymax']].round().tolist()")
        assert box == pytest.approx([950, 950, 1050, 1010], abs=2)
        page.locator(".xl-root").last.screenshot(path=str(screenshot_path("front-end-notebook7.png")))
    finally:
        kernel.close()
        context.close()


@pytest.fixture(scope="module")
def without_extension(tmp_path_factory, small_svs):
    config = tmp_path_factory.mktemp("config-without-exact-lab")
    # the user's configuration folder wins over the one pip installed: the extension is off
    (config / "jupyter_server_config.json").write_text(json.dumps({"ServerApp": {"jpserver_extensions": {"exact_lab": False}}}))
    server = serve(tmp_path_factory, small_svs, "no-extension", env={"JUPYTER_CONFIG_DIR": str(config)})
    yield server
    server.stop()


def test_without_the_extension_tiles_come_over_the_comm_and_the_status_line_says_so(without_extension, browser):
    server = without_extension
    with pytest.raises(urllib.error.HTTPError) as missing:
        server.api("exact-lab/info/slides/CMU-1-Small-Region.svs")
    assert missing.value.code == 404  # the route is not there at all
    context, page, kernel = open_viewer(server, browser, "lab/tree/viewer.ipynb")
    try:
        assert kernel.wait("v.transport_active == 'comm'", timeout=20)
        fetched = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name).filter(u => u.includes('/exact-lab/dz/'))")
        assert fetched == []  # no tile over HTTP: every one came over the comm
        assert page.evaluate("() => [...globalThis.__exactLabViewers].at(-1).tileStats.loaded") > 0
        assert "tiles: comm" in page.locator(".xl-root .xl-status").last.inner_text()
        draw_box(page, kernel, 950, 950, 1050, 1010)
        assert kernel.wait("len(proj.annotations(image=iid)) == 1", timeout=15)
    finally:
        kernel.close()
        context.close()


# -- Voilà: a review notebook for a reviewer who does not code ------------------------------------
REVIEW = """
import exact_lab as xl, pandas as pd, shapely
proj = xl.open_project("review-project", user="reviewer")
proj.add_annotation_type("proposal", "box")
iid = int(proj.add_images(["slides/CMU-1-Small-Region.svs"])["image_id"][0])
proj.add_annotations(pd.DataFrame({"image_id": iid, "type": "proposal", "creator": "model", "score": [0.9, 0.6],
                                   "geometry": [shapely.box(300 + 500 * i, 600, 380 + 500 * i, 660) for i in range(2)]}))
v = proj.viewer(iid, height="460px")
v.review(proj.review_queue(types="proposal"))
v
"""


@pytest.fixture(scope="module")
def voila_server(tmp_path_factory, small_svs):
    pytest.importorskip("voila", reason="Voilà is not installed (the test extra has it)")
    server = serve(tmp_path_factory, small_svs, "voila", app="jupyter_server")
    (server.root / "review.ipynb").write_text(notebook_json(REVIEW))
    yield server
    server.stop()


def test_voila_serves_a_review_notebook_whose_verdict_keys_reach_the_store(voila_server, browser):
    """Voilà as an extension of the same Jupyter server: the page shows only outputs (no code), the
    viewer's tiles and metadata come from the exact-lab routes, and v / r record verdicts."""
    import exact_lab as xl

    server = voila_server
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server.url}voila/render/review.ipynb?token={server.token}", timeout=180_000)
        page.wait_for_function(
            "() => { const v = [...(globalThis.__exactLabViewers ?? [])].at(-1);"
            " return v && v.root.isConnected && v.session.store.complete && v.tileStats.loaded > 0; }",
            timeout=180_000)
        assert page.locator(".jp-InputArea, .CodeMirror, .cm-editor").count() == 0  # outputs only
        status = page.locator(".xl-root .xl-status").last
        assert "tiles: server" in status.inner_text()
        fetched = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
        assert any("/exact-lab/dz/" in u for u in fetched) and any("/exact-lab/info/" in u for u in fetched)
        page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).root.querySelector('.xl-status')"
                               ".innerText.includes('review 1/2')", timeout=20_000)
        page.evaluate("() => [...globalThis.__exactLabViewers].at(-1).root.focus()")
        page.keyboard.press("v")
        page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).root.querySelector('.xl-status')"
                               ".innerText.includes('review 2/2')", timeout=20_000)
        page.keyboard.press("r")
        page.wait_for_function("() => [...globalThis.__exactLabViewers].at(-1).root.querySelector('.xl-status')"
                               ".innerText.includes('(end)')", timeout=20_000)
    finally:
        context.close()
    proj = xl.open_project(server.root / "review-project", user="checker", read_only=True)
    try:
        verdicts = proj.verifications(user="reviewer").merge(proj.annotations()[["uuid", "score"]], on="uuid")
        assert sorted(zip(verdicts["score"], verdicts["verified"])) == [(0.6, False), (0.9, True)]
    finally:
        proj.close()
