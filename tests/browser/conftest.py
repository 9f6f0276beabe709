"""A real JupyterLab (started once per test session) and a headless Chromium driving it.

The lab runs from a temporary root folder holding a copy of the test slide (the server extension
only serves files under its root) and an empty notebook. Tests create viewers and read their
state through a second client of the notebook's kernel; the notebook itself displays them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--use-gl=angle", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader"]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server process with its own root, settings and runtime folders."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "root"
        self.runtime = base / "runtime"
        self.port = _free_port()
        self.token = uuid.uuid4().hex
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        settings = self.base / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        # no news or update pop-ups over the notebook
        (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(self.runtime), "JUPYTERLAB_SETTINGS_DIR": str(self.base / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(self.base / "workspaces"), "PYTHONUNBUFFERED": "1"}
        log = open(self.base / "lab.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
             f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root}", "--ServerApp.open_browser=False",
             "--LabApp.news_url=", "--allow-root"],
            cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {(self.base / 'lab.log').read_text()[-2000:]}")
            try:
                self.api("api/status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("JupyterLab did not start in 90 s")

    def api(self, path: str, method: str = "GET", body=None):
        req = urllib.request.Request(self.url + path, method=method, headers={"Authorization": f"token {self.token}"},
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=10) as res:
            data = res.read()
        return json.loads(data) if data else None

    def kernel_client(self, notebook: str):
        """A blocking client of the kernel that runs ``notebook`` (started by the page)."""
        from jupyter_client import BlockingKernelClient

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sessions = [s for s in self.api("api/sessions") if s["path"] == notebook and s.get("kernel")]
            if sessions:
                conn = self.runtime / f"kernel-{sessions[0]['kernel']['id']}.json"
                if conn.exists():
                    client = BlockingKernelClient(connection_file=str(conn))
                    client.load_connection_file()
                    client.start_channels()
                    client.wait_for_ready(timeout=60)
                    return Kernel(client)
            time.sleep(0.3)
        raise RuntimeError(f"no kernel for {notebook}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Kernel:
    """Runs code in the notebook's kernel from the test and returns values.

    A thread drains the kernel's IOPub stream all the time: the widgets' comm traffic (tiles,
    chunks) goes to every client, and a client that stops reading would have messages dropped
    by ZeroMQ, its own replies among them.
    """

    def __init__(self, client):
        import queue
        import threading

        self.client = client
        self.replies: dict[str, queue.Queue] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        import queue

        while not self.stop.is_set():
            try:
                msg = self.client.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                continue
            except Exception:
                if self.stop.is_set():
                    return
                continue
            with self.lock:
                q = self.replies.get(msg["parent_header"].get("msg_id"))
            if q is not None:
                q.put(msg)

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute code; returns its stdout. Raises with the traceback on error."""
        import queue

        q: queue.Queue = queue.Queue()
        msg_id = self.client.session.msg("execute_request")["header"]["msg_id"]
        with self.lock:
            self.replies[msg_id] = q
        content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}, "allow_stdin": False}
        msg = self.client.session.msg("execute_request", content)
        msg["header"]["msg_id"] = msg_id
        msg["msg_id"] = msg_id
        self.client.shell_channel.send(msg)
        out, err = [], None
        deadline = time.monotonic() + timeout
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"kernel did not finish in {timeout} s: {code[:80]}")
                try:
                    msg = q.get(timeout=left)
                except queue.Empty:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    out.append(content["text"])
                elif kind == "error":
                    err = "\n".join(content["traceback"])
                elif kind == "status" and content["execution_state"] == "idle":
                    break
        finally:
            with self.lock:
                self.replies.pop(msg_id, None)
        if err:
            raise RuntimeError(err)
        return "".join(out)

    def value(self, expr: str, timeout: float = 60):
        """The JSON value of a Python expression evaluated in the kernel."""
        text = self.run(f"import json as _j; print(_j.dumps({expr}, default=str))", timeout)
        return json.loads(text.strip().splitlines()[-1])

    def wait(self, expr: str, timeout: float = 15.0, interval: float = 0.2):
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            value = self.value(expr)
            if value:
                return value
            time.sleep(interval)
        return value

    def close(self):
        self.stop.set()
        self.thread.join(2)
        self.client.stop_channels()


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
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "show", "metadata": {}, "outputs": [],
                     "source": "v"}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    (server.root / "viewer.ipynb").write_text(json.dumps(nb))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
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
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        path = DOCS_IMG / name
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
