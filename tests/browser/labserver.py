"""A JupyterLab server for browser tests and benchmarks, and a client of a notebook's kernel.

Used by ``tests/browser/conftest.py`` and by ``benchmarks/viewer.py``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Software WebGL 2 (SwiftShader through ANGLE): what headless Chromium has on a machine without GPU.
# No --disable-gpu: with it the page is composited in software, and every WebGL frame is read back
# from the GPU process while the page waits (a trace of a million cells arriving: 17 ReadPixels,
# 574 ms of the main thread); composited in the GPU process, as a browser with a GPU does, the
# million cells were drawn in 4.18-4.65 s instead of 5.27 s; the 49 browser tests pass the same.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--use-gl=angle", "--use-angle=swiftshader",
                 "--enable-unsafe-swiftshader"]


def screenshot_path(name: str) -> Path:
    """Where a browser test saves a screenshot: docs/img when EXACT_LAB_DOCS_SCREENSHOTS=1 (to renew
    the documentation's pictures), else a folder of this run's, so a test run leaves the checkout
    as it found it."""
    if os.environ.get("EXACT_LAB_DOCS_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parents[2] / "docs" / "img"
    else:
        folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"exact-lab-screenshots-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def notebook_json(source: str = "v") -> str:
    """A one-cell notebook whose cell shows ``v``."""
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "show", "metadata": {}, "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect_kernel(sessions, runtime: Path, notebook: str, wait: float) -> Kernel:
    """A blocking client of the kernel that runs ``notebook``, once the server lists it in
    ``sessions()`` and its connection file is in ``runtime``."""
    from jupyter_client import BlockingKernelClient

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = [s for s in sessions() if s["path"] == notebook and s.get("kernel")]
        if found:
            conn = runtime / f"kernel-{found[0]['kernel']['id']}.json"
            if conn.exists():
                client = BlockingKernelClient(connection_file=str(conn))
                client.load_connection_file()
                client.start_channels()
                try:
                    client.wait_for_ready(timeout=60)
                except RuntimeError:
                    # "Kernel died before replying": a heartbeat not answered within its first
                    # second, seen on a loaded machine right after the kernel started; retry
                    client.stop_channels()
                    time.sleep(1.0)
                    continue
                return Kernel(client)
        time.sleep(0.3)
    raise RuntimeError(f"no kernel for {notebook}")


class Lab:
    """A JupyterLab server process with its own root, settings and runtime folders."""

    def __init__(self, base: Path, *, app: str = "jupyterlab", args=(), env=None):
        """``app``: the server's module (``jupyterlab``, or ``notebook`` for Notebook 7); ``args``
        and ``env`` are added to its command line and environment."""
        self.base = base
        self.app = app
        self.args = list(args)
        self.env = dict(env or {})
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
               "JUPYTERLAB_WORKSPACES_DIR": str(self.base / "workspaces"), "PYTHONUNBUFFERED": "1", **self.env}
        log = open(self.base / "lab.log", "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.app, "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
             f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.root}", "--ServerApp.open_browser=False",
             "--allow-root", *(["--LabApp.news_url="] if self.app == "jupyterlab" else []), *self.args],
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
        return connect_kernel(lambda: self.api("api/sessions"), self.runtime, notebook, wait=60)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Execution:
    """One execute request: its stdout and errors, and whether the kernel has finished it (its own
    idle status, not the server's execution state, which other clients' messages also move)."""

    def __init__(self, kernel: Kernel, msg_id: str, messages):
        self.kernel, self.msg_id, self.messages = kernel, msg_id, messages
        self.out: list[str] = []
        self.err: str | None = None
        self.finished = False

    def _take(self, msg) -> None:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            self.out.append(content["text"])
        elif kind == "error":
            self.err = "\n".join(content["traceback"])
        elif kind == "status" and content["execution_state"] == "idle":
            self.finished = True
            with self.kernel.lock:
                self.kernel.replies.pop(self.msg_id, None)

    def done(self) -> bool:
        """Whether the kernel has finished this execution (does not wait)."""
        import queue

        while not self.finished:
            try:
                self._take(self.messages.get_nowait())
            except queue.Empty:
                break
        return self.finished

    def wait(self, timeout: float = 60) -> str:
        """Wait until it finishes; returns its stdout. Raises with the traceback on error."""
        import queue

        deadline = time.monotonic() + timeout
        try:
            while not self.finished:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"kernel did not finish in {timeout} s")
                try:
                    self._take(self.messages.get(timeout=left))
                except queue.Empty:
                    continue
        finally:
            with self.kernel.lock:
                self.kernel.replies.pop(self.msg_id, None)
        if self.err:
            raise RuntimeError(self.err)
        return "".join(self.out)


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

    def start(self, code: str) -> Execution:
        """Send code to the kernel and return at once; the Execution collects its messages."""
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
        return Execution(self, msg_id, q)

    def run(self, code: str, timeout: float = 60) -> str:
        """Execute code; returns its stdout. Raises with the traceback on error."""
        return self.start(code).wait(timeout)

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
