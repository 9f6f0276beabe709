"""A real JupyterHub for the team tests: configurable-http-proxy (npm, in .hub/), the dummy
authenticator, the simple local-process spawner, a PostgreSQL team catalog and one shared folder.

Every user's single-user server runs this checkout's Python with exact-lab installed, its root
the shared folder (so the server extension may serve the shared slides), and gets the team's
catalog and data path through its environment: a kernel opens the team project as
``JUPYTERHUB_USER`` without anyone typing a user name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from labserver import Kernel, _free_port, connect_kernel

REPO = Path(__file__).resolve().parents[2]
CHP = REPO / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"

CONFIG = """
import sys
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.db_url = "sqlite:///{base}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{base}/cookie_secret"
c.JupyterHub.pid_file = "{base}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set({users!r})
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--allow-root", "--ServerApp.root_dir={root}", "--LabApp.news_url="]
c.Spawner.notebook_dir = "{root}"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.SimpleLocalProcessSpawner.home_dir_template = "{base}/home/{{username}}"
c.Spawner.environment = {{
    "EXACT_LAB_CATALOG": {catalog!r},
    "EXACT_LAB_DATA": {data!r},
    "EXACT_LAB_CACHE": {cache!r},
    "JUPYTERLAB_SETTINGS_DIR": "{base}/settings",
    "JUPYTER_RUNTIME_DIR": lambda spawner: "{base}/runtime/" + spawner.user.name,
    "PYTHONUNBUFFERED": "1",
}}
c.JupyterHub.services = [{{"name": "tests", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "tests", "services": ["tests"],
    "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users", "tokens"],
}}]
"""


class Hub:
    """One JupyterHub process with its proxy; ``users`` may log in with any password."""

    def __init__(self, base: Path, *, catalog: str, data: Path, root: Path, users=("alice", "bob")):
        self.base = base
        self.catalog = catalog
        self.data = data
        self.root = root
        self.users = list(users)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.token = uuid.uuid4().hex
        self.proc = None

    def start(self, timeout: float = 90) -> None:
        if not CHP.exists():
            raise FileNotFoundError(f"{CHP} is missing: make setup installs configurable-http-proxy with npm")
        settings = self.base / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        singleuser = str(Path(sys.executable).parent / "jupyterhub-singleuser")
        config = CONFIG.format(
            port=self.port, hub_port=_free_port(), proxy_api_port=_free_port(), chp=str(CHP), base=self.base,
            users=self.users, singleuser=singleuser, root=self.root, catalog=self.catalog, data=str(self.data),
            cache=os.environ.get("EXACT_LAB_CACHE", str(self.base / "cache")), token=self.token,
        )
        (self.base / "jupyterhub_config.py").write_text(config)
        log = open(self.base / "hub.log", "w")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(self.base / "jupyterhub_config.py")],
                                     cwd=self.base, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited: {self.log()[-3000:]}")
            try:
                self.api("hub/api/")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterHub did not answer in {timeout} s: {self.log()[-3000:]}")

    def log(self) -> str:
        return (self.base / "hub.log").read_text(errors="replace")

    def api(self, path: str, method: str = "GET", body=None, token: str | None = None):
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {token or self.token}"},
                                     data=json.dumps(body).encode() if body is not None else None)
        with urllib.request.urlopen(req, timeout=30) as res:
            data = res.read()
        return json.loads(data) if data else None

    def start_server(self, user: str, timeout: float = 120) -> None:
        """Spawn ``user``'s single-user server and wait until it answers through the proxy."""
        try:
            self.api(f"hub/api/users/{user}", method="POST", body={})
        except urllib.error.HTTPError as exc:
            if exc.code != 409:  # exists already
                raise
        try:
            self.api(f"hub/api/users/{user}/server", method="POST", body={})
        except urllib.error.HTTPError as exc:
            if exc.code != 400:  # running already
                raise
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            model = self.api(f"hub/api/users/{user}")
            server = (model.get("servers") or {}).get("", {})
            if server.get("ready"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"{user}'s server did not start in {timeout} s: {self.log()[-3000:]}")

    def user_api(self, user: str, path: str):
        """A request to ``user``'s single-user server through the proxy."""
        return self.api(f"user/{user}/{path}")

    def kernel_client(self, user: str, notebook: str) -> Kernel:
        """A blocking client of the kernel running ``notebook`` in ``user``'s server."""
        return connect_kernel(lambda: self.user_api(user, "api/sessions"), self.base / "runtime" / user,
                              notebook, wait=90)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for user in self.users:  # the spawner's servers are this process's children's children
            try:
                self.api(f"hub/api/users/{user}/server", method="DELETE")
            except OSError:
                pass
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class UserPage:
    """One user's notebook page in their own browser context, and their kernel."""

    def __init__(self, user: str, context, page, kernel: Kernel):
        self.user = user
        self.context = context
        self.page = page
        self.kernel = kernel

    def run_cell(self) -> None:
        """Run the notebook's one cell, which shows ``v``."""
        cell = self.page.locator(".jp-Notebook .jp-Cell").first
        cell.click(position={"x": 5, "y": 5})
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("Shift+Enter")

    def wait_ready(self, timeout: float = 90_000) -> None:
        self.page.wait_for_function(
            "() => { const v = [...(globalThis.__exactLabViewers ?? [])].at(-1);"
            " return v && v.root.isConnected && v.session.store.complete && v.source; }", timeout=timeout)

    def js(self, expr: str, arg=None):
        return self.page.evaluate(
            "([expr, arg]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
            " return (new Function('v', 'arg', 'return (' + expr + ')'))(v, arg); }", [expr, arg])

    def to_page(self, x: float, y: float) -> tuple[float, float]:
        return tuple(self.js(
            "(() => { const r = v.root.querySelector('.xl-canvas').getBoundingClientRect();"
            " const [sx, sy] = v.camera.toScreen(arg[0], arg[1]); return [r.left + sx, r.top + sy]; })()", [x, y]))

    def goto(self, x: float, y: float, scale: float) -> None:
        self.kernel.run(f"v.goto({x}, {y}, zoom={scale})")
        self.page.wait_for_function(
            "([x, y, s]) => { const v = [...globalThis.__exactLabViewers].at(-1);"
            " return Math.abs(v.camera.cx - x) < 1e-6 && Math.abs(v.camera.cy - y) < 1e-6 && Math.abs(v.camera.scale - s) < 1e-9; }",
            arg=[x, y, scale], timeout=15_000)
        self.page.wait_for_timeout(100)

    def drag(self, points, steps: int = 4) -> None:
        mouse = self.page.mouse
        mouse.move(*self.to_page(*points[0]))
        mouse.down()
        for p in points[1:]:
            mouse.move(*self.to_page(*p), steps=steps)
        mouse.up()
