"""Turn-taking of writers (exact_lab/store/turns.py): arrival order, kills, deadline."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from exact_lab.store.turns import FileTurns, TurnTimeoutError


def _queued(folder) -> int:
    return FileTurns(folder).waiting()


def _tail(folder) -> str:
    from exact_lab.store.turns import TAIL

    try:
        return (folder / TAIL).read_text()
    except FileNotFoundError:
        return ""


def _wait_until(predicate, timeout=120.0):  # a new process imports exact_lab: slow under load
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def _hold_in_process(folder) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import time
        from exact_lab.store.turns import FileTurns
        with FileTurns({str(folder)!r}).turn(60):
            print("holding", flush=True)
            time.sleep(600)
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    return holder


def test_writers_get_their_turn_in_arrival_order(tmp_path):
    folder = tmp_path / "turns"
    order, threads = [], []
    holder = FileTurns(folder)
    with holder.turn(30):
        for k in range(6):
            def take(k=k):
                with FileTurns(folder).turn(30):
                    order.append(k)
            tail = _tail(folder)
            thread = threading.Thread(target=take)
            thread.start()
            threads.append(thread)
            _wait_until(lambda k=k: _queued(folder) == k + 2)  # k+1 waiting plus the holder
            # a node is locked a moment before it joins the queue's tail: arrival is the tail's change
            _wait_until(lambda tail=tail: _tail(folder) != tail)
        time.sleep(0.1)
        assert order == []  # nobody went while the turn was held
    for thread in threads:
        thread.join(30)
    assert order == list(range(6))


def test_a_killed_holder_hands_the_turn_on(tmp_path):
    folder = tmp_path / "turns"
    holder = _hold_in_process(folder)
    threading.Timer(0.5, holder.send_signal, [signal.SIGKILL]).start()
    start = time.monotonic()
    with FileTurns(folder).turn(30):
        waited = time.monotonic() - start
    holder.wait()
    assert 0.4 < waited < 10


def test_a_waiter_killed_in_the_queue_is_skipped_without_breaking_the_order(tmp_path):
    folder = tmp_path / "turns"
    got = threading.Event()
    first = FileTurns(folder)
    with first.turn(30):
        code = f"from exact_lab.store.turns import FileTurns\nwith FileTurns({str(folder)!r}).turn(60): pass"
        doomed = subprocess.Popen([sys.executable, "-c", code])
        _wait_until(lambda: _queued(folder) == 2)

        def last():
            with FileTurns(folder).turn(30):
                got.set()
        thread = threading.Thread(target=last)
        thread.start()
        _wait_until(lambda: _queued(folder) == 3)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        time.sleep(0.3)
        assert not got.is_set()  # the dead waiter's successor still waits for the holder
    thread.join(30)
    assert got.is_set()


def test_the_deadline_names_how_many_writers_were_queued(tmp_path):
    folder = tmp_path / "turns"
    holder = _hold_in_process(folder)
    try:
        with pytest.raises(TurnTimeoutError, match=r"2 writers were queued or committing.*process \d+"):
            with FileTurns(folder).turn(0.3):
                pass
    finally:
        holder.kill()
        holder.wait()
    with FileTurns(folder).turn(10):  # the timed-out waiter left the queue cleanly
        pass


def test_a_thread_holding_the_turn_may_ask_again(tmp_path):
    turns = FileTurns(tmp_path / "turns")
    with turns.turn(5):
        with turns.turn(5):  # would wait for itself forever without re-entry
            assert turns.depth == 2
    assert turns.depth == 0


# -- team catalogs: the advisory lock ---------------------------------------------------------
def _team_writer(location: str, data: str, image_id: int, name: str) -> subprocess.Popen:
    """A writer process (a script's main thread, the project's own threads beside it): on "go"
    it adds one row, then prints its name and the CPU that call took."""
    code = textwrap.dedent(f"""
        import sys, time, shapely, exact_lab as xl
        proj = xl.open_project({location!r}, data={data!r}, user={name!r})
        print("ready", flush=True)
        sys.stdin.readline()
        start = time.process_time()
        proj.add_annotations({{"image_id": {image_id}, "type": "cell", "geometry": shapely.box(0, 0, 5, 5),
                               "description": {name!r}}})
        print({name!r}, time.process_time() - start, flush=True)
        proj.close()
    """)
    writer = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "ready"
    return writer


def _go(writer: subprocess.Popen) -> None:
    writer.stdin.write("go\n")
    writer.stdin.flush()


def test_team_writers_wait_for_their_turn_asleep_and_in_order(team_catalog, small_svs):
    """Writers queue on PostgreSQL's advisory lock and are granted in arrival order; a waiting
    writer sleeps (with the lock taken through DuckDB's postgres_execute, the second writer spent
    3.3 s of CPU in this test, starving the one committing), and the deadline names how many were queued."""
    import psycopg

    import exact_lab as xl
    from exact_lab.store.turns import PG_TURN_KEY, PostgresTurns

    location, data = team_catalog
    proj = xl.open_project(location, data=data, user="setup")
    proj.add_annotation_type("cell", "box")
    image_id = int(proj.add_images([small_svs])["image_id"].iloc[0])
    proj.close()
    first = _team_writer(location, data, image_id, "first")
    second = _team_writer(location, data, image_id, "second")
    with psycopg.connect(location) as holder:  # the turn, held by hand
        holder.execute("SELECT pg_advisory_xact_lock(%s)", [PG_TURN_KEY])
        counter = PostgresTurns(location)
        _go(first)
        _wait_until(lambda: counter.waiting() >= 2)  # the holder and the first writer
        _go(second)
        _wait_until(lambda: counter.waiting() >= 3)
        with pytest.raises(TurnTimeoutError, match="3 writers were queued or committing"):
            with counter.turn(0.5):
                pass
        time.sleep(3.0)  # both wait behind the holder
        holder.rollback()
    lines = [w.communicate(timeout=120)[0].split() for w in (first, second)]
    counter.close()
    assert [line[0] for line in lines] == ["first", "second"]
    spent = [float(line[1]) for line in lines]
    assert max(spent) < 1.0, f"waiting 3 s for a turn burned {spent} s of CPU"
    proj = xl.open_project(location, data=data, user="check", read_only=True)
    assert sorted(proj.annotations()["description"]) == ["first", "second"]
    proj.close()
