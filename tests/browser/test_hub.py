"""A real JupyterHub with two users on one team project (PostgreSQL catalog, shared data folder):
each user's kernel is that user without typing a name, alice's box reaches bob's viewer within
two seconds, tiles and metadata come through each user's ``/user/<name>/exact-lab/`` routes, and
bob's browser session is refused alice's tiles.

One Hub for the module (starting it and two servers is most of the time these tests take)."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hubserver import CHP, Hub, UserPage
from labserver import CHROMIUM, CHROMIUM_ARGS, notebook_json

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.slow]

USERS = ("alice", "bob")
# What every user's notebook runs: no user name anywhere, the Hub says who they are.
OPEN_TEAM_PROJECT = """
import os, exact_lab as xl
proj = xl.open_project(os.environ["EXACT_LAB_CATALOG"], data=os.environ["EXACT_LAB_DATA"])
iid = int(proj.images()["image_id"][0])
v = proj.viewer(iid, height="480px")
"""
TIMES: dict[str, float] = {}


@pytest.fixture(scope="module")
def hub(postgres_server, small_svs):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    if not CHP.exists():
        pytest.skip(f"{CHP} is missing (make setup installs configurable-http-proxy from npm)")
    import exact_lab as xl
    from exact_lab.team import init_team

    t0 = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="exact-lab-hub-"))
    base.chmod(0o755)  # the shared folder inside must be reachable by every member (team init checks)
    root, data = base / "srv", base / "srv" / "exact-data"
    (root / "slides").mkdir(parents=True)
    shutil.copy(small_svs, root / "slides" / small_svs.name)
    for user in USERS:
        (root / "users" / user).mkdir(parents=True)
        (root / "users" / user / "viewer.ipynb").write_text(notebook_json("v"))
    catalog = f"postgresql://{postgres_server.user}@127.0.0.1:{postgres_server.port}/hub_team"
    init_team(catalog, str(data), team="lab", admin="alice")
    with xl.open_project(catalog, data=str(data), user="alice") as proj:
        proj.add_member("lab", "bob", "member")
        proj.add_annotation_type("cell", "box")
        proj.add_images([root / "slides" / small_svs.name])
    server = Hub(base, catalog=catalog, data=data, root=root, users=USERS)
    server.start()
    for user in USERS:
        server.start_server(user)
    TIMES["hub and servers up"] = time.monotonic() - t0
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(hub):
    from playwright.sync_api import sync_playwright

    t0 = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        out = {}
        for user in USERS:
            context = browser.new_context(viewport={"width": 1200, "height": 900})  # one session per user
            page = context.new_page()
            page.goto(f"{hub.url}hub/login")
            page.fill("#username_input", user)
            page.fill("#password_input", "any")
            page.click("#login_submit")
            page.wait_for_url("**/user/**", timeout=60_000)
            notebook = f"users/{user}/viewer.ipynb"
            page.goto(f"{hub.url}user/{user}/lab/tree/{notebook}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
            kernel = hub.kernel_client(user, notebook)
            out[user] = UserPage(user, context, page, kernel)
        for user_page in out.values():
            user_page.kernel.run(OPEN_TEAM_PROJECT)
            user_page.run_cell()
        for user_page in out.values():
            user_page.wait_ready()
            user_page.goto(1000, 1000, 1.0)
        TIMES["log in, open notebooks, show viewers"] = time.monotonic() - t0
        yield out
        for user_page in out.values():
            user_page.kernel.close()
            user_page.context.close()
        browser.close()
    print("\nJupyterHub test timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMES.items()))


def test_each_kernel_is_its_hub_user_without_a_name_typed(pages):
    for user, page in pages.items():
        assert page.kernel.value("[proj.user, os.environ['JUPYTERHUB_USER'], proj.info()['mode']]") == [user, user, "team"]
    assert pages["alice"].kernel.value("sorted(proj.memberships()['username'])") == ["alice", "bob"]


def test_tiles_and_metadata_load_through_the_users_prefix(hub, pages):
    for user, page in pages.items():
        assert page.kernel.wait("v.transport_active == 'server'", timeout=20), page.kernel.value("v.transport_active")
        tiles = page.page.evaluate(
            "() => performance.getEntriesByType('resource').map(e => e.name).filter(u => u.includes('/exact-lab/dz/'))")
        assert tiles, f"{user}'s viewer fetched no tile over HTTP"
        assert all(t.startswith(f"{hub.url}user/{user}/exact-lab/dz/slides/") for t in tiles), tiles[:3]
        assert page.js("v.tileStats.loaded") > 0
        info = page.context.request.get(f"{hub.url}user/{user}/exact-lab/info/slides/CMU-1-Small-Region.svs")
        assert info.status == 200, info.text()[:300]
        assert info.json()["width"] == 2220


def test_alice_draws_a_box_and_bob_sees_it_within_two_seconds(pages):
    alice, bob = pages["alice"], pages["bob"]
    before = bob.js("v.session.store.count('t:1')")
    alice.page.locator(".xl-root button[data-tool='box']").last.click()
    alice.drag([(950, 950), (1000, 980), (1050, 1010)])
    t0 = time.monotonic()
    wall0 = time.time()
    bob.page.wait_for_function(f"() => [...globalThis.__exactLabViewers].at(-1).session.store.count('t:1') === {before + 1}",
                               timeout=15_000, polling=50)
    delay = time.monotonic() - t0
    committed = bob.kernel.value("proj.snapshots().iloc[-1]['snapshot_time'].timestamp()")
    TIMES["alice's box in bob's viewer"] = delay
    TIMES["of which until alice's commit"] = committed - wall0
    # The goal is 2 s: 1.18 s on a quiet machine (docs/deploy.md), 3.2 s under a load average of ~12;
    # the figure is printed, not asserted. The wait above (15 s) fails a watch that does not work.
    print(f"\nalice's box reached bob's viewer in {delay:.2f} s (goal 2 s), {committed - wall0:.2f} s of it until the commit")
    row = bob.kernel.value("proj.annotations(image=iid).iloc[-1][['creator', 'xmin', 'xmax']].tolist()")
    assert row[0] == "alice" and abs(row[1] - 950) < 2 and abs(row[2] - 1050) < 2, row


def test_bobs_session_is_refused_alices_tiles(hub, pages):
    alice_tiles = [t for t in pages["alice"].page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => e.name)") if "/exact-lab/dz/" in t]
    assert alice_tiles
    own = pages["alice"].context.request.get(alice_tiles[0])
    assert own.status == 200 and own.headers["content-type"].startswith("image/")
    for url in (alice_tiles[0], f"{hub.url}user/alice/exact-lab/info/slides/CMU-1-Small-Region.svs"):
        refused = pages["bob"].context.request.get(url)
        assert refused.status == 403, (url, refused.status, refused.text()[:200])
