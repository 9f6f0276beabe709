"""The catalog gate: reads together, a commit alone, a waiting commit ahead of new reads."""

from __future__ import annotations

import threading
import time

import pytest
import shapely

from exact_lab.store import catalog_gate
from exact_lab.store.catalog_gate import CatalogGate


@pytest.fixture
def patient(monkeypatch):
    """Waits long enough that the order, not the bound, decides (the bound has a test of its own)."""
    monkeypatch.setattr(catalog_gate, "READ_WAIT", 30.0)
    monkeypatch.setattr(catalog_gate, "WRITE_WAIT", 30.0)


def _wait_until_blocked(thread: threading.Thread, entered: threading.Event, seconds: float = 0.3) -> None:
    entered.wait(seconds)
    assert thread.is_alive() and not entered.is_set()


def test_a_commit_waits_for_reads_under_way_and_new_reads_wait_for_it(tmp_path, patient):
    gate = CatalogGate(tmp_path, create=True)
    order, release_first = [], threading.Event()
    first_in, commit_in, second_in = threading.Event(), threading.Event(), threading.Event()

    def first_reader():
        with gate.reading():
            order.append("first read")
            first_in.set()
            release_first.wait(10)

    def committer():
        with gate.writing():
            order.append("commit")
            commit_in.set()
            time.sleep(0.05)

    def second_reader():
        with gate.reading():
            order.append("second read")
            second_in.set()

    threads = [threading.Thread(target=first_reader)]
    threads[0].start()
    assert first_in.wait(5)
    threads.append(threading.Thread(target=committer))
    threads[1].start()
    _wait_until_blocked(threads[1], commit_in)  # the read under way keeps the commit out
    threads.append(threading.Thread(target=second_reader))
    threads[2].start()
    _wait_until_blocked(threads[2], second_in)  # a new read waits behind the waiting commit
    release_first.set()
    for thread in threads:
        thread.join(10)
    assert order == ["first read", "commit", "second read"]


def test_a_thread_reading_again_passes_a_waiting_commit(tmp_path, patient):
    # waiting at the gate behind a commit that waits for this thread's own read would never end
    gate, other_gate = CatalogGate(tmp_path, create=True), CatalogGate(tmp_path, create=False)
    commit_in, done = threading.Event(), threading.Event()

    def committer():
        with gate.writing():
            commit_in.set()

    with gate.reading():
        thread = threading.Thread(target=committer)
        thread.start()
        _wait_until_blocked(thread, commit_in)

        def nested():
            with other_gate.reading():  # another gate of the same catalog, the same thread
                done.set()

        nested()
        assert done.is_set()
    thread.join(10)
    assert commit_in.is_set()


def test_writers_and_a_reader_of_one_project_use_its_gate(project, small_svs, patient):
    folder = project._store.root / ".exact-lab-turns"
    assert (folder / "catalog-gate").exists() and (folder / "catalog-lock").exists()
    project.add_annotation_type("cell", "box")
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    gate = CatalogGate(folder, create=False)
    added = {}

    def add():
        added["uuids"] = project.add_annotations(
            {"image_id": image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5)})

    with gate.reading():  # a read of another process under way: the commit waits for it
        writer = threading.Thread(target=add)
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and "uuids" not in added
    writer.join(30)
    assert len(added["uuids"]) == 1 and len(project.annotations()) == 1


def test_a_reader_behind_a_commit_that_does_not_end_goes_on(tmp_path, monkeypatch):
    # a commit holding the gate can wait in SQLite for a read lock this reader's own earlier,
    # unread result holds: the reader must not wait at the gate for good
    monkeypatch.setattr(catalog_gate, "READ_WAIT", 0.2)
    gate = CatalogGate(tmp_path, create=True)
    release, read = threading.Event(), threading.Event()

    def stuck_commit():
        with gate.writing():
            release.wait(30)

    committer = threading.Thread(target=stuck_commit)
    committer.start()
    time.sleep(0.1)
    def read_once():
        with gate.reading():
            read.set()

    reader = threading.Thread(target=read_once)
    reader.start()
    reader.join(10)
    assert read.is_set() and committer.is_alive()
    release.set()
    committer.join(10)
