"""proj.watch: told of every change to an image's annotations, from this kernel or another."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest
from shapely.geometry import box

from exact_lab.store.watch import POLL_SECONDS


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def _setup(project, small_svs):
    project.add_annotation_type("cell", "box")
    images = project.add_images([small_svs, small_svs])
    return [int(i) for i in images["image_id"]]


def test_a_commit_of_this_kernel_reaches_the_watch_of_its_image_only(project, small_svs):
    first, second = _setup(project, small_svs)
    heard = []
    project.watch(first, heard.append)
    uuid = project.add_annotations([{"image_id": first, "type": "cell", "geometry": box(0, 0, 5, 5)}])[0]
    project.add_annotations([{"image_id": second, "type": "cell", "geometry": box(0, 0, 5, 5)}])
    assert [list(rows["uuid"]) for rows in heard] == [[uuid]]  # at once, not a second later
    project.delete_annotations([uuid])
    assert len(heard) == 2 and heard[-1]["deleted"].tolist() == [True]


def test_another_process_commit_is_noticed_within_two_seconds(project, small_svs):
    first, _ = _setup(project, small_svs)
    heard = []
    watch = project.watch(first, heard.append)
    script = textwrap.dedent(f"""
        import exact_lab as xl
        from shapely.geometry import box
        p = xl.open_project({str(project.location)!r}, user="bob")
        p.add_annotations([{{"image_id": {first}, "type": "cell", "geometry": box(1, 1, 9, 9)}}])
        p.close()
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert wait_for(lambda: heard, timeout=3), "the other process's commit was not noticed"
    assert heard[0]["creator"].tolist() == ["bob"]
    watch.close()
    project.add_annotations([{"image_id": first, "type": "cell", "geometry": box(2, 2, 4, 4)}])
    assert len(heard) == 1  # closed: nothing more


def test_reads_run_where_schedule_puts_them(project, small_svs):
    first, _ = _setup(project, small_svs)
    queued, heard = [], []
    project.watch(first, heard.append, schedule=queued.append)
    project.add_annotations([{"image_id": first, "type": "cell", "geometry": box(0, 0, 5, 5)}])
    project.add_annotations([{"image_id": first, "type": "cell", "geometry": box(5, 5, 8, 8)}])
    assert len(queued) == 1 and not heard  # one read queued for both commits, none run yet
    queued.pop()()
    assert len(heard) == 1 and len(heard[0]) == 2


def test_a_watch_that_reads_and_writes_during_a_session_commit_does_not_wait_for_itself(project, small_svs):
    first, second = _setup(project, small_svs)
    seen = []

    def copy_to_second(rows):  # what a map viewer does: read, then write other annotations
        seen.append(len(project.annotations(image=first)))
        project.add_annotations([{"image_id": second, "type": "cell", "geometry": box(9, 9, 20, 20)}])

    project.watch(first, copy_to_second)  # outside a kernel the callback runs inside the commit
    project.session.add({"image_id": first, "type": "cell", "geometry": box(0, 0, 5, 5)})
    done = threading.Thread(target=project.flush, daemon=True)
    done.start()
    done.join(20)
    assert not done.is_alive(), "the session's commit waited for its own listener"
    assert seen == [1] and len(project.annotations(image=second)) == 1


LATENCY_SCRIPT = """
import sys, time
import exact_lab as xl
from shapely.geometry import box
location, data, image_id = sys.argv[1], sys.argv[2] or None, int(sys.argv[3])
p = xl.open_project(location, data=data, user="alice")
for i in range(6):
    time.sleep(0.7)
    # the viewer's path: an edit queued in the session, committed by its timer
    p.session.add([{"image_id": image_id, "type": "cell", "geometry": box(i, i, i + 9, i + 9),
                    "description": repr(time.time())}])
time.sleep(3)
p.close()
"""


def _latencies(watcher, location, data, image_id) -> list[float]:
    """Seconds from another process's session.add to this process's watch callback, per edit."""
    seen: dict[str, float] = {}

    def heard(rows):
        now = time.time()
        for description in rows["description"]:
            seen.setdefault(description, now)

    watch = watcher.watch(image_id, heard)
    try:
        subprocess.run([sys.executable, "-c", LATENCY_SCRIPT, str(location), data or "", str(image_id)],
                       check=True, timeout=180)
        wait_for(lambda: len(seen) >= 6, timeout=10)
    finally:
        watch.close()
    return [seen[d] - float(d) for d in sorted(seen, key=float)]


def _report(label: str, latencies: list[float]) -> None:
    import os
    import statistics

    print(f"\n{label}: alice -> bob latency over {len(latencies)} edits: median "
          f"{statistics.median(latencies):.2f} s, worst {max(latencies):.2f} s "
          f"(session first-commit delay + commit + poll {POLL_SECONDS} s + read; "
          f"load average {os.getloadavg()[0]:.1f})")
    assert len(latencies) == 6, "an edit of the other process was never seen"
    assert all(0 < t < 10 for t in latencies)  # seen, and after it was made


def test_latency_between_two_processes_embedded(project, small_svs):
    first, _ = _setup(project, small_svs)
    latencies = _latencies(project, project.location, None, first)
    _report("embedded", latencies)


@pytest.mark.postgres
def test_latency_between_two_processes_team(team_catalog, small_svs):
    import exact_lab as xl

    url, data = team_catalog
    bob = xl.open_project(url, data=data, user="bob")
    try:
        first, _ = _setup(bob, small_svs)
        latencies = _latencies(bob, url, data, first)
        _report("team", latencies)
    finally:
        bob.close()
