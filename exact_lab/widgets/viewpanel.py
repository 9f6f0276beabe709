"""The panel beside the slide: what ``viewer.on_view`` callbacks return, shown as the view moves.

Plain Python (testable without a browser): the viewer hands it each new view; after ``debounce``
seconds without another, the callbacks run in a timer thread (a store query is ~30 ms, a figure
more: panning itself never waits for them) and their results become the HTML of the ``_panel``
trait. A callback gets a dict: image_id, frame, bounds (level-0 x0 y0 x1 y1), scale, and
``annotations`` (those intersecting the view, from the store's viewport query; None without a
project). It returns text, a DataFrame, a matplotlib figure, HTML (an object with
``_repr_html_``), or None for nothing.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import threading

import pandas as pd

log = logging.getLogger(__name__)
DEBOUNCE_S = 0.3


def render(value) -> str:
    """A callback's return value as HTML."""
    if value is None:
        return ""
    if hasattr(value, "savefig"):  # a matplotlib figure
        buffer = io.BytesIO()
        value.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
        try:
            import matplotlib.pyplot as plt

            plt.close(value)  # figures made per view must not pile up
        except ImportError:
            pass
        data = base64.b64encode(buffer.getvalue()).decode()
        return f"<img class='xl-panel-figure' alt='figure' src='data:image/png;base64,{data}'>"
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.to_frame().to_html() if isinstance(value, pd.Series) else value.to_html(max_rows=30)
    if hasattr(value, "_repr_html_"):
        return value._repr_html_()
    return f"<pre>{html.escape(str(value))}</pre>"


class ViewPanel:
    def __init__(self, publish, query, debounce: float = DEBOUNCE_S):
        self._publish = publish  # publish(html)
        self._query = query      # query(bounds, frame) -> annotations DataFrame or None
        self.debounce = debounce
        self.callbacks: list = []
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._running = threading.Lock()  # one refresh at a time: a timer's and an explicit one
        self._latest: dict | None = None
        self.last_html = ""
        self.runs = 0

    def add(self, callback) -> None:
        self.callbacks.append(callback)

    def remove(self, callback) -> None:
        if callback in self.callbacks:
            self.callbacks.remove(callback)

    def view_changed(self, view: dict) -> None:
        """A new view (image_id, frame, bounds, scale): run the callbacks once it rests."""
        if not self.callbacks or not view.get("bounds"):
            return
        with self._lock:
            self._latest = view
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.debounce, self.refresh)
            self._timer.daemon = True
            self._timer.start()

    def refresh(self) -> str:
        """Run the callbacks on the latest view now; returns the HTML published."""
        with self._lock:
            view = self._latest
            if self._timer is not None and self._timer is not threading.current_thread():
                self._timer.cancel()
        if view is None or not self.callbacks:
            return self.last_html
        with self._running:
            return self._run(view)

    def _run(self, view: dict) -> str:
        view = dict(view, annotations=self._query(view["bounds"], view.get("frame", 0)))
        parts = []
        for callback in list(self.callbacks):
            try:
                parts.append(render(callback(view)))
            except Exception as exc:  # a broken callback shows its error in the panel, panning goes on
                log.exception("exact-lab: on_view callback failed")
                parts.append(f"<pre class='xl-panel-error'>{html.escape(type(exc).__name__ + ': ' + str(exc))}</pre>")
        text = "".join(f"<div class='xl-panel-part'>{p}</div>" for p in parts if p)
        self.runs += 1
        self.last_html = text
        self._publish(text)
        return text

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
