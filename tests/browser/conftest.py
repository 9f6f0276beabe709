"""A real JupyterLab (started once per test session) and a headless Chromium driving it.

The lab runs from a temporary root folder holding a copy of the test slide (the server extension
only serves files under its root) and an empty notebook. Tests create viewers and read their
state through a second client of the notebook's kernel; the notebook itself displays them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from labserver import CHROMIUM, CHROMIUM_ARGS, Kernel, Lab, notebook_json, screenshot_path  # noqa: F401

# Playwright's sync API runs its own asyncio loop in this thread, which must stay open
from no_jupyter_server import jp_asyncio_loop, jp_server_cleanup  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def lab(tmp_path_factory, small_svs):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    base = tmp_path_factory.mktemp("lab")
    server = Lab(base)
    # a copy in the lab's root (temporary, never in the repository): the extension serves only
    # files under its root
    slides = server.root / "slides"
    slides.mkdir(parents=True)
    shutil.copy(small_svs, slides / small_svs.name)
    series = small_svs.parents[1] / "ome_tiff" / "4D-series.ome.tiff"
    if series.exists():
        shutil.copy(series, slides / series.name)
    (server.root / "viewer.ipynb").write_text(notebook_json("v"))
    server.start()
    yield server
    server.stop()


# One Chromium per test module, not per session: while Playwright's sync API is alive it marks
# its loop as running in this thread, which would break every asyncio test collected after these.
@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Notebook:
    """The open notebook page, its kernel, and helpers to talk to the viewer on the page."""

    def __init__(self, page, kernel: Kernel, lab: Lab):
        self.page = page
        self.kernel = kernel
        self.lab = lab

    def show(self, code: str, settle: bool = True) -> None:
        """Create ``v`` in the kernel with ``code``, then run the notebook cell that shows it."""
        self.kernel.run(code)
        cell = self.page.locator(".jp-Notebook .jp-Cell").first
        cell.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Shift+Enter")
        if settle:
            self.wait_ready()

    def wait_ready(self, timeout: float = 60_000) -> None:
        self.page.wait_for_function(
            "() => { const vs = [...(globalThis.__exactLabViewers ?? [])]; const v = vs[vs.length - 1];"
            " return v && v.root.isConnected && v.session.store.complete && v.source; }",
            timeout=timeout,
        )

    def js(self, expr: str, arg=None, which: int = -1):
        """Evaluate ``expr`` with ``v`` bound to a viewer on the page (the newest by default)."""
        return self.page.evaluate(
            "([expr, arg, which]) => { const vs = [...globalThis.__exactLabViewers]; const v = vs.at(which);"
            " return (new Function('v', 'arg', 'return (' + expr + ')'))(v, arg); }",
            [expr, arg, which],
        )

    def to_page(self, x: float, y: float, which: int = -1) -> tuple[float, float]:
        """Page coordinates of level-0 image pixel (x, y)."""
        return tuple(self.js(
            "(() => { const r = v.root.querySelector('.xl-canvas').getBoundingClientRect();"
            " const [sx, sy] = v.camera.toScreen(arg[0], arg[1]); return [r.left + sx, r.top + sy]; })()",
            [x, y], which,
        ))

    def goto(self, x: float, y: float, scale: float) -> None:
        """Move the view from the kernel and wait until the browser is there."""
        self.kernel.run(f"v.goto({x}, {y}, zoom={scale})")
        self.page.wait_for_function(
            "([x, y, s]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
            " return Math.abs(v.camera.cx - x) < 1e-6 && Math.abs(v.camera.cy - y) < 1e-6 && Math.abs(v.camera.scale - s) < 1e-9; }",
            arg=[x, y, scale], timeout=10_000)
        self.page.wait_for_timeout(100)

    def drag(self, points, steps: int = 4, modifiers=(), which: int = -1) -> None:
        """Press at the first image point, move through the others, release at the last."""
        m = self.page.mouse
        for key in modifiers:
            self.page.keyboard.down(key)
        m.move(*self.to_page(*points[0], which=which))
        m.down()
        for p in points[1:]:
            m.move(*self.to_page(*p, which=which), steps=steps)
        m.up()
        for key in modifiers:
            self.page.keyboard.up(key)

    def click(self, x: float, y: float, modifiers=(), which: int = -1) -> None:
        for key in modifiers:
            self.page.keyboard.down(key)
        self.page.mouse.click(*self.to_page(x, y, which=which))
        for key in modifiers:
            self.page.keyboard.up(key)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def screenshot(self, name: str) -> Path:
        path = screenshot_path(name)
        self.page.locator(".xl-root").last.screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def notebook(lab, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(f"{lab.url}lab/tree/viewer.ipynb?token={lab.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # wait for the kernel to be idle before talking to it
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], .jp-Toolbar-kernelStatus", timeout=90_000)
    kernel = lab.kernel_client("viewer.ipynb")
    yield Notebook(page, kernel, lab)
    kernel.close()
    context.close()
