"""proj.watch: told of every change to an image's annotations, from this kernel or another."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from shapely.geometry import box


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
