"""Tiles keep arriving through the server extension while a kernel is busy running a cell: a real
``jupyter server`` process, a real kernel started over its REST API and told to sleep."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import pytest
from tornado.httpclient import AsyncHTTPClient
from tornado.websocket import websocket_connect

from .conftest import CMU

SLEEP = 6.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter_server(tmp_path, slides_dir, slide_cache):
    source = slides_dir / CMU
    if not source.exists():
        pytest.skip(f"{source} is missing")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(source, root / source.name)
    port, token = free_port(), uuid.uuid4().hex
    env = dict(os.environ, EXACT_LAB_CACHE=str(slide_cache), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
         '--ServerApp.jpserver_extensions={"exact_lab": True}'],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("jupyter server did not start:\n" + (tmp_path / "server.log").read_text()[-3000:])
            time.sleep(0.1)
    yield base, token, source.name
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def execute_request(code: str, session: str) -> tuple[str, str]:
    msg_id = uuid.uuid4().hex
    message = {
        "header": {"msg_id": msg_id, "username": "test", "session": session, "msg_type": "execute_request",
                   "version": "5.3", "date": ""},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }
    return msg_id, json.dumps(message)


async def test_tiles_arrive_while_the_kernel_sleeps(jupyter_server):
    base, token, name = jupyter_server
    auth = {"Authorization": f"token {token}"}
    client = AsyncHTTPClient()
    status = await client.fetch(f"{base}/api/status", headers=auth, request_timeout=30)
    assert status.code == 200
    kernel = json.loads((await client.fetch(f"{base}/api/kernels", method="POST", body="{}", headers=auth,
                                            request_timeout=60)).body)
    ws = await websocket_connect(f"{base.replace('http', 'ws')}/api/kernels/{kernel['id']}/channels?token={token}")
    try:
        msg_id, request = execute_request(f"import time; time.sleep({SLEEP})", uuid.uuid4().hex)
        await ws.write_message(request)
        # wait until the kernel has started the cell
        while True:
            msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
                break
        started = time.monotonic()
        urls = [f"{base}/exact-lab/dz/{name}_files/{level}/{col}_{row}.jpeg"
                for level, col, row in [(12, c, r) for c in range(5) for r in range(5)] + [(11, 0, 0), (11, 1, 1),
                                                                                         (10, 0, 0), (9, 0, 0), (12, 0, 0)]]
        assert len(urls) == 30
        responses = []
        for url in urls:  # one after another, as a viewer panning would
            responses.append(await client.fetch(url, headers=auth, request_timeout=SLEEP))
        elapsed = time.monotonic() - started
        assert all(r.code == 200 and r.body[:2] == b"\xff\xd8" for r in responses)
        assert elapsed < SLEEP / 2, f"30 tiles took {elapsed:.2f} s while the kernel slept"
        # the kernel was busy all along: its cell has not finished yet
        replies = []
        while True:
            try:
                msg = json.loads(await asyncio.wait_for(ws.read_message(), 0.05))
            except asyncio.TimeoutError:
                break
            replies.append(msg["msg_type"])
        assert "execute_reply" not in replies
        assert time.monotonic() - started < SLEEP
        # and it does finish afterwards
        while True:
            msg = json.loads(await asyncio.wait_for(ws.read_message(), SLEEP + 30))
            if msg["msg_type"] == "execute_reply" and msg["parent_header"].get("msg_id") == msg_id:
                assert msg["content"]["status"] == "ok"
                break
    finally:
        ws.close()
        await client.fetch(f"{base}/api/kernels/{kernel['id']}", method="DELETE", headers=auth, raise_error=False)
