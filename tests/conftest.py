"""Fixtures shared by the whole suite: the real test data, fresh projects, a PostgreSQL server."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

# pytest-jupyter's jp_* fixtures (server-extension tests); plugins may only be named here.
pytest_plugins = ["pytest_jupyter.jupyter_server"]

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the project; tests using it skip on a clone without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real test data not present at {SHARED_DATA} (a fresh clone elsewhere)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def small_svs(shared_data) -> Path:
    path = shared_data / "slides" / "aperio" / "CMU-1-Small-Region.svs"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="session", autouse=True)
def slide_cache(tmp_path_factory):
    """Built levels and converted pyramids go to a folder of this test run, not ~/.cache (and not
    to the per-test HOME that pytest-jupyter sets)."""
    folder = tmp_path_factory.mktemp("exact-lab-cache")
    old = os.environ.get("EXACT_LAB_CACHE")
    os.environ["EXACT_LAB_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("EXACT_LAB_CACHE", None)
    else:
        os.environ["EXACT_LAB_CACHE"] = old


@pytest.fixture
def project(tmp_path):
    import exact_lab as xl

    proj = xl.open_project(tmp_path / "project", user="alice")
    yield proj
    proj.close()


# -- PostgreSQL for team mode -------------------------------------------------------------------
def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback, owned by the test run."""

    def __init__(self, base: Path):
        self.bin = _pg_bin()
        self.base = base
        self.data = base / "cluster"
        self.sockets = base / "sockets"
        self.port = _free_port()
        self.as_user: list[str] = []
        self.user = "exactlab"
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            pwd.getpwnam("postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args, **kw):
        return subprocess.run(self.as_user + [str(a) for a in args], check=True, capture_output=True, text=True, **kw)

    def start(self) -> None:
        self.sockets.mkdir(parents=True)
        self.data.mkdir(parents=True)
        if self.as_user:
            os.chmod(self.base, 0o777)
            shutil.chown(self.data, "postgres")
            shutil.chown(self.sockets, "postgres")
        self._run(self.bin / "initdb", "-D", self.data, "-U", self.user, "--auth=trust", "-E", "UTF8")
        self._run(
            self.bin / "pg_ctl", "-D", self.data, "-w", "-t", "60", "-l", self.data / "server.log",
            "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c max_connections=100",
            "start",
        )

    def create_database(self) -> str:
        name = "t_" + uuid.uuid4().hex[:10]
        self._run(self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", self.user, name)
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        try:
            self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "stop")
        except subprocess.CalledProcessError:
            pass


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    if _pg_bin() is None:
        pytest.skip("PostgreSQL server binaries not installed (scripts/system-deps.sh installs them)")
    # Not under pytest's tmp root: that is private to this user, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="exact-lab-pg-"))
    server = PostgresServer(base)
    try:
        server.start()
    except (subprocess.CalledProcessError, KeyError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        pytest.fail(f"could not start PostgreSQL: {detail}")
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def team_catalog(postgres_server, tmp_path):
    """(catalog URL, shared data folder) of a fresh team project."""
    return postgres_server.create_database(), str(tmp_path / "shared-data")


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
