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
