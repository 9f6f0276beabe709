"""One timer thread for many deadlines.

The comm fallback gives every tile request a timeout. A ``threading.Timer`` per request would start
a thread per tile (a viewer asks for dozens at once); this keeps them in one heap instead.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable


class Deadlines:
    def __init__(self, name: str = "exact-lab-deadlines"):
        self._heap: list = []  # (due, handle); a handle no longer in _actions was cancelled
        self._actions: dict[int, Callable[[], None]] = {}
        self._ids = itertools.count()
        self._cond = threading.Condition()
        self._name = name
        self._thread: threading.Thread | None = None

    def schedule(self, delay: float, action: Callable[[], None]) -> int:
        """Run ``action`` on the timer thread after ``delay`` seconds unless cancelled; returns a handle."""
        handle = next(self._ids)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, handle))
            self._actions[handle] = action
            if self._thread is None:  # started on first use: importing must not start threads
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify()
        return handle

    def cancel(self, handle: int) -> None:
        with self._cond:
            self._actions.pop(handle, None)

    def __len__(self) -> int:
        with self._cond:
            return len(self._actions)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    # Drop cancelled entries at the top so they never delay the wait.
                    while self._heap and self._heap[0][1] not in self._actions:
                        heapq.heappop(self._heap)
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        action = self._actions.pop(heapq.heappop(self._heap)[1])
                        break
                    self._cond.wait(self._heap[0][0] - now if self._heap else None)
            try:
                action()
            except Exception:  # an action's failure must not stop every later deadline
                import logging

                logging.getLogger(__name__).exception("deadline action failed")
